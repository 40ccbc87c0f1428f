import { describe, expect, test } from 'vitest';
import type { ResultsFile } from '../../src/generated/results.js';
import { fingerprintOf, labResults } from '../fixtures.js';
import { environmentFingerprint } from '../../src/model/fingerprint.js';
import { addRun, baselineResults, EMPTY_INDEX, parseStoreIndex, selectBaseline, storedRun, type BaselineWant, type StoreIndex } from '../../src/model/store.js';

const at = (day: number) => new Date(Date.UTC(2026, 11, day, 3, 17, 5, 250));
const meta = (day: number, commit = `${day}`.padStart(2, '0').repeat(20), regressed = false) => ({ ref: 'refs/heads/main', commit, storedAt: at(day), regressed });

function indexOf(...runs: Array<[ResultsFile, ReturnType<typeof meta>]>): StoreIndex {
  return runs.reduce((index, [results, m]) => addRun(index, storedRun(results, m)).index, EMPTY_INDEX);
}

const wantsOf = (results: ResultsFile, fingerprint = (s: string) => fingerprintOf(s)): BaselineWant[] =>
  [...new Set(results.records.map((r) => `${r.suite}\u0000${r.scenario}`))].map((k) => {
    const [suite, scenario] = k.split('\u0000') as [string, string];
    return { suite, scenario, fingerprint: fingerprint(scenario), environment: environmentFingerprint(results.records.filter((r) => r.scenario === scenario)) };
  });

describe('a stored run', () => {
  test('is listed per scenario with its fingerprints and how many of its runs completed', () => {
    const results = labResults();
    results.records[0]!.status = 'failed';
    const run = storedRun(results, meta(5, 'abcdef0123456789abcdef0123456789abcdef01'));
    expect(run.id).toMatch(/^20261205T031705Z-abcdef012345-[0-9a-f]{4}$/);
    expect(run.file).toBe(`runs/${run.id}.json`);
    expect(run.scenarios.map((s) => [s.scenario, s.completed, s.total])).toEqual([
      ['idle-256', 0, 1],
      ['dirty-64m-32mbps', 1, 1],
      ['storage-idle-256', 1, 1],
      ['storage-disk-writes', 1, 1],
    ]);
    expect(run.scenarios[0]!.fingerprint).toBe(fingerprintOf('idle-256'));
    expect(run.scenarios[0]!.environment).toMatch(/^env:[0-9a-f]{16}$/);
  });

  test("the environment key is the completed runs' (a run that failed before reading its hosts says 'unknown')", () => {
    const [a, b] = [labResults(), labResults()];
    Object.assign(b.records[0]!, { status: 'failed' });
    b.records[0]!.environment.source.kernel = 'unknown';
    const env = (r: ResultsFile) => environmentFingerprint(r.records.filter((x) => x.scenario === 'idle-256' || x.scenario === 'dirty-64m-32mbps'));
    expect(env(b)).toBe(env(a));
  });

  test('the environment key changes with any host field, and only then', () => {
    const [a, b, c] = [labResults(), labResults(), labResults({ kernel: '6.12.0-test' })];
    expect(environmentFingerprint(a.records)).toBe(environmentFingerprint(b.records));
    expect(environmentFingerprint(a.records)).not.toBe(environmentFingerprint(c.records));
    b.records[0]!.environment.destination.settings = { 'qemu.conf': 'sha256:0123456789ab' };
    expect(environmentFingerprint(a.records)).not.toBe(environmentFingerprint(b.records));
  });

  test('refuses a commit that is not a sha (it names the run)', () => {
    expect(() => storedRun(labResults(), { ...meta(5), commit: 'main' })).toThrow('store: not a commit sha: "main"');
  });

  test('the index keeps the newest runs, drops the oldest beyond keep, and replaces a run stored twice', () => {
    let index = EMPTY_INDEX;
    for (const day of [1, 2, 3]) index = addRun(index, storedRun(labResults(), meta(day))).index;
    const fourth = storedRun(labResults(), meta(4));
    const { index: kept, dropped } = addRun(index, fourth, 3);
    expect(kept.runs.map((r) => r.storedAt.slice(8, 10))).toEqual(['02', '03', '04']);
    expect(dropped.map((r) => r.storedAt.slice(8, 10))).toEqual(['01']);
    expect(addRun(kept, fourth).index.runs).toHaveLength(3);
    // Each ref keeps its own: a feature branch's runs do not push main's out.
    const dev = addRun(kept, storedRun(labResults(), { ...meta(5), ref: 'refs/heads/dev' }), 3);
    expect(dev.dropped).toEqual([]);
    expect(dev.index.runs).toHaveLength(4);
  });
});

