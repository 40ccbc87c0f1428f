import { describe, expect, test } from 'vitest';
import { autoLabel, expandMatrix, pairsAlong, type MatrixPoint } from '../../src/config/matrix.js';
import type { Matrix } from '../../src/generated/config.js';

const matrix = (base: Record<string, unknown>, axes: Array<{ path: string; values: unknown[]; labels?: string[] }>): Matrix => ({ base, axes }) as unknown as Matrix;

const names = (points: readonly MatrixPoint[]) => points.map((p) => p.scenario.name);

describe(autoLabel, () => {
  test('scalars become lower-case alphanumerics, dots become p', () => {
    expect(autoLabel(0.5)).toBe('0p5');
    expect(autoLabel(256)).toBe('256');
    expect(autoLabel('storage')).toBe('storage');
    expect(autoLabel('Post-Copy')).toBe('postcopy');
    expect(autoLabel(true)).toBe('true');
  });

  test('objects, null and strings with nothing left have no label', () => {
    expect(autoLabel({})).toBeNull();
    expect(autoLabel([1])).toBeNull();
    expect(autoLabel(null)).toBeNull();
    expect(autoLabel(undefined)).toBeNull();
    expect(autoLabel('')).toBeNull();
    expect(autoLabel('--')).toBeNull();
  });
});

