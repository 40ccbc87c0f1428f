import { beforeAll, describe, expect, test } from 'vitest';
import { studyFindings } from '../../src/analysis/findings.js';
import type { MigrationRecord } from '../../src/generated/results.js';
import { PATTERN_MIB } from '../../src/model/hardware.js';
import { projectPath } from '../../src/model/paths.js';
import { readResults } from '../../src/model/results.js';

const MiB = 1024 * 1024;

const KIND = 'storage migration of the same guest takes longer and sends more bytes than memory migration';
const MEMORY = 'total time grows with guest memory';
const RISING = 'iterations do not fall as the dirty rate rises';
const HEAVIEST = 'the most dirtying guest needs more iterations than an idle one';
const TOUCHED = 'transferred bytes are at least the memory the guest touched';

const DIRTY_WORKLOAD = { workingSetMiB: 32, dirtyRateMBps: 32, pattern: 'sequential' } as MigrationRecord['workload']['memory'];

let fixture: MigrationRecord[];
beforeAll(async () => {
  fixture = (await readResults(projectPath('fixtures/results/lab-tcg.json'))).records;
});

interface Spec {
  readonly scenario: string;
  readonly axes: Record<string, string> | null;
  readonly kind?: 'memory' | 'storage';
  readonly memoryMiB?: number;
  readonly memory?: MigrationRecord['workload']['memory'];
  readonly status?: MigrationRecord['status'];
  readonly repetition?: number;
  readonly metrics?: Partial<Record<'totalTimeMs' | 'wireBytes' | 'iterations' | 'transferredBytes', number | null>>;
}

/** A recorded memory migration, changed to the spec; transferredBytes is null unless given. */
function record(spec: Spec): MigrationRecord {
  const r = structuredClone(fixture.find((x) => x.scenario === 'idle-256')!);
  r.scenario = spec.scenario;
  r.axes = spec.axes;
  r.kind = spec.kind ?? 'memory';
  r.guest.memoryMiB = spec.memoryMiB ?? 256;
  r.workload.memory = spec.memory ?? null;
  r.status = spec.status ?? 'completed';
  r.repetition = spec.repetition ?? 1;
  r.metrics.transferredBytes = null;
  Object.assign(r.metrics, spec.metrics ?? {});
  return r;
}

/** One scenario of a memory × kind matrix, repeated once per total time. */
function kindPoint(memoryMiB: number, kind: 'memory' | 'storage', totals: ReadonlyArray<number | null>, wireMiB: number | null): MigrationRecord[] {
  return totals.map((totalTimeMs, i) =>
    record({
      scenario: `${memoryMiB}-${kind}`,
      axes: { 'guest.memoryMiB': String(memoryMiB), 'migration.kind': kind },
      kind,
      memoryMiB,
      repetition: i + 1,
      metrics: { totalTimeMs, wireBytes: wireMiB === null ? null : wireMiB * MiB },
    }),
  );
}

const wire = (mib: number) => `${mib} MiB (${mib * MiB} bytes)`;