describe('the index as read from the data branch', () => {
  test('round-trips', () => {
    const index = indexOf([labResults(), meta(1)], [labResults(), meta(2)]);
    expect(parseStoreIndex(JSON.stringify(index), 'acme/x@migbench-data:index.json')).toEqual(index);
  });

  test.each([
    ['not JSON', '{', '(file): not JSON'],
    ['another version', '{"schemaVersion": 2, "runs": []}', 'schemaVersion: expected 1'],
    [
      'a file outside runs/',
      JSON.stringify({ schemaVersion: 1, runs: [{ ...storedRun(labResults(), meta(1)), file: '../../etc/passwd' }] }),
      'runs[0].file: expected a string matching',
    ],
    [
      'a scenario without its keys',
      JSON.stringify({ schemaVersion: 1, runs: [{ ...storedRun(labResults(), meta(1)), scenarios: [{ suite: 's' }] }] }),
      'runs[0].scenarios[0].scenario: expected a name without control characters',
    ],
    [
      'a commit with a newline (it would start a workflow command in the log)',
      JSON.stringify({ schemaVersion: 1, runs: [{ ...storedRun(labResults(), meta(1)), commit: 'abc1234\n::error::x' }] }),
      'runs[0].commit: expected a string matching',
    ],
    [
      'a scenario name with a control character',
      JSON.stringify({
        schemaVersion: 1,
        runs: [{ ...storedRun(labResults(), meta(1)), scenarios: [{ ...storedRun(labResults(), meta(1)).scenarios[0], scenario: 'a\u001bb' }] }],
      }),
      'runs[0].scenarios[0].scenario: expected a name without control characters',
    ],
  ])('refuses %s, naming the file and the JSON path', (_what, text, message) => {
    expect(() => parseStoreIndex(text, 'acme/x@migbench-data:index.json')).toThrow(/acme\/x@migbench-data:index\.json/);
    expect(() => parseStoreIndex(text, 'acme/x@migbench-data:index.json')).toThrow(message);
  });
});