describe(expandMatrix, () => {
  test('the cross product, last axis fastest, named by the labels joined with -', () => {
    const { points, issues } = expandMatrix(
      matrix({ guest: { vcpus: 1 }, migration: { timeoutMs: 60000 } }, [
        { path: 'guest.memoryMiB', values: [128, 256] },
        { path: 'workload', values: [{}, { memory: { workingSetMiB: 32, dirtyRateMBps: 32 } }], labels: ['idle', 'dirty'] },
        { path: 'migration.kind', values: ['memory', 'storage'] },
      ]),
    );
    expect(issues).toEqual([]);
    expect(names(points)).toEqual([
      '128-idle-memory',
      '128-idle-storage',
      '128-dirty-memory',
      '128-dirty-storage',
      '256-idle-memory',
      '256-idle-storage',
      '256-dirty-memory',
      '256-dirty-storage',
    ]);
    expect(points[3]).toEqual({
      axes: {
        'guest.memoryMiB': { label: '128', value: 128 },
        workload: { label: 'dirty', value: { memory: { workingSetMiB: 32, dirtyRateMBps: 32 } } },
        'migration.kind': { label: 'storage', value: 'storage' },
      },
      scenario: {
        name: '128-dirty-storage',
        guest: { vcpus: 1, memoryMiB: 128 },
        migration: { timeoutMs: 60000, kind: 'storage' },
        workload: { memory: { workingSetMiB: 32, dirtyRateMBps: 32 } },
      },
    });
    expect(Object.keys(points[3]!.axes)).toEqual(['guest.memoryMiB', 'workload', 'migration.kind']);
  });

  test('numbers are labelled automatically: 0.5 → 0p5', () => {
    const { points, issues } = expandMatrix(matrix({}, [{ path: 'migration.downtimeLimitS', values: [0.5, 1, 2.25] }]));
    expect(issues).toEqual([]);
    expect(names(points)).toEqual(['0p5', '1', '2p25']);
    expect(points.map((p) => p.axes['migration.downtimeLimitS'])).toEqual([
      { label: '0p5', value: 0.5 },
      { label: '1', value: 1 },
      { label: '2p25', value: 2.25 },
    ]);
  });

  test('given labels win over automatic ones', () => {
    const { points, issues } = expandMatrix(matrix({}, [{ path: 'link.bandwidthMbps', values: [100, 1000], labels: ['100mbit', '1gbit'] }]));
    expect(issues).toEqual([]);
    expect(names(points)).toEqual(['100mbit', '1gbit']);
    expect(points[1]!.scenario).toEqual({ name: '1gbit', link: { bandwidthMbps: 1000 } });
  });

  test('an object value without labels is an issue at that value, and nothing expands', () => {
    const { points, issues } = expandMatrix(
      matrix({}, [
        { path: 'migration.kind', values: ['memory'] },
        { path: 'workload', values: ['idle', { memory: { workingSetMiB: 8 } }] },
      ]),
    );
    expect(points).toEqual([]);
    expect(issues).toEqual([{ segments: ['axes', 1, 'values', 1], message: 'give this axis labels: {"memory":{"workingSetMiB":8}} has no obvious name' }]);
  });

  test('every unlabelled object value is named in an issue', () => {
    const { points, issues } = expandMatrix(matrix({}, [{ path: 'workload', values: [{}, { memory: { workingSetMiB: 8 } }] }]));
    expect(points).toEqual([]);
    expect(issues).toContainEqual({ segments: ['axes', 0, 'values', 0], message: 'give this axis labels: {} has no obvious name' });
    expect(issues).toContainEqual({ segments: ['axes', 0, 'values', 1], message: 'give this axis labels: {"memory":{"workingSetMiB":8}} has no obvious name' });
  });

  test('as many labels as values', () => {
    const { points, issues } = expandMatrix(matrix({}, [{ path: 'link.bandwidthMbps', values: [100, 1000], labels: ['slow'] }]));
    expect(points).toEqual([]);
    expect(issues).toEqual([{ segments: ['axes', 0, 'labels'], message: '1 labels for 2 values' }]);
  });

  test('labels of an axis must differ', () => {
    const given = expandMatrix(matrix({}, [{ path: 'link.bandwidthMbps', values: [100, 1000], labels: ['fast', 'fast'] }]));
    expect(given.points).toEqual([]);
    expect(given.issues).toEqual([{ segments: ['axes', 0], message: 'labels must differ: fast, fast' }]);
    // 'Memory' and 'memory' both label as memory.
    const automatic = expandMatrix(matrix({}, [{ path: 'migration.kind', values: ['memory', 'Memory'] }]));
    expect(automatic.issues).toEqual([{ segments: ['axes', 0], message: 'labels must differ: memory, memory' }]);
  });

  test('an axis path appears once', () => {
    const { points, issues } = expandMatrix(
      matrix({}, [
        { path: 'guest.memoryMiB', values: [128] },
        { path: 'migration.kind', values: ['memory'] },
        { path: 'guest.memoryMiB', values: [256] },
      ]),
    );
    expect(points).toEqual([]);
    expect(issues).toEqual([{ segments: ['axes', 2, 'path'], message: 'axis guest.memoryMiB appears twice' }]);
  });

  test('names come from the labels: neither an axis nor the base may set name', () => {
    const axis = expandMatrix(matrix({}, [{ path: 'name', values: ['a', 'b'] }]));
    expect(axis.points).toEqual([]);
    expect(axis.issues).toEqual([{ segments: ['axes', 0, 'path'], message: 'names come from the axis labels; an axis cannot set name' }]);
    const base = expandMatrix(matrix({ name: 'mine', guest: { memoryMiB: 256 } }, [{ path: 'migration.kind', values: ['memory'] }]));
    expect(base.points).toEqual([]);
    expect(base.issues).toEqual([{ segments: ['base', 'name'], message: 'names come from the axis labels; remove name from base' }]);
  });

  test('a name that is not a valid scenario name is an issue', () => {
    const { points, issues } = expandMatrix(matrix({}, [{ path: 'migration.downtimeLimitMs', values: [100], labels: ['1.5'] }]));
    expect(issues).toEqual([{ segments: ['axes'], message: 'scenario name "1.5" is not a valid name (a-z, 0-9, -, at most 61 characters): shorten the labels' }]);
    expect(points).toEqual([]);
  });

  test('paths create missing objects and replace scalars and arrays on the way', () => {
    const { points, issues } = expandMatrix(
      matrix({ workload: 'idle', probe: [1, 2] }, [
        { path: 'workload.memory.dirtyRateMBps', values: [16] },
        { path: 'probe.intervalMs', values: [2] },
        { path: 'a.b.c.d', values: [3] },
      ]),
    );
    expect(issues).toEqual([]);
    expect(points[0]!.scenario).toEqual({ name: '16-2-3', workload: { memory: { dirtyRateMBps: 16 } }, probe: { intervalMs: 2 }, a: { b: { c: { d: 3 } } } });
  });

  test('scenarios share no objects with each other, the base or the axis values', () => {
    const base = { guest: { vcpus: 1 } };
    const shared = { memory: { workingSetMiB: 32 } };
    const m = matrix(base, [
      { path: 'workload', values: [shared], labels: ['dirty'] },
      { path: 'guest.memoryMiB', values: [128, 256] },
    ]);
    const { points, issues } = expandMatrix(m);
    expect(issues).toEqual([]);
    expect(points).toHaveLength(2);
    const [a, b] = points.map((p) => p.scenario as unknown as { guest: { memoryMiB: number; vcpus: number }; workload: { memory: { workingSetMiB: number } } });
    expect(a!.workload).toEqual(shared);
    expect(a!.workload).not.toBe(shared);
    expect(a!.workload).not.toBe(b!.workload);
    expect(a!.guest).not.toBe(b!.guest);
    expect(a!.guest).not.toBe(base.guest);
    a!.workload.memory.workingSetMiB = 999;
    a!.guest.vcpus = 4;
    expect(b!.workload.memory.workingSetMiB).toBe(32);
    expect(b!.guest.vcpus).toBe(1);
    expect(shared.memory.workingSetMiB).toBe(32);
    expect(base).toEqual({ guest: { vcpus: 1 } });
    expect('name' in base).toBe(false);
  });
});