describe(studyFindings, () => {
  test('storage against memory migration, compared on total time and wire bytes', () => {
    const checks = studyFindings([
      ...kindPoint(128, 'memory', [800], 150),
      ...kindPoint(128, 'storage', [700], 400),
      ...kindPoint(256, 'memory', [1000], 300),
      ...kindPoint(256, 'storage', [1500], 600),
    ]);
    expect(checks.map((c) => c.finding)).toEqual([KIND, MEMORY]);
    expect(checks[0]).toEqual({
      finding: KIND,
      comparisons: [
        'totalTimeMs: 128-storage 700 ms > 128-memory 800 ms',
        `wireBytes: 128-storage ${wire(400)} > 128-memory ${wire(150)}`,
        'totalTimeMs: 256-storage 1500 ms > 256-memory 1000 ms',
        `wireBytes: 256-storage ${wire(600)} > 256-memory ${wire(300)}`,
      ],
      violations: ['totalTimeMs: 128-storage 700 ms > 128-memory 800 ms'],
    });
    expect(checks[1]).toEqual({
      finding: MEMORY,
      comparisons: ['totalTimeMs: 256-memory 1000 ms > 128-memory 800 ms', 'totalTimeMs: 256-storage 1500 ms > 128-storage 700 ms'],
      violations: [],
    });
  });

  test('storage that is not larger is a violation, equal included; which side is which comes from kind, not order', () => {
    const checks = studyFindings([...kindPoint(256, 'storage', [1000], 300), ...kindPoint(256, 'memory', [1000], 200)]);
    expect(checks).toEqual([
      {
        finding: KIND,
        comparisons: ['totalTimeMs: 256-storage 1000 ms > 256-memory 1000 ms', `wireBytes: 256-storage ${wire(300)} > 256-memory ${wire(200)}`],
        violations: ['totalTimeMs: 256-storage 1000 ms > 256-memory 1000 ms'],
      },
    ]);
  });

  test('a metric measured on one side only is not compared', () => {
    const checks = studyFindings([...kindPoint(256, 'memory', [1000], 300), ...kindPoint(256, 'storage', [1200], null)]);
    expect(checks).toEqual([{ finding: KIND, comparisons: ['totalTimeMs: 256-storage 1200 ms > 256-memory 1000 ms'], violations: [] }]);
  });

  test('total time against guest memory: every smaller/larger pair', () => {
    const point = (memoryMiB: number, totalTimeMs: number) =>
      record({ scenario: `m${memoryMiB}`, axes: { 'guest.memoryMiB': String(memoryMiB) }, memoryMiB, metrics: { totalTimeMs } });
    const checks = studyFindings([point(512, 1500), point(128, 1000), point(256, 2000)]);
    expect(checks).toEqual([
      {
        finding: MEMORY,
        comparisons: ['totalTimeMs: m512 1500 ms > m128 1000 ms', 'totalTimeMs: m256 2000 ms > m128 1000 ms', 'totalTimeMs: m512 1500 ms > m256 2000 ms'],
        violations: ['totalTimeMs: m512 1500 ms > m256 2000 ms'],
      },
    ]);
  });

  test('a dirtying guest against an idle one, on iterations', () => {
    const point = (label: 'idle' | 'dirty', memoryMiB: number, iterations: number) =>
      record({
        scenario: `${memoryMiB}-${label}`,
        axes: { workload: label, 'guest.memoryMiB': String(memoryMiB) },
        memoryMiB,
        memory: label === 'dirty' ? DIRTY_WORKLOAD : null,
        metrics: { iterations, totalTimeMs: null },
      });
    const checks = studyFindings([point('idle', 128, 3), point('dirty', 128, 7), point('idle', 256, 3), point('dirty', 256, 3)]);
    expect(checks).toEqual([
      { finding: RISING, comparisons: ['iterations: 128-dirty 7 >= 128-idle 3', 'iterations: 256-dirty 3 >= 256-idle 3'], violations: [] },
      {
        finding: HEAVIEST,
        comparisons: ['iterations: 128-dirty 7 > 128-idle 3', 'iterations: 256-dirty 3 > 256-idle 3'],
        violations: ['iterations: 256-dirty 3 > 256-idle 3'],
      },
    ]);
  });

  test('an axis on the dirty rate: every lower/higher pair must not fall, the heaviest must beat idle', () => {
    const point = (rate: number, iterations: number) =>
      record({
        scenario: `rate${rate}`,
        axes: { 'workload.memory.dirtyRateMBps': String(rate) },
        memory: { workingSetMiB: 64, dirtyRateMBps: rate, pattern: 'sequential' } as MigrationRecord['workload']['memory'],
        metrics: { iterations, totalTimeMs: null },
      });
    const checks = studyFindings([point(0, 3), point(16, 5), point(64, 2)]);
    expect(checks).toEqual([
      {
        finding: RISING,
        comparisons: ['iterations: rate16 5 >= rate0 3', 'iterations: rate64 2 >= rate0 3', 'iterations: rate64 2 >= rate16 5'],
        violations: ['iterations: rate64 2 >= rate0 3', 'iterations: rate64 2 >= rate16 5'],
      },
      { finding: HEAVIEST, comparisons: ['iterations: rate64 2 > rate0 3'], violations: ['iterations: rate64 2 > rate0 3'] },
    ]);
  });

  test('without a workload axis there is no idle/dirty finding', () => {
    const checks = studyFindings([
      record({ scenario: 'a', axes: { 'guest.memoryMiB': '128' }, memoryMiB: 128, memory: null, metrics: { iterations: 9, totalTimeMs: 1 } }),
      record({ scenario: 'b', axes: { 'guest.memoryMiB': '256' }, memoryMiB: 256, memory: DIRTY_WORKLOAD, metrics: { iterations: 1, totalTimeMs: 2 } }),
    ]);
    expect(checks.map((c) => c.finding)).toEqual([MEMORY]);
  });

  test('transferred bytes against the pattern plus the working set, per completed run', () => {
    const run = (scenario: string, repetition: number, workingSetMiB: number | null, transferredMiB: number) =>
      record({
        scenario,
        repetition,
        axes: { 'guest.memoryMiB': '256' },
        memory: workingSetMiB === null ? null : ({ workingSetMiB, dirtyRateMBps: 32, pattern: 'sequential' } as MigrationRecord['workload']['memory']),
        metrics: { transferredBytes: transferredMiB * MiB },
      });
    expect(PATTERN_MIB).toBe(16);
    const checks = studyFindings([
      run('idle', 1, null, 16),
      run('idle', 2, null, 15),
      run('dirty', 1, 64, 80),
      run('dirty', 2, 64, 79),
      record({ scenario: 'dirty', repetition: 3, axes: { 'guest.memoryMiB': '256' }, status: 'failed', metrics: { transferredBytes: 1 } }),
      record({ scenario: 'dirty', repetition: 4, axes: { 'guest.memoryMiB': '256' }, status: 'cancelled', metrics: { transferredBytes: 1 } }),
      record({ scenario: 'idle', repetition: 3, axes: { 'guest.memoryMiB': '256' }, metrics: { transferredBytes: null } }),
    ]);
    expect(checks).toEqual([
      {
        finding: TOUCHED,
        comparisons: [
          `idle #1: transferred ${wire(16)} >= touched 16 MiB`,
          `idle #2: transferred ${wire(15)} >= touched 16 MiB`,
          `dirty #1: transferred ${wire(80)} >= touched 80 MiB`,
          `dirty #2: transferred ${wire(79)} >= touched 80 MiB`,
        ],
        violations: [`idle #2: transferred ${wire(15)} >= touched 16 MiB`, `dirty #2: transferred ${wire(79)} >= touched 80 MiB`],
      },
    ]);
  });

  test('the recorded lab results come from suites, not a matrix: nothing to check', () => {
    expect(fixture.length).toBeGreaterThan(0);
    expect(studyFindings(fixture)).toEqual([]);
  });

  test('failed and cancelled runs and runs without axes take no part in the pairs', () => {
    const records = [
      ...kindPoint(256, 'memory', [1000], 300),
      ...kindPoint(256, 'storage', [1500], 600),
      // Any of these would turn the storage side's median below the memory side's.
      record({
        scenario: '256-storage',
        axes: { 'guest.memoryMiB': '256', 'migration.kind': 'storage' },
        kind: 'storage',
        status: 'failed',
        repetition: 2,
        metrics: { totalTimeMs: 10, wireBytes: MiB },
      }),
      record({
        scenario: '256-storage',
        axes: { 'guest.memoryMiB': '256', 'migration.kind': 'storage' },
        kind: 'storage',
        status: 'cancelled',
        repetition: 3,
        metrics: { totalTimeMs: 10, wireBytes: MiB },
      }),
      record({ scenario: '256-storage', axes: null, kind: 'storage', repetition: 4, metrics: { totalTimeMs: 10, wireBytes: MiB } }),
    ];
    expect(studyFindings(records)).toEqual([
      {
        finding: KIND,
        comparisons: ['totalTimeMs: 256-storage 1500 ms > 256-memory 1000 ms', `wireBytes: 256-storage ${wire(600)} > 256-memory ${wire(300)}`],
        violations: [],
      },
    ]);
  });

  test('a scenario with no completed run makes no pair', () => {
    const records = [
      ...kindPoint(256, 'memory', [1000], 300),
      record({
        scenario: '256-storage',
        axes: { 'guest.memoryMiB': '256', 'migration.kind': 'storage' },
        kind: 'storage',
        status: 'failed',
        metrics: { totalTimeMs: 10, wireBytes: MiB },
      }),
    ];
    expect(studyFindings(records)).toEqual([]);
  });

  test('findings without a comparison are left out', () => {
    expect(studyFindings([])).toEqual([]);
    // Only memory migrations, so nothing to compare storage with; no transferred bytes.
    const checks = studyFindings([...kindPoint(128, 'memory', [800], 100), ...kindPoint(256, 'memory', [900], 200)]);
    expect(checks.map((c) => c.finding)).toEqual([MEMORY]);
    // A single scenario has no pair at all.
    expect(studyFindings(kindPoint(128, 'memory', [800], 100))).toEqual([]);
  });

  test('medians over repetitions: one outlier run does not flip the result', () => {
    const checks = studyFindings([...kindPoint(256, 'memory', [1000, 9000, 1100], 300), ...kindPoint(256, 'storage', [1500, 100, 1600], 600)]);
    expect(checks).toEqual([
      {
        finding: KIND,
        comparisons: ['totalTimeMs: 256-storage 1500 ms > 256-memory 1100 ms', `wireBytes: 256-storage ${wire(600)} > 256-memory ${wire(300)}`],
        violations: [],
      },
    ]);
  });

  test('medians of an even number of runs are the mean of the middle two; unmeasured runs are skipped', () => {
    const checks = studyFindings([...kindPoint(256, 'memory', [1000, 2000, null], 300), ...kindPoint(256, 'storage', [1400, 1600], 600)]);
    expect(checks[0]!.comparisons[0]).toBe('totalTimeMs: 256-storage 1500 ms > 256-memory 1500 ms');
    expect(checks[0]!.violations).toEqual(['totalTimeMs: 256-storage 1500 ms > 256-memory 1500 ms']);
  });
});