describe('choosing the stored runs a head is compared with', () => {
  const head = labResults();

  test('the newest runs of the ref with the base fingerprint, from the head environment, at most `runs`', () => {
    const other = labResults({ kernel: '6.12.0-test' });
    const index = indexOf([labResults(), meta(1)], [labResults(), meta(2)], [other, meta(3)], [labResults(), meta(4)], [labResults(), { ...meta(5), ref: 'refs/heads/dev' }]);
    const { picks, missing } = selectBaseline(index, wantsOf(head), { ref: 'refs/heads/main', runs: 2 });
    expect(missing).toEqual([]);
    expect(picks).toHaveLength(4);
    for (const pick of picks) {
      expect(pick.sameEnvironment).toBe(true);
      expect(pick.runs.map((r) => r.storedAt.slice(8, 10))).toEqual(['04', '02']);
    }
  });

  test("a pull request's gate (otherEnvironment: missing) counts a scenario stored only in another environment as missing, and says why", () => {
    const index = indexOf([labResults({ kernel: '6.12.0-test' }), meta(2)]);
    const { picks, missing } = selectBaseline(index, wantsOf(head), { ref: 'refs/heads/main', otherEnvironment: 'missing' });
    expect(picks).toEqual([]);
    expect(missing[0]!.why).toMatch(
      /^the stored runs of memory-migration \/ idle-256 were measured in another environment \(env:[0-9a-f]{16}, newest 020202020202 on 2026-12-02T03:17:05.250Z\) than this run \(env:[0-9a-f]{16}\): store a run of the base branch on these hosts, or declare the change with environment-change: expected$/,
    );
  });

  test('from the newest other environment when none is the head one (the comparison then names the difference)', () => {
    const index = indexOf([labResults({ kernel: '6.1.0-old' }), meta(1)], [labResults({ kernel: '6.12.0-test' }), meta(2)]);
    const { picks } = selectBaseline(index, wantsOf(head), { ref: 'refs/heads/main' });
    expect(picks[0]!.sameEnvironment).toBe(false);
    expect(picks[0]!.runs.map((r) => r.storedAt.slice(8, 10))).toEqual(['02']);
  });

  test('a scenario the base defines otherwise than every stored run is missing, and says what was stored', () => {
    const index = indexOf([labResults(), meta(1, 'c0ffee'.padEnd(40, '0'))]);
    const wants = wantsOf(head, (s) => (s === 'idle-256' ? fingerprintOf(s, 'b') : fingerprintOf(s)));
    const { picks, missing } = selectBaseline(index, wants, { ref: 'refs/heads/main' });
    expect(picks).toHaveLength(3);
    expect(missing).toHaveLength(1);
    expect(missing[0]!.why).toBe(
      `no stored run of refs/heads/main measured memory-migration / idle-256 as the base defines it (${fingerprintOf('idle-256', 'b')}); the newest, c0ffee000000 on 2026-12-01T03:17:05.250Z, measured ${fingerprintOf('idle-256')}: store a run of this config first`,
    );
  });

  test('regressed runs are left out when asked (a nightly), kept otherwise (a pull request is judged against main as it is)', () => {
    const index = indexOf([labResults(), meta(1)], [labResults(), meta(2, undefined, true)]);
    expect(selectBaseline(index, wantsOf(head), { ref: 'refs/heads/main' }).picks[0]!.runs.map((r) => r.regressed)).toEqual([true, false]);
    expect(selectBaseline(index, wantsOf(head), { ref: 'refs/heads/main', excludeRegressed: true }).picks[0]!.runs.map((r) => r.regressed)).toEqual([false]);
  });

  test('runs whose scenario all failed are no baseline', () => {
    const failed = labResults();
    for (const r of failed.records) r.status = 'failed';
    const { missing } = selectBaseline(indexOf([failed, meta(1)]), wantsOf(head), { ref: 'refs/heads/main' });
    expect(missing.map((m) => m.why)).toContain(`the stored runs of memory-migration / idle-256 with fingerprint ${fingerprintOf('idle-256')} all failed`);
  });

  test("the baseline file holds the picked runs' records of the picked scenarios and fingerprints only", () => {
    const [one, two] = [labResults(), labResults()];
    two.records.find((r) => r.scenario === 'idle-256')!.scenarioFingerprint = fingerprintOf('idle-256', 'z');
    const index = indexOf([one, meta(1)], [two, meta(2)]);
    const selection = selectBaseline(index, wantsOf(head), { ref: 'refs/heads/main' });
    const files = new Map(index.runs.map((r, i) => [r.id, [one, two][i]!]));
    const base = baselineResults(selection, files);
    expect(base.records.filter((r) => r.scenario === 'idle-256')).toHaveLength(1);
    expect(base.records).toHaveLength(7);
    expect(base.config.path).toBe(`stored runs ${index.runs.map((r) => r.id).join(', ')}`);
    expect(() => baselineResults(selection, new Map())).toThrow('named by the index but not read');
  });
});
