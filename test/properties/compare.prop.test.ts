// The comparison (src/analysis/comparison.ts, src/analysis/significance.ts, src/analysis/stats.ts) on odd samples: empty,
// one value, all ties, NaN and Infinity, huge (1e300, and up to Number.MAX_VALUE where the
// results schema allows it), negative, mixed. Outputs are well-formed (p-values in [0, 1] or
// null, medians finite or null, verdicts from the five), symmetric where the statistic is,
// and the only errors are significance.ts's documented RangeErrors for non-finite samples,
// empty samples where a shift is asked for, and p-values outside [0, 1].
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compareResults, comparisonExitCode, headFindings, JUDGED_METRICS, type Verdict } from '../../src/analysis/comparison.js';
import type { MigrationRecord, ResultsFile } from '../../src/generated/results.js';
import type { MetricName } from '../../src/model/metrics.js';
import { projectPath } from '../../src/model/paths.js';
import { bootstrapRatioCI, hodgesLehmannShift, holm, mannWhitneyU, medianConfidenceInterval, minimumDetectableEffectPct, relativeChange } from '../../src/analysis/significance.js';
import { median, summarize } from '../../src/analysis/stats.js';
import { check, expectFiniteOrNull, RUNS, TIMEOUT } from './arbitraries.js';

const HUGE = 1e300;

/** Finite values in ±limit, biased to the odd ones. */
const value = (limit = Number.MAX_VALUE) =>
  fc.oneof(
    fc.constantFrom(0, -0, 1, -1, 0.5, Number.MIN_VALUE, 1e-300, HUGE, -HUGE, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53).filter((v) => Math.abs(v) <= limit),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -limit, max: limit }),
    fc.integer({ min: -1000, max: 1000 }),
    fc.double({ noNaN: true, min: 0, max: 1e6 }),
  );

/** Empty, one value, all ties, few distinct values (many ties), or anything: at most `max` values. */
const sample = (limit = Number.MAX_VALUE, max = 30) =>
  fc.oneof(
    fc.constant([] as number[]),
    value(limit).map((v) => [v]),
    fc.tuple(value(limit), fc.integer({ min: 2, max })).map(([v, n]) => Array<number>(n).fill(v)),
    fc.array(fc.constantFrom(1, 2, 3), { minLength: 2, maxLength: max }),
    fc.array(value(limit), { maxLength: max }),
  );
const nonEmpty = (limit = Number.MAX_VALUE, max = 30) => sample(limit, max).filter((s) => s.length > 0);

/** A sample with NaN or ±Infinity somewhere in it. */
const poisoned = fc.tuple(sample(), fc.constantFrom(Number.NaN, Infinity, -Infinity), fc.nat()).map(([s, bad, at]) => {
  const out = [...s];
  out.splice(at % (s.length + 1), 0, bad);
  return out;
});

const expectNumberOrNull = (v: number | null, what: string) => check(v === null || (typeof v === 'number' && !Number.isNaN(v)), () => `${what} = ${v}: expected a number or null`);
const expectP = (p: number | null, what: string) => check(p === null || (p >= 0 && p <= 1), () => `${what} = ${p}: expected a p-value in [0, 1] or null`);

