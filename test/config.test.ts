import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig, matrixNames, parseConfig, resolveMatrix, resolveScenarios, resolveTargetConfig } from '../src/config.js';
import { InputFileError } from '../src/errors.js';

const minimal = `suites:
  memory-migration:
    scenarios:
      - name: idle-256
        guest: { memoryMiB: 256 }
        migration: { kind: memory }
`;

function problems(text: string): string[] {
  try {
    parseConfig(text, 'cfg.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(InputFileError);
    expect((error as InputFileError).code).toBe('MB_CONFIG_INVALID');
    expect((error as InputFileError).userError).toBe(true);
    return (error as InputFileError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the config to be refused');
}

describe(parseConfig, () => {
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

  test('unknown keys, wrong types and out-of-range values: JSON path, line, expected and found', () => {
    const text = `suites:
  memory-migration:
    scenarios:
      - name: idle-256
        guest: { memoryMiB: "lots", cpus: 2 }
        migration: { kind: memory, downtimeLimitMs: 0 }
        thresholds: { observedDowntimeMs: 500, latencyMs: 3 }
`;
    expect(problems(text)).toEqual([
      'suites.memory-migration.scenarios[0].guest.cpus (line 5): unknown key "cpus"',
      'suites.memory-migration.scenarios[0].guest.memoryMiB (line 5): expected integer, found "lots"',
      'suites.memory-migration.scenarios[0].migration.downtimeLimitMs (line 6): must be >= 1, found 0',
      'suites.memory-migration.scenarios[0].thresholds.latencyMs (line 7): unknown key "latencyMs"',
    ]);
  });

  test('what a schema cannot check: sizes that do not fit, unknown targets, duplicate names', () => {
    const text = `defaults: { target: staging }
suites:
  s:
    scenarios:
      - name: a
        guest: { memoryMiB: 96 }
        workload: { memory: { workingSetMiB: 64, dirtyRateMBps: 8 }, disk: { workingSetMiB: 128, writeRateMBps: 1 } }
        migration: { kind: memory }
      - name: a
        target: prod
        guest: { memoryMiB: 256 }
        migration: { kind: memory }
      - name: huge
        target: lab
        guest: { memoryMiB: 1048576 }
        migration: { kind: memory }
`;
    const issues = problems(text);
    expect(issues).toContain('defaults.target (line 1): no target named "staging" (known: lab, lab-libvirt)');
    expect(issues).toContain('suites.s.scenarios[0].workload.disk.workingSetMiB (line 7): the disk workload rewrites data the guest wrote at boot: 128 MiB exceeds guest.diskDataMiB (64 MiB)');
    expect(issues.find((i) => i.startsWith('suites.s.scenarios[0].guest.memoryMiB'))).toMatch(/needs at least 168 MiB/);
    expect(issues).toContain('suites.s.scenarios[1].name (line 9): duplicate scenario name "a" in suite s');
    expect(issues).toContain('suites.s.scenarios[1].target (line 10): no target named "prod" (known: lab, lab-libvirt)');
    expect(issues.find((i) => i.startsWith('suites.s.scenarios[2].guest.memoryMiB'))).toMatch(/too large for the embedded lab on this machine/);
  });

  test('real-host targets must pin host keys and name their hosts', () => {
    const text = `targets:
  prod:
    hypervisor: qemu
    source: { address: hv1, user: root, identityFile: /k, migrationAddress: 10.1.0.1, migrationInterface: ens5 }
suites:
  s:
    scenarios:
      - { name: a, target: prod, guest: { memoryMiB: 256 }, migration: { kind: memory } }
`;
    const issues = problems(text);
    expect(issues).toContain('targets.prod.destination (line 3): a target on real hosts needs destination');
    expect(issues).toContain('targets.prod.guestNetwork (line 3): a target on real hosts needs guestNetwork');
    expect(issues).toContain('targets.prod.source (line 4): pin the host key: set hostKeyFingerprints or knownHostsFile (unknown host keys are refused)');
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
    expect(resolveScenarios(config, 'memory-migration').map((s) => `${s.name} on ${s.target}`)).toEqual(['idle-256 on lab', 'idle-256@lab-libvirt on lab-libvirt', 'pinned on lab']);
    expect(resolveTargetConfig(config, 'lab-libvirt')).toEqual({ hypervisor: 'libvirt', lab: true });
    expect(problems(minimal.replace('memory-migration:\n', 'memory-migration:\n    targets: [lab, xen-pool]\n'))).toEqual([
      'suites.memory-migration.targets[1] (line 3): no target named "xen-pool" (known: lab, lab-libvirt)',
    ]);
  });

  test('a xenserver target needs its settings and a password source, never the password itself', () => {
    const host = '{ address: xcp1, user: root, identityFile: /k, hostKeyFingerprints: ["SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"], migrationAddress: 10.0.0.1, migrationInterface: xenbr1 }';
    const target = (xen: string) => `targets:\n  pool: { hypervisor: xenserver, source: ${host}, destination: ${host}, guestNetwork: { address: 192.0.2.6/24, bridge: xenbr0 }${xen} }\n${minimal}`;
    expect(problems(target(''))).toEqual(['targets.pool (line 2): a xenserver target needs its xenserver settings (url, user, vm, sourceHost, destinationHost)']);
    expect(problems(target(', xenserver: { url: "https://xcp1", user: root, vm: web, sourceHost: a, destinationHost: b }'))).toEqual([
      'targets.pool.xenserver (line 2): give the XenAPI password as passwordEnv or passwordFile (never in the config itself)',
    ]);
    expect(problems(target(', xenserver: { url: "https://xcp1", user: root, password: hunter2, vm: web, sourceHost: a, destinationHost: b }'))[0]).toMatch(/targets\.pool\.xenserver.*password/);
  });

  test('broken YAML is reported with its position', () => {
    expect(problems('suites:\n  s: [\n')[0]).toMatch(/^\(line \d+, column \d+\): /);
    expect(problems('suites: {}\nsuites: {}\n')[0]).toMatch(/unique/i);
  });

  test('JSON configs work the same way', () => {
    expect(() => parseConfig('{"suites": {"s": {"scenarios": [{"name": "a", "guest": {"memoryMiB": 256}, "migration": {"kind": "memory"}}]}}}', 'c.json')).not.toThrow();
  });
});

describe(loadConfig, () => {
  test('a missing file names the file', async () => {
    await expect(loadConfig('/nonexistent/migbench.yaml')).rejects.toMatchObject({ code: 'MB_CONFIG_READ', message: expect.stringContaining('/nonexistent/migbench.yaml') });
  });

  test('hashes the file so results say exactly which config produced them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-config-'));
    await writeFile(join(dir, 'c.yaml'), minimal);
    const loaded = await loadConfig(join(dir, 'c.yaml'));
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('the shipped default config is valid', async () => {
    const { config } = await loadConfig('suites/migbench.config.yaml');
    expect(resolveScenarios(config, 'memory-migration').map((s) => s.name)).toEqual(['idle-256', 'dirty-64m-32mbps']);
  });
});

describe('scenario knobs and matrices', () => {
  const base = `targets:
  prod:
    hypervisor: qemu
    source: { address: hv1, user: root, identityFile: /k, hostKeyFingerprints: ["SHA256:${'A'.repeat(43)}"], migrationAddress: 10.1.0.1, migrationInterface: ens5 }
    destination: { address: hv2, user: root, identityFile: /k, hostKeyFingerprints: ["SHA256:${'B'.repeat(43)}"], migrationAddress: 10.1.0.2, migrationInterface: ens5 }
    guestNetwork: { address: 192.0.2.5/24, bridge: br0 }
`;

  test('shaping only in the lab, shared storage for memory migration on real hosts, no postcopy with storage', () => {
    const issues = problems(`${base}suites:
  s:
    scenarios:
      - { name: a, target: prod, guest: { memoryMiB: 256 }, migration: { kind: memory }, link: { bandwidthMbps: 100 } }
      - { name: b, guest: { memoryMiB: 256, diskMiB: 32, diskDataMiB: 64 }, migration: { kind: storage, postcopyAfterMs: 100 } }
`);
    expect(issues).toContain('suites.s.scenarios[0].link (line 10): link shaping changes the network it runs on, so migbench only does it in the embedded lab (target prod is not the lab)');
    expect(issues).toContain("suites.s.scenarios[0].migration.kind (line 10): memory migration keeps the guest's disk on storage both hosts see: set targets.prod.sharedStorageDir");
    expect(issues).toContain('suites.s.scenarios[1].guest.diskDataMiB (line 11): 64 MiB of data does not fit a 32 MiB disk');
    expect(issues).toContain('suites.s.scenarios[1].migration.postcopyAfterMs (line 11): postcopy with storage migration is not supported by migbench yet');
  });

  test('a matrix expands to the cross product of its axes, named by labels, defaults applied', () => {
    const config = parseConfig(`suites: {}
matrices:
  size-load-kind:
    repeat: 3
    base: { guest: { vcpus: 1 }, migration: { kind: memory }, thresholds: { totalTimeMs: 60000 } }
    axes:
      - { path: guest.memoryMiB, values: [128, 256] }
      - { path: workload, values: [{}, { memory: { workingSetMiB: 16, dirtyRateMBps: 16 } }], labels: [idle, dirty] }
      - { path: migration.kind, values: [memory, storage] }
`, 'm.yaml');
    const points = resolveMatrix(config, 'size-load-kind');
    expect(points.map((p) => p.resolved.name)).toEqual([
      '128-idle-memory', '128-idle-storage', '128-dirty-memory', '128-dirty-storage',
      '256-idle-memory', '256-idle-storage', '256-dirty-memory', '256-dirty-storage',
    ]);
    const dirtyStorage = points[3]!.resolved;
    expect(dirtyStorage).toMatchObject({ suite: 'size-load-kind', repeat: 3, guest: { memoryMiB: 128, vcpus: 1, diskMiB: 256 }, migration: { kind: 'storage' }, thresholds: { totalTimeMs: 60000 } });
    expect(dirtyStorage.workload.memory).toEqual({ workingSetMiB: 16, dirtyRateMBps: 16, pattern: 'sequential' });
    expect(points[3]!.axes['workload']!.label).toBe('dirty');
    expect(matrixNames(config)).toEqual(['size-load-kind']);
  });

  test('expanded scenarios are checked like written ones, and the problem names the matrix and the scenario', () => {
    const issues = problems(`suites: {}
matrices:
  m:
    base: { guest: { memoryMiB: 256 }, migration: { kind: memory } }
    axes:
      - { path: migration.kind, values: [memory, teleport] }
      - { path: workload, values: [{}, { memory: { workingSetMiB: 512, dirtyRateMBps: 1 } }] }
`);
    expect(issues).toContain('matrices.m.axes[1].values[0] (line 7): give this axis labels: {} has no obvious name');
    const labelled = problems(`suites: {}
matrices:
  m:
    base: { guest: { memoryMiB: 256 }, migration: { kind: memory } }
    axes:
      - { path: migration.kind, values: [memory, teleport] }
      - { path: workload, values: [{}, { memory: { workingSetMiB: 512, dirtyRateMBps: 1 } }], labels: [idle, big] }
`);
    expect(labelled).toContain('matrices.m (line 4): scenario teleport-idle: migration.kind: expected one of "memory", "storage", found "teleport"');
    expect(labelled.find((i) => i.startsWith('matrices.m (line 4): scenario memory-big: guest.memoryMiB: 256 MiB cannot hold the working set (512 MiB)'))).toBeDefined();
  });
});