describe(pairsAlong, () => {
  const point = (axes: Record<string, string>) => ({ id: Object.values(axes).join('-'), axes: Object.fromEntries(Object.entries(axes).map(([k, label]) => [k, { label }])) });
  const points = [
    point({ mem: '128', kind: 'memory' }),
    point({ mem: '128', kind: 'storage' }),
    point({ mem: '256', kind: 'memory' }),
    point({ mem: '256', kind: 'storage' }),
    point({ mem: '512', kind: 'memory' }),
  ];
  const ids = (pairs: ReturnType<typeof pairsAlong<(typeof points)[number]>>) => pairs.map((p) => [p.a.id, p.b.id, p.aIndex, p.bIndex]);

  test('points equal on every other axis, ordered as the axis lists its values', () => {
    expect(ids(pairsAlong(points, 'kind', ['memory', 'storage']))).toEqual([
      ['128-memory', '128-storage', 0, 1],
      ['256-memory', '256-storage', 0, 1],
    ]);
    // The order decides which side is a, not the order of the points.
    expect(ids(pairsAlong(points, 'kind', ['storage', 'memory']))).toEqual([
      ['128-storage', '128-memory', 0, 1],
      ['256-storage', '256-memory', 0, 1],
    ]);
    expect(pairsAlong(points, 'kind', ['memory', 'storage']).every((p) => p.axis === 'kind')).toBe(true);
  });

  test('every pair along an axis with more than two values', () => {
    expect(ids(pairsAlong(points, 'mem', ['128', '256', '512']))).toEqual([
      ['128-memory', '256-memory', 0, 1],
      ['128-memory', '512-memory', 0, 2],
      ['128-storage', '256-storage', 0, 1],
      ['256-memory', '512-memory', 1, 2],
    ]);
  });

  test('labels missing from the order and unknown axes give no pairs', () => {
    expect(ids(pairsAlong(points, 'mem', ['128', '512']))).toEqual([['128-memory', '512-memory', 0, 1]]);
    expect(pairsAlong(points, 'cpu', ['a', 'b'])).toEqual([]);
    expect(pairsAlong([], 'kind', ['memory', 'storage'])).toEqual([]);
  });

  test('works on expanded matrices', () => {
    const { points: expanded } = expandMatrix(
      matrix({}, [
        { path: 'guest.memoryMiB', values: [128, 256] },
        { path: 'migration.kind', values: ['memory', 'storage'] },
      ]),
    );
    expect(pairsAlong(expanded, 'migration.kind', ['memory', 'storage']).map((p) => [p.a.scenario.name, p.b.scenario.name])).toEqual([
      ['128-memory', '128-storage'],
      ['256-memory', '256-storage'],
    ]);
  });
});