describe('stats.ts', () => {
  test(
    'summarize, any finite sample: n, nulls only when empty, min ≤ median ≤ max, order statistics from the sample',
    () => {
      fc.assert(
        fc.property(sample(), (xs) => {
          const s = summarize(xs);
          expect(s.n).toBe(xs.length);
          if (xs.length === 0) {
            expect(s).toEqual({ n: 0, median: null, p95: null, min: null, max: null, mean: null, cv: null });
            return;
          }
          for (const key of ['median', 'p95', 'min', 'max'] as const) expectFiniteOrNull(s[key], key);
          expect(s.min! <= s.median! && s.median! <= s.max!, `${s.min} ≤ ${s.median} ≤ ${s.max}`).toBe(true);
          for (const key of ['p95', 'min', 'max'] as const) expect(xs).toContain(s[key]);
          if (xs.length === 1) expect(s.cv).toBeNull();
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'summarize, huge but not overflowing (|x| ≤ 1e300): every statistic finite or null (the CV of signed values: not NaN)',
    () => {
      fc.assert(
        fc.property(sample(HUGE), (xs) => {
          const s = summarize(xs);
          for (const key of ['median', 'p95', 'min', 'max', 'mean'] as const) expectFiniteOrNull(s[key], key);
          // For metrics (≥ 0) the CV is at most √n; values of both signs can have a mean of ~0 and a CV beyond any double.
          if (xs.every((x) => x >= 0)) expectFiniteOrNull(s.cv, 'cv');
          else expectNumberOrNull(s.cv, 'cv');
          // All ties: no spread, up to the rounding of the mean.
          if (xs.length && xs.every((x) => x === xs[0])) expect(s.cv === null || Math.abs(s.cv) < 1e-12, String(s.cv)).toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'summarize never throws on NaN or Infinity, and counts them',
    () => {
      fc.assert(
        fc.property(poisoned, (xs) => {
          expect(summarize(xs).n).toBe(xs.length);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe('significance.ts', () => {
  test(
    'Mann-Whitney U: p in [0, 1] (null iff a side is empty), U in [0, mn], symmetric in the samples and blind to their order',
    () => {
      fc.assert(
        fc.property(sample(), sample(), (a, b) => {
          const ab = mannWhitneyU(a, b);
          const ba = mannWhitneyU(b, a);
          if (a.length === 0 || b.length === 0) {
            expect(ab.p).toBeNull();
            return;
          }
          expectP(ab.p, 'p');
          expect(ab.p).not.toBeNull();
          expect(ab.u >= 0 && ab.u <= a.length * b.length).toBe(true);
          expect(ab.u + ba.u).toBe(a.length * b.length);
          expect(ba.p).toBe(ab.p);
          expect(mannWhitneyU([...a].reverse(), b).p).toBe(ab.p);
          if ([...a, ...b].every((v) => v === a[0])) expect(ab.p).toBe(1);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'Hodges-Lehmann (|x| ≤ 1e300): low ≤ shift ≤ high, antisymmetric; an empty side is a RangeError',
    () => {
      fc.assert(
        fc.property(sample(HUGE, 20), sample(HUGE, 20), (a, b) => {
          if (a.length === 0 || b.length === 0) {
            expect(() => hodgesLehmannShift(a, b)).toThrow(RangeError);
            return;
          }
          const ab = hodgesLehmannShift(a, b);
          const ba = hodgesLehmannShift(b, a);
          expect(Number.isFinite(ab.shift), String(ab.shift)).toBe(true);
          expect(ba.shift).toBe(ab.shift === 0 ? ba.shift : -ab.shift);
          expect(ab.low === null).toBe(ab.high === null);
          if (ab.low !== null) {
            expect(ab.low <= ab.shift && ab.shift <= ab.high!).toBe(true);
            expect(ba.low).toBe(ab.high === 0 ? ba.low : -ab.high!);
          }
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'relative change: all null when a side is empty, never NaN, low ≤ delta ≤ high',
    () => {
      fc.assert(
        fc.property(sample(Number.MAX_VALUE, 20), sample(Number.MAX_VALUE, 20), (base, head) => {
          const c = relativeChange(base, head);
          if (base.length === 0 || head.length === 0) {
            expect(c).toEqual({ ratio: null, deltaPct: null, lowPct: null, highPct: null });
            return;
          }
          for (const key of ['ratio', 'deltaPct', 'lowPct', 'highPct'] as const) expectNumberOrNull(c[key], key);
          if (c.lowPct !== null && c.deltaPct !== null) expect(c.lowPct <= c.deltaPct && c.deltaPct <= c.highPct!).toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'median interval: null below six values, else two sample values around the median',
    () => {
      fc.assert(
        fc.property(sample(), (xs) => {
          const ci = medianConfidenceInterval(xs);
          if (xs.length < 6) {
            expect(ci).toEqual({ low: null, high: null });
            return;
          }
          expect(xs).toContain(ci.low);
          expect(xs).toContain(ci.high);
          const m = median(xs)!;
          expect(ci.low! <= m && m <= ci.high!, `${ci.low} ≤ ${m} ≤ ${ci.high}`).toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'every statistic refuses NaN and Infinity with a RangeError, and only those',
    () => {
      fc.assert(
        fc.property(poisoned, nonEmpty(), fc.boolean(), (bad, good, first) => {
          const [a, b] = first ? [bad, good] : [good, bad];
          for (const f of [
            () => mannWhitneyU(a, b),
            () => hodgesLehmannShift(a, b),
            () => relativeChange(a, b),
            () => medianConfidenceInterval(bad),
            () => bootstrapRatioCI(a, b, { resamples: 10 }),
          ]) {
            expect(f).toThrow(RangeError);
            expect(f).toThrow(/must be finite numbers/);
          }
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'Holm: nulls stay, adjusted p in [0, 1], never below the raw p, order kept; p outside [0, 1] is a RangeError',
    () => {
      const p = fc.oneof(fc.constant(null), fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, 0.05));
      fc.assert(
        fc.property(fc.array(p, { maxLength: 30 }), fc.oneof(fc.constantFrom(Number.NaN, -0.1, 1.5, Infinity), fc.double({ min: 1.0000001 })), fc.nat(), (ps, bad, at) => {
          const adjusted = holm(ps);
          expect(adjusted).toHaveLength(ps.length);
          ps.forEach((raw, i) => {
            if (raw === null) return expect(adjusted[i]).toBeNull();
            expectP(adjusted[i]!, 'adjusted');
            expect(adjusted[i]! >= raw).toBe(true);
            ps.forEach((other, j) => {
              if (other !== null && raw <= other) expect(adjusted[i]! <= adjusted[j]!).toBe(true);
            });
          });
          const withBad = [...ps];
          withBad.splice(at % (ps.length + 1), 0, bad);
          expect(() => holm(withBad)).toThrow(RangeError);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'minimum detectable effect and the bootstrap interval: finite or null, low ≤ high, reproducible',
    () => {
      fc.assert(
        fc.property(fc.oneof(fc.constant(null), fc.double()), fc.oneof(fc.integer({ min: -5, max: 100 }), fc.double()), sample(HUGE, 15), sample(HUGE, 15), (cv, n, base, head) => {
          const mde = minimumDetectableEffectPct(cv, n);
          expect(mde === null || (Number.isFinite(mde) && mde >= 0), String(mde)).toBe(true);
          const ci = bootstrapRatioCI(base, head, { resamples: 50, seed: 7 });
          expect(ci.low === null).toBe(ci.high === null);
          if (ci.low !== null) {
            expect(Number.isNaN(ci.low) || Number.isNaN(ci.high!), `${ci.low} ${ci.high}`).toBe(false);
            expect(ci.low <= ci.high!).toBe(true);
          }
          expect(bootstrapRatioCI(base, head, { resamples: 50, seed: 7 })).toEqual(ci);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

// ── compareResults on results files ─────────────────────────────────────────────────────

const fixture = JSON.parse(readFileSync(projectPath('fixtures/results/lab-tcg.json'), 'utf8')) as ResultsFile;
/** A record with what compareResults reads; the rest emptied so that counterexamples stay readable. */
const template: MigrationRecord = { ...fixture.records[0]!, timeline: [], events: [], workarounds: [], probe: null, heartbeat: null, wire: null } as unknown as MigrationRecord;
const VERDICTS: readonly Verdict[] = ['regression', 'warn', 'inconclusive', 'improved', 'unchanged', 'not comparable'];

/** One side: per scenario, runs with the judged metrics drawn from `metric`; some runs failed. */
function side(metric: fc.Arbitrary<number | null>, scenarios: readonly string[]): fc.Arbitrary<ResultsFile> {
  const run = fc.record({
    scenario: fc.constantFrom(...scenarios),
    completed: fc.oneof({ arbitrary: fc.constant(true), weight: 5 }, fc.constant(false)),
    values: fc.array(metric, { minLength: JUDGED_METRICS.length, maxLength: JUDGED_METRICS.length }),
  });
  return fc.array(run, { maxLength: 10 }).map((runs) => ({
    ...fixture,
    records: runs.map((r, i): MigrationRecord => {
      const record = structuredClone(template);
      record.scenario = r.scenario;
      record.repetition = i + 1;
      record.status = r.completed ? 'completed' : 'failed';
      record.metrics = { ...record.metrics, ...Object.fromEntries(JUDGED_METRICS.map((m, k) => [m, r.values[k]!])) };
      return record;
    }),
  }));
}

/** Metric values the results schema accepts (number ≥ 0 or null): ties, zeros, huge. */
const schemaValue: fc.Arbitrary<number | null> = fc.oneof(
  fc.constant(null),
  fc.constantFrom(0, 1, 100, 1e300, Number.MAX_VALUE, Number.MIN_VALUE),
  fc.integer({ min: 0, max: 20 }),
  fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: 500, max: 1000, noNaN: true }),
);

function expectWellFormed(c: ReturnType<typeof compareResults>): void {
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const row of c.rows) {
    const at = `${row.scenario}/${row.metric}`;
    check(VERDICTS.includes(row.verdict), () => `${at}: verdict ${row.verdict}`);
    counts[row.verdict]++;
    expectP(row.p, `${at} p`);
    expectP(row.pAdjusted, `${at} pAdjusted`);
    if (row.pAdjusted !== null) check(row.pAdjusted >= row.p!, () => `${at}: pAdjusted ${row.pAdjusted} < p ${row.p}`);
    for (const s of [row.base, row.head]) {
      check(s.n === s.values.length, () => `${at}: n ${s.n} for ${s.values.length} values`);
      expectFiniteOrNull(s.median, `${at} median`);
      check((s.median === null) === (s.n === 0), () => `${at}: median ${s.median} for n ${s.n}`);
      if (s.ciLow !== null) check(s.ciLow <= s.median! && s.median! <= s.ciHigh!, () => `${at}: ${s.ciLow} ≤ ${s.median} ≤ ${s.ciHigh}`);
    }
    for (const key of ['deltaPct', 'deltaLowPct', 'deltaHighPct', 'mdePct'] as const) expectNumberOrNull(row[key], `${at} ${key}`);
    if (row.base.n === 0 || row.head.n === 0) check(row.verdict === 'not comparable', () => `${at}: ${row.verdict} with n ${row.base.n} vs ${row.head.n}`);
    if (row.verdict === 'regression') check(row.pAdjusted! < c.alpha, () => `${at}: regression at pAdjusted ${row.pAdjusted}`);
    // A verdict never contradicts its interval.
    const { deltaLowPct: low, deltaHighPct: high, thresholds: t } = row;
    if (row.verdict === 'regression') check(low !== null && low > t.failPct, () => `${at}: regression with interval from ${low}`);
    if (row.verdict === 'warn') check(low !== null && low > t.warnPct, () => `${at}: warn with interval from ${low}`);
    if (row.verdict === 'improved') check(high !== null && high < -t.warnPct, () => `${at}: improved with interval to ${high}`);
    if (row.verdict === 'unchanged' && row.reason !== 'identical values') check(high !== null && high < t.failPct, () => `${at}: unchanged with interval to ${high}`);
  }
  expect(c.counts).toEqual(counts);
  expect(comparisonExitCode(c)).toBe(headFindings(c).length ? 1 : 0);
  if (counts.regression || c.failures.some((f) => f.head.failed)) expect(comparisonExitCode(c)).toBe(1);
}

describe('compareResults', () => {
  test(
    'any results files the schema accepts: well-formed rows, counts that add up, one-sided p-values that mirror when the sides swap',
    () => {
      const scenarios = ['idle-256', 'dirty'];
      fc.assert(
        fc.property(
          side(schemaValue, scenarios),
          side(schemaValue, scenarios),
          fc.constantFrom<readonly MetricName[] | undefined>(undefined, ['totalTimeMs'], ['downtimeMs', 'wireBytes']),
          (base, head, metrics) => {
            const options = metrics ? { metrics } : {};
            const c = compareResults(base, head, options);
            expectWellFormed(c);
            const swapped = compareResults(head, base, options);
            expectWellFormed(swapped);
            const key = (r: { scenario: string; metric: string }) => `${r.scenario}/${r.metric}`;
            const byKey = new Map(swapped.rows.map((r) => [key(r), r]));
            expect(swapped.rows).toHaveLength(c.rows.length);
            for (const row of c.rows) {
              const other = byKey.get(key(row))!;
              // One-sided: "head worse" and, swapped, "base worse" cover every labeling between them (ties in both).
              check(
                (row.p === null) === (other.p === null) && (row.p === null || row.p + other.p! >= 1 - 1e-9),
                () => `${key(row)}: p ${row.p} and ${other.p} with the sides swapped do not add up to at least 1`,
              );
              check(other.base.values.join() === row.head.values.join(), () => `${key(row)}: the sides' values did not swap`);
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'NaN or Infinity in a judged metric of a completed run (no schema would pass it): a RangeError, or nothing compared on it',
    () => {
      const metric = fc.oneof({ arbitrary: schemaValue, weight: 4 }, fc.constantFrom(Number.NaN, Infinity, -Infinity));
      fc.assert(
        fc.property(side(metric, ['s']), side(metric, ['s']), (base, head) => {
          // Compared only when both sides measured the scenario.
          const judged = (r: ResultsFile) => r.records.filter((x) => x.status === 'completed').flatMap((x) => JUDGED_METRICS.map((m) => x.metrics[m]));
          const poisoned = base.records.length > 0 && head.records.length > 0 && [...judged(base), ...judged(head)].some((v) => v !== null && !Number.isFinite(v));
          if (poisoned) {
            expect(() => compareResults(base, head)).toThrow(/must be finite numbers/);
            return;
          }
          expectWellFormed(compareResults(base, head));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
