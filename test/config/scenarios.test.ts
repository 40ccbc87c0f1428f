import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { matrixNames, resolveMatrix, resolveScenarios } from '../../src/config/scenarios.js';
import { resolveTargetConfig } from '../../src/config/targets.js';
import { minimal, problems } from './problems.js';

describe(resolveScenarios, () => {
  test('defaults are applied to every scenario', () => {
    const [s] = resolveScenarios(parseConfig(minimal, 'cfg.yaml'), 'memory-migration');
    expect(s).toMatchObject({
      suite: 'memory-migration',
      name: 'idle-256',
      target: 'lab',
      guest: { memoryMiB: 256, vcpus: 1, diskMiB: 256, diskDataMiB: 64 },
      workload: { memory: null, disk: null, cpu: null },
      link: null,
      migration: { kind: 'memory', timeoutMs: 120000 },
      probe: { tool: 'migbench-probe', intervalMs: 2, gapThresholdMs: 20, heartbeatMs: 1 },
      thresholds: {},
      repeat: 1,
    });
    expect(s!.migration).not.toHaveProperty('downtimeLimitMs');
  });

  test('a suite with targets runs each scenario on each; NAME@TARGET off the default target; a pinned scenario stays put', () => {
    const config = parseConfig(
      `suites:
  memory-migration:
    targets: [lab, lab-libvirt]
    scenarios:
      - { name: idle-256, guest: { memoryMiB: 256 }, migration: { kind: memory } }
      - { name: pinned, target: lab, guest: { memoryMiB: 256 }, migration: { kind: memory } }
`,
      'cfg.yaml',
    );
    expect(resolveScenarios(config, 'memory-migration').map((s) => `${s.name} on ${s.target}`)).toEqual([
      'idle-256 on lab',
      'idle-256@lab-libvirt on lab-libvirt',
      'pinned on lab',
    ]);
    expect(resolveTargetConfig(config, 'lab-libvirt')).toEqual({ hypervisor: 'libvirt', lab: true });
    expect(problems(minimal.replace('memory-migration:\n', 'memory-migration:\n    targets: [lab, xen-pool]\n'))).toEqual([
      'suites.memory-migration.targets[1] (line 3): no target named "xen-pool" (known: lab, lab-libvirt)',
    ]);
  });
});

describe(resolveMatrix, () => {
  test('a matrix expands to the cross product of its axes, named by labels, defaults applied', () => {
    const config = parseConfig(
      `suites: {}
matrices:
  size-load-kind:
    repeat: 3
    base: { guest: { vcpus: 1 }, migration: { kind: memory }, thresholds: { totalTimeMs: 60000 } }
    axes:
      - { path: guest.memoryMiB, values: [128, 256] }
      - { path: workload, values: [{}, { memory: { workingSetMiB: 16, dirtyRateMBps: 16 } }], labels: [idle, dirty] }
      - { path: migration.kind, values: [memory, storage] }
`,
      'm.yaml',
    );
    const points = resolveMatrix(config, 'size-load-kind');
    expect(points.map((p) => p.resolved.name)).toEqual([
      '128-idle-memory',
      '128-idle-storage',
      '128-dirty-memory',
      '128-dirty-storage',
      '256-idle-memory',
      '256-idle-storage',
      '256-dirty-memory',
      '256-dirty-storage',
    ]);
    const dirtyStorage = points[3]!.resolved;
    expect(dirtyStorage).toMatchObject({
      suite: 'size-load-kind',
      repeat: 3,
      guest: { memoryMiB: 128, vcpus: 1, diskMiB: 256 },
      migration: { kind: 'storage' },
      thresholds: { totalTimeMs: 60000 },
    });
    expect(dirtyStorage.workload.memory).toEqual({ workingSetMiB: 16, dirtyRateMBps: 16, pattern: 'sequential' });
    expect(points[3]!.axes['workload']!.label).toBe('dirty');
    expect(matrixNames(config)).toEqual(['size-load-kind']);
  });
});
