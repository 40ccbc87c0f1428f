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

/** The key of the plain scenario below as migbench computed it before `fresh` existed. */
const FINGERPRINT_BEFORE_FRESH = 'scenario:38f7358364ff4986';

describe('a scenario fingerprint', () => {
  const realBits = 'guestNetwork: { address: 192.0.2.5/24, bridge: br0 }, sharedStorageDir: /srv/vm';
  const host = (address: string) => `{ address: ${address}, user: root, identityFile: /k, migrationAddress: 10.1.0.1, migrationInterface: ens5 }`;
  const config = (scenario: string, target = `{ hypervisor: qemu, source: ${host('hv1')}, destination: ${host('hv2')}, ${realBits} }`) =>
    parseConfig(`targets:\n  rack: ${target}\ndefaults: { target: rack }\nsuites:\n  s:\n    scenarios:\n      - ${scenario}\n`, 'cfg.yaml');
  const fingerprint = (scenario: string, target?: string) => resolveScenarios(config(scenario, target), 's')[0]!.fingerprint;
  const plain = '{ name: a, guest: { memoryMiB: 256 }, migration: { kind: memory } }';

  test('is a stable key', () => {
    expect(fingerprint(plain)).toMatch(/^scenario:[0-9a-f]{16}$/);
    expect(fingerprint(plain)).toBe(fingerprint(plain));
  });

  test.each([
    ['the guest', '{ name: a, guest: { memoryMiB: 512 }, migration: { kind: memory } }'],
    ['the workload', '{ name: a, guest: { memoryMiB: 256 }, workload: { memory: { workingSetMiB: 64, dirtyRateMBps: 4 } }, migration: { kind: memory } }'],
    ['a migration knob', '{ name: a, guest: { memoryMiB: 256 }, migration: { kind: memory, downtimeLimitMs: 50 } }'],
    ['the kind', '{ name: a, guest: { memoryMiB: 256 }, migration: { kind: storage } }'],
    ['the probe', '{ name: a, guest: { memoryMiB: 256 }, migration: { kind: memory }, probe: { intervalMs: 5 } }'],
    ['the target', '{ name: a, target: lab, guest: { memoryMiB: 256 }, migration: { kind: memory } }'],
    ['a fresh boot per sample', '{ name: a, guest: { memoryMiB: 256 }, migration: { kind: memory }, fresh: true }'],
  ])('changes with %s', (_what, scenario) => {
    expect(fingerprint(scenario)).not.toBe(fingerprint(plain));
  });

  test("changes with the target's knobs (QEMU arguments), not with its hosts' addresses or credentials", () => {
    const withArgs = `{ hypervisor: qemu, source: ${host('hv1')}, destination: ${host('hv2')}, ${realBits}, qemu: { extraArgs: ["-cpu", "qemu64"] } }`;
    const moved = `{ hypervisor: qemu, source: ${host('hv7')}, destination: ${host('hv8')}, ${realBits} }`;
    expect(fingerprint(plain, withArgs)).not.toBe(fingerprint(plain));
    expect(fingerprint(plain, moved)).toBe(fingerprint(plain));
  });

  test('changes with the link (lab targets only shape it)', () => {
    const lab = (link: string) =>
      resolveScenarios(parseConfig(`suites:\n  s:\n    scenarios:\n      - { name: a, guest: { memoryMiB: 256 }, migration: { kind: memory }${link} }\n`, 'c.yaml'), 's')[0]!
        .fingerprint;
    expect(lab(', link: { bandwidthMbps: 100 }')).not.toBe(lab(''));
    expect(lab(', link: { bandwidthMbps: 100 }')).not.toBe(lab(', link: { bandwidthMbps: 200 }'));
  });

  test('fresh: false, the default, keeps the keys scenarios had before it existed', () => {
    expect(fingerprint('{ name: a, guest: { memoryMiB: 256 }, migration: { kind: memory }, fresh: false }')).toBe(fingerprint(plain));
    // The key of `plain` as migbench computed it before `fresh` existed (issue 18).
    expect(fingerprint(plain)).toBe(FINGERPRINT_BEFORE_FRESH);
  });

  test('does not change with what judges or bounds a migration: name, description, thresholds, repeat, timeout', () => {
    const judged = '{ name: b, description: x, guest: { memoryMiB: 256 }, migration: { kind: memory, timeoutMs: 5000 }, thresholds: { totalTimeMs: 9000 }, repeat: 4 }';
    expect(fingerprint(judged)).toBe(fingerprint(plain));
  });
});
