// What Hu et al. (2013) found, as checks over a matrix's records: relations between
// scenarios that differ along one axis only, compared on medians over repetitions.
// Each finding reports every pair it compared, so a failure says which pair and why.
import type { MigrationRecord } from '../generated/results.js';
import { PATTERN_MIB } from '../model/hardware.js';
import { describeMetricValue, type MetricName } from '../model/metrics.js';
import { median } from './stats.js';

export interface FindingCheck {
  readonly finding: string;
  /** One line per comparison made. */
  readonly comparisons: readonly string[];
  /** Comparisons that do not hold. */
  readonly violations: readonly string[];
}

interface ScenarioPoint {
  readonly scenario: string;
  readonly axes: Readonly<Record<string, string>>;
  readonly records: readonly MigrationRecord[];
}

const MiB = 1024 * 1024;

function points(records: readonly MigrationRecord[]): ScenarioPoint[] {
  const byScenario = new Map<string, MigrationRecord[]>();
  for (const r of records) {
    if (r.status !== 'completed' || !r.axes) continue;
    byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  }
  return [...byScenario.entries()].map(([scenario, rs]) => ({ scenario, axes: rs[0]!.axes!, records: rs }));
}

function medianOf(point: ScenarioPoint, metric: MetricName): number | null {
  const values = point.records.map((r) => r.metrics[metric]).filter((v): v is number => v !== null);
  return values.length ? median(values) : null;
}

/** Pairs (a, b) equal on every axis but `axis`, where `before(a, b)` says a is the "smaller" side. */
function pairsAlong(all: readonly ScenarioPoint[], axis: string, before: (a: ScenarioPoint, b: ScenarioPoint) => boolean): Array<[ScenarioPoint, ScenarioPoint]> {
  const out: Array<[ScenarioPoint, ScenarioPoint]> = [];
  for (const a of all) {
    for (const b of all) {
      if (a === b || !(axis in a.axes) || !(axis in b.axes) || !before(a, b)) continue;
      if (Object.keys(a.axes).every((k) => k === axis || a.axes[k] === b.axes[k])) out.push([a, b]);
    }
  }
  return out;
}

function compare(
  finding: string,
  pairs: Array<[ScenarioPoint, ScenarioPoint]>,
  metrics: readonly MetricName[],
  holds: (a: number, b: number) => boolean,
  relation: string,
): FindingCheck {
  const comparisons: string[] = [];
  const violations: string[] = [];
  for (const [a, b] of pairs) {
    for (const metric of metrics) {
      const [va, vb] = [medianOf(a, metric), medianOf(b, metric)];
      if (va === null || vb === null) continue;
      const line = `${metric}: ${b.scenario} ${describeMetricValue(metric, vb)} ${relation} ${a.scenario} ${describeMetricValue(metric, va)}`;
      comparisons.push(line);
      if (!holds(va, vb)) violations.push(line);
    }
  }
  return { finding, comparisons, violations };
}

const dirtyRate = (p: ScenarioPoint) => p.records[0]!.workload.memory?.dirtyRateMBps ?? 0;

/** The findings that apply to the matrix's axes; a finding with no comparison is left out. */
export function studyFindings(records: readonly MigrationRecord[]): FindingCheck[] {
  const all = points(records);
  const checks: FindingCheck[] = [];

  checks.push(
    compare(
      'storage migration of the same guest takes longer and sends more bytes than memory migration',
      pairsAlong(all, 'migration.kind', (a, b) => a.records[0]!.kind === 'memory' && b.records[0]!.kind === 'storage'),
      ['totalTimeMs', 'wireBytes'],
      (memory, storage) => storage > memory,
      '>',
    ),
  );
  checks.push(
    compare(
      'total time grows with guest memory',
      pairsAlong(all, 'guest.memoryMiB', (a, b) => a.records[0]!.guest.memoryMiB < b.records[0]!.guest.memoryMiB),
      ['totalTimeMs'],
      (small, large) => large > small,
      '>',
    ),
  );
  const workloadAxis = [...new Set(all.flatMap((p) => Object.keys(p.axes)))].find((k) => k === 'workload' || k.startsWith('workload.memory'));
  if (workloadAxis) {
    // Light dirtiers finish in as many passes as idle guests (measured: 16 MB/s over 64 MiB
    // took 3, like idle); what holds is that passes never fall as the rate rises, and
    // that the heaviest load needs more than none.
    const rising = pairsAlong(all, workloadAxis, (a, b) => dirtyRate(a) < dirtyRate(b));
    checks.push(compare('iterations do not fall as the dirty rate rises', rising, ['iterations'], (lower, higher) => higher >= lower, '>='));
    const heaviest = Math.max(...all.map(dirtyRate));
    checks.push(
      compare(
        'the most dirtying guest needs more iterations than an idle one',
        rising.filter(([a, b]) => dirtyRate(a) === 0 && dirtyRate(b) === heaviest),
        ['iterations'],
        (idle, dirty) => dirty > idle,
        '>',
      ),
    );
  }

  // Per run: everything the guest touched must have crossed the network at least once.
  const touched: string[] = [];
  const short: string[] = [];
  for (const r of records) {
    if (r.status !== 'completed' || !r.axes || r.metrics.transferredBytes === null) continue;
    const touchedBytes = (PATTERN_MIB + (r.workload.memory?.workingSetMiB ?? 0)) * MiB;
    const line = `${r.scenario} #${r.repetition}: transferred ${describeMetricValue('transferredBytes', r.metrics.transferredBytes)} >= touched ${touchedBytes / MiB} MiB`;
    touched.push(line);
    if (r.metrics.transferredBytes < touchedBytes) short.push(line);
  }
  checks.push({ finding: 'transferred bytes are at least the memory the guest touched', comparisons: touched, violations: short });
  return checks.filter((c) => c.comparisons.length > 0);
}
