// The checks a schema cannot make (src/config/checks.ts, scenario-checks.ts, target-checks.ts), through parseConfig.
import { totalmem } from 'node:os';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { labGuestMemoryLimitMiB } from '../../src/config/targets.js';
import { InputFileError } from '../../src/model/errors.js';
import { minimal, problems } from './problems.js';

describe('semantic checks', () => {
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
    expect(issues).toContain(
      'suites.s.scenarios[0].workload.disk.workingSetMiB (line 7): the disk workload rewrites data the guest wrote at boot: 128 MiB exceeds guest.diskDataMiB (64 MiB)',
    );
    expect(issues.find((i) => i.startsWith('suites.s.scenarios[0].guest.memoryMiB'))).toMatch(/needs at least 168 MiB/);
    expect(issues).toContain('suites.s.scenarios[1].name (line 9): duplicate scenario name "a" in suite s');
    expect(issues).toContain('suites.s.scenarios[1].target (line 10): no target named "prod" (known: lab, lab-libvirt)');
    expect(issues.find((i) => i.startsWith('suites.s.scenarios[2].guest.memoryMiB'))).toMatch(/expected at most \d+ MiB on the embedded lab, found 1048576 MiB/);
  });

  test('extra QEMU options and domain XML come from the allow-list, each problem at its place in the file', () => {
    const text = `targets:
  tuned:
    hypervisor: qemu
    lab: true
    qemu:
      extraArgs: ["-cpu", "qemu64", "-chardev", "socket,id=x,path=/tmp/s"]
  tuned-libvirt:
    hypervisor: libvirt
    lab: true
    qemu: { extraArgs: ["-cpu", "qemu64"] }
    libvirt: { domainXml: "<devices><disk/></devices>" }
${minimal}`;
    expect(problems(text)).toEqual([
      expect.stringMatching(/^targets\.tuned\.qemu\.extraArgs\[2\] \(line 6\): QEMU option "-chardev" is not allowed \(allowed: -cpu/),
      'targets.tuned-libvirt.qemu.extraArgs (line 10): extra QEMU options are for qemu targets; a libvirt target takes libvirt.domainXml',
      expect.stringMatching(/^targets\.tuned-libvirt\.libvirt\.domainXml \(line 11\): <devices> is not allowed at the domain's top level/),
    ]);
  });

  test('CPU pinning takes taskset lists, on qemu targets only', () => {
    const target = (name: string, hypervisor: string, cpus: string) =>
      `targets:\n  ${name}:\n    hypervisor: ${hypervisor}\n    lab: true\n    qemu: { cpus: ${cpus} }\n${minimal}`;
    expect(() => parseConfig(target('pinned', 'qemu', '{ source: "0", destination: "1-3,5", probes: "1" }'), 'c.yaml')).not.toThrow();
    expect(problems(target('pinned', 'qemu', '{ probes: "0; reboot" }'))).toEqual([expect.stringMatching(/^targets\.pinned\.qemu\.cpus\.probes \(line 5\): /)]);
    expect(problems(target('pinned-libvirt', 'libvirt', '{ source: "0" }'))).toEqual(['targets.pinned-libvirt.qemu.cpus (line 5): CPU pinning (taskset) is for qemu targets']);
  });

  test('real-host targets must name their hosts (their keys are checked on connecting, against the pins or known_hosts)', () => {
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
    expect(issues.filter((i) => /pin|host key/.test(i))).toEqual([]);
  });

  test('a xenserver target needs its settings and a password source, never the password itself', () => {
    const host =
      '{ address: xcp1, user: root, identityFile: /k, hostKeyFingerprints: ["SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"], migrationAddress: 10.0.0.1, migrationInterface: xenbr1 }';
    const target = (xen: string) =>
      `targets:\n  pool: { hypervisor: xenserver, source: ${host}, destination: ${host}, guestNetwork: { address: 192.0.2.6/24, bridge: xenbr0 }${xen} }\n${minimal}`;
    expect(problems(target(''))).toEqual(['targets.pool (line 2): a xenserver target needs its xenserver settings (url, user, vm, sourceHost, destinationHost)']);
    expect(problems(target(', xenserver: { url: "https://xcp1", user: root, vm: web, sourceHost: a, destinationHost: b }'))).toEqual([
      'targets.pool.xenserver (line 2): give the XenAPI password as passwordEnv or passwordFile (never in the config itself)',
    ]);
    expect(problems(target(', xenserver: { url: "http://xcp1", user: root, passwordEnv: XAPI, vm: web, sourceHost: a, destinationHost: b }'))).toEqual([
      'targets.pool.xenserver.url (line 2): http:// would send the password unencrypted: use https://, or set insecure: true for a lab or simulator on this machine',
    ]);
    expect(problems(target(', xenserver: { url: "http://xcp1", insecure: true, user: root, password: hunter2, vm: web, sourceHost: a, destinationHost: b }'))[0]).not.toMatch(
      /http:/,
    );
    expect(problems(target(', xenserver: { url: "https://xcp1", user: root, password: hunter2, vm: web, sourceHost: a, destinationHost: b }'))[0]).toMatch(
      /targets\.pool\.xenserver.*password/,
    );
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
    expect(issues).toContain(
      'suites.s.scenarios[0].link (line 10): link shaping changes the network it runs on, so migbench only does it in the embedded lab (target prod is not the lab)',
    );
    expect(issues).toContain(
      "suites.s.scenarios[0].migration.kind (line 10): memory migration keeps the guest's disk on storage both hosts see: set targets.prod.sharedStorageDir",
    );
    expect(issues).toContain('suites.s.scenarios[1].guest.diskDataMiB (line 11): 64 MiB of data does not fit a 32 MiB disk');
    expect(issues).toContain('suites.s.scenarios[1].migration.postcopyAfterMs (line 11): postcopy with storage migration is not supported by migbench yet');
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
    // Reported once, at the axis value or the part of base it came from, naming every scenario it affects.
    expect(labelled).toContain(
      'matrices.m.axes[0].values[1] (line 6): scenarios teleport-idle, teleport-big: migration.kind: expected one of "memory", "storage", found "teleport"',
    );
    expect(
      labelled.find((i) => i.startsWith('matrices.m.base.guest.memoryMiB (line 4): scenario memory-big: guest.memoryMiB: 256 MiB cannot hold the working set (512 MiB)')),
    ).toBeDefined();
  });
});

// Issue 8, "Bad input": every kind of bad config is one clear problem naming the JSON path
// (and the line), what was expected and what was found.
describe('bad input: each case names the path, what was expected and what was found', () => {
  const scenario = (extra = '', guest = 'memoryMiB: 256', migration = 'kind: memory') =>
    `suites:\n  s:\n    scenarios:\n      - { name: a, guest: { ${guest} }, migration: { ${migration} }${extra} }\n`;
  const at = 'suites.s.scenarios[0]';
  const fp = `"SHA256:${'A'.repeat(43)}"`;
  const host = `{ address: h1, user: root, identityFile: /k, hostKeyFingerprints: [${fp}], migrationAddress: 10.0.0.1, migrationInterface: eth1 }`;
  const realHosts = `source: ${host}, destination: ${host}, guestNetwork: { address: 192.0.2.5/24, bridge: br0 }`;
  const vendor = (kind: string, settings: string, scenarioExtra = '', migration = 'kind: memory') =>
    `targets:\n  t1: { hypervisor: ${kind}, ${realHosts}, ${kind}: { ${settings} } }\nsuites:\n  s:\n    scenarios:\n      - { name: a, target: t1, guest: { memoryMiB: 256 }, migration: { ${migration} }${scenarioExtra} }\n`;
  const xen = 'url: "https://x", user: root, passwordEnv: XAPI_PW, vm: v, sourceHost: a, destinationHost: b';
  const vs = 'url: "https://vc/sdk", user: admin, passwordEnv: VC_PW, vm: v, sourceHost: a, destinationHost: b';
  const hv = 'vm: v, sourceHost: a, destinationHost: b';
  const matrix = (base: string, axes: string) => `suites: {}\nmatrices:\n  m:\n    base: { ${base} }\n    axes:\n${axes}`;
  const machineMiB = Math.floor(totalmem() / (1024 * 1024));
  const labLimit = Math.floor((machineMiB * 0.8) / 2);

  // [case, config text, path (with line), parts the message must contain]
  const cases: Array<[string, string, string, string[]]> = [
    [
      'unknown key at the top',
      `bogus: 1\n${scenario()}`,
      'bogus (line 1)',
      ['unknown key "bogus"', 'expected one of: $schema, schemaVersion, defaults, targets, suites, matrices, compare'],
    ],
    ['unknown key in a scenario', scenario(', warmup: 3'), `${at}.warmup (line 4)`, ['unknown key "warmup"', 'expected one of: name, description, target, guest']],
    [
      'unknown key in a target, with the closest name',
      `targets:\n  t1: { hypervisor: qemu, ${realHosts}, sharedStorageDir: /srv, sharedStorage: /srv }\n${scenario()}`,
      'targets.t1.sharedStorage (line 2)',
      ['unknown key "sharedStorage"', 'did you mean "sharedStorageDir"?', 'expected one of: hypervisor, lab'],
    ],
    [
      'unknown key in a matrix axis',
      matrix('guest: { memoryMiB: 256 }, migration: { kind: memory }', '      - { path: migration.kind, values: [memory, storage], step: 2 }\n'),
      'matrices.m.axes[0].step (line 6)',
      ['unknown key "step"', 'expected one of: path, values, labels'],
    ],
    [
      'a matrix axis on a field scenarios do not have',
      matrix('guest: { memoryMiB: 256 }, migration: { kind: memory }', '      - { path: guest.cpus, values: [1, 2] }\n'),
      'matrices.m.axes[0].path (line 6)',
      ['a scenario has no field guest.cpus', 'unknown key "cpus"', 'did you mean "vcpus"?', 'expected one of: memoryMiB, vcpus, diskMiB, diskDataMiB'],
    ],
    [
      'unknown key in a matrix base, reported once at the base',
      matrix('guest: { memoryMiB: 256, cpus: 2 }, migration: { kind: memory }', '      - { path: migration.kind, values: [memory, storage] }\n'),
      'matrices.m.base.guest.cpus (line 4)',
      ['scenarios memory, storage: guest.cpus: unknown key "cpus"', 'did you mean "vcpus"?'],
    ],
    ['wrong type', scenario('', 'memoryMiB: lots'), `${at}.guest.memoryMiB (line 4)`, ['expected integer', 'found "lots"']],
    ['wrong type for a whole section', 'suites: 3\n', 'suites (line 1)', ['expected object', 'found 3']],
    ['negative number', scenario('', 'memoryMiB: 256, vcpus: -2'), `${at}.guest.vcpus (line 4)`, ['expected an integer >= 1', 'found -2']],
    [
      'negative rate',
      scenario(', workload: { memory: { workingSetMiB: 64, dirtyRateMBps: -5 } }'),
      `${at}.workload.memory.dirtyRateMBps (line 4)`,
      ['expected a number >= 0', 'found -5'],
    ],
    ['downtime limit 0', scenario('', undefined, 'kind: memory, downtimeLimitMs: 0'), `${at}.migration.downtimeLimitMs (line 4)`, ['expected an integer >= 1', 'found 0']],
    ['migration timeout 0', scenario('', undefined, 'kind: memory, timeoutMs: 0'), `${at}.migration.timeoutMs (line 4)`, ['expected an integer >= 1000', 'found 0']],
    ['default migration timeout 0', `defaults: { migrationTimeoutMs: 0 }\n${scenario()}`, 'defaults.migrationTimeoutMs (line 1)', ['expected an integer >= 1000', 'found 0']],
    ['bandwidth 0', scenario('', undefined, 'kind: memory, maxBandwidthMiBps: 0'), `${at}.migration.maxBandwidthMiBps (line 4)`, ['expected a number > 0', 'found 0']],
    [
      'bandwidth 10^12 MiB/s',
      scenario('', undefined, 'kind: memory, maxBandwidthMiBps: 1000000000000'),
      `${at}.migration.maxBandwidthMiBps (line 4)`,
      ['expected a number <= 1000000', 'found 1000000000000'],
    ],
    ['link bandwidth 0', scenario(', link: { bandwidthMbps: 0 }'), `${at}.link.bandwidthMbps (line 4)`, ['expected a number >= 1', 'found 0']],
    ['n = 0 repetitions', scenario(', repeat: 0'), `${at}.repeat (line 4)`, ['expected an integer >= 1', 'found 0']],
    [
      'n = 0 repetitions of a matrix',
      `${matrix('guest: { memoryMiB: 256 }, migration: { kind: memory }', '      - { path: migration.kind, values: [memory, storage] }\n')}    repeat: 0\n`,
      'matrices.m.repeat (line 7)',
      ['expected an integer >= 1', 'found 0'],
    ],
    ['probe interval 0', scenario(', probe: { intervalMs: 0 }'), `${at}.probe.intervalMs (line 4)`, ['expected a number >= 0.5', 'found 0']],
    ['default probe interval 0', `defaults: { probe: { intervalMs: 0 } }\n${scenario()}`, 'defaults.probe.intervalMs (line 1)', ['expected a number >= 0.5', 'found 0']],
    ['threshold 0', scenario(', thresholds: { downtimeMs: 0 }'), `${at}.thresholds.downtimeMs (line 4)`, ['expected a number > 0', 'found 0']],
    [
      'xbzrle cache larger than the guest',
      scenario('', undefined, 'kind: memory, xbzrleCacheMiB: 1024'),
      `${at}.migration.xbzrleCacheMiB (line 4)`,
      ["expected at most the guest's memory (256 MiB", 'found 1024 MiB'],
    ],
    [
      'guest memory 1 TiB on the lab: the machine memory is named',
      scenario('', 'memoryMiB: 1048576'),
      `${at}.guest.memoryMiB (line 4)`,
      [`expected at most ${labLimit} MiB on the embedded lab, found 1048576 MiB`, `both must fit in 80% of its ${machineMiB} MiB of RAM`],
    ],
    [
      'guest memory 1 TiB on the lab from a matrix axis: reported at the value',
      matrix('migration: { kind: memory }', '      - { path: guest.memoryMiB, values: [256, 1048576] }\n'),
      'matrices.m.axes[0].values[1] (line 6)',
      ['scenario 1048576: guest.memoryMiB: expected at most', `of its ${machineMiB} MiB of RAM`],
    ],
    [
      'threshold on an unknown metric: the closest is suggested',
      scenario(', thresholds: { downtimeMS: 300 }'),
      `${at}.thresholds.downtimeMS (line 4)`,
      ['unknown metric "downtimeMS"', 'did you mean "downtimeMs"?', 'expected one of: totalTimeMs, wallTimeMs, downtimeMs'],
    ],
    [
      'threshold on a metric that takes none',
      scenario(', thresholds: { mirrorTimeMs: 300 }'),
      `${at}.thresholds.mirrorTimeMs (line 4)`,
      ['mirrorTimeMs is measured but cannot take a threshold', 'expected one of: totalTimeMs'],
    ],
    [
      'compare threshold on an unknown metric',
      `${scenario()}compare:\n  metrics: { downtime: { warnPct: 5, failPct: 10 } }\n`,
      'compare.metrics.downtime (line 6)',
      ['unknown metric "downtime"', 'did you mean "downtimeMs"?', 'expected one of: totalTimeMs'],
    ],
    [
      'judging an unknown metric',
      `${scenario()}compare:\n  judge: [totalTimeMs, latencyMs]\n`,
      'compare.judge[1] (line 6)',
      ['expected one of "totalTimeMs"', 'found "latencyMs"'],
    ],
    [
      'compare thresholds for a scenario that does not exist',
      `${scenario()}compare:\n  scenarios: { b: { downtimeMs: { warnPct: 5, failPct: 10 } } }\n`,
      'compare.scenarios.b (line 6)',
      ['no scenario named "b"', 'known: a'],
    ],
    [
      'a warn threshold above the fail threshold',
      `${scenario()}compare:\n  default: { warnPct: 20, failPct: 5 }\n`,
      'compare.default.warnPct (line 6)',
      ['expected at most failPct (5%)', 'found 20%'],
    ],
    [
      'a suite name that is not a name',
      'suites:\n  Memory_Mig:\n    scenarios:\n      - { name: a, guest: { memoryMiB: 256 }, migration: { kind: memory } }\n',
      'suites.Memory_Mig (line 3)',
      ['expected a name matching ^[a-z][a-z0-9-]{0,60}$', 'found the name "Memory_Mig"'],
    ],
    [
      'an unknown target, with the closest name',
      `targets:\n  rack1: { hypervisor: qemu, ${realHosts}, sharedStorageDir: /srv }\n${scenario(', target: rack')}`,
      `${at}.target (line 6)`,
      ['no target named "rack"', 'did you mean "rack1"?', 'known: lab, lab-libvirt, rack1'],
    ],
    [
      'xenserver without credentials',
      vendor('xenserver', xen.replace('passwordEnv: XAPI_PW, ', '')),
      'targets.t1.xenserver (line 2)',
      ['give the XenAPI password as passwordEnv or passwordFile'],
    ],
    [
      'vsphere without credentials',
      vendor('vsphere', vs.replace('passwordEnv: VC_PW, ', '')),
      'targets.t1.vsphere (line 2)',
      ['give the vCenter password as passwordEnv or passwordFile'],
    ],
    [
      'a password in the config itself',
      vendor('vsphere', `${vs}, password: hunter2`),
      'targets.t1.vsphere.password (line 2)',
      ['unknown key "password"', 'passwordEnv, passwordFile'],
    ],
    [
      'hyperv takes no password',
      vendor('hyperv', `${hv}, passwordEnv: X`),
      'targets.t1.hyperv.passwordEnv (line 2)',
      ['unknown key "passwordEnv"', 'expected one of: vm, sourceHost, destinationHost, storage, shell'],
    ],
    [
      'a knob a vendor target cannot set',
      vendor('vsphere', vs, '', 'kind: memory, downtimeLimitMs: 30'),
      `${at}.migration.downtimeLimitMs (line 6)`,
      ['expected no downtimeLimitMs on target t1', 'through vCenter', 'found 30'],
    ],
    [
      'a workload on a vendor target',
      vendor('xenserver', xen, ', workload: { cpu: { threads: 1 } }'),
      `${at}.workload (line 6)`,
      ['expected no workload on target t1', 'runs no migbench agent', 'found workload.cpu'],
    ],
    [
      'a threshold on a metric the vendor never reports',
      vendor('xenserver', xen, ', thresholds: { downtimeMs: 300 }'),
      `${at}.thresholds.downtimeMs (line 6)`,
      ['target t1 (XenServer) never reports downtimeMs', 'thresholds it can meet: totalTimeMs, wallTimeMs, observedDowntimeMs, wireBytes'],
    ],
    [
      'qemu settings on a vendor target',
      `targets:\n  t1: { hypervisor: hyperv, ${realHosts}, hyperv: { ${hv} }, qemu: { accel: kvm } }\n${scenario(', target: t1')}`,
      'targets.t1.qemu (line 2)',
      ['qemu settings belong to a qemu or libvirt target, not hyperv'],
    ],
    [
      'libvirt settings on a qemu target',
      `targets:\n  t1: { hypervisor: qemu, ${realHosts}, sharedStorageDir: /srv, libvirt: { mode: p2p } }\n${scenario(', target: t1')}`,
      'targets.t1.libvirt (line 2)',
      ['libvirt settings belong to a libvirt target, not qemu'],
    ],
    ['an empty file', '', '(root)', ['expected a config (a map with at least "suites")', 'found an empty file']],
    ['a list instead of a map', '- a\n- b\n', '(root) (line 1)', ['expected object', 'found ["a","b"]']],
    ['null where a map goes', scenario('', undefined).replace('guest: { memoryMiB: 256 }', 'guest: null'), `${at}.guest (line 4)`, ['expected object', 'found null']],
    ['YAML .inf', scenario('', 'memoryMiB: .inf'), `${at}.guest.memoryMiB (line 4)`, ['expected a finite number', 'found Infinity']],
    ['a YAML tag', scenario('', 'memoryMiB: !!binary AAAA'), `${at}.guest.memoryMiB (line 4)`, ['expected a map, a list or a plain value', 'found a Buffer', 'YAML tags']],
    [
      'a YAML alias that contains itself',
      'suites:\n  s:\n    scenarios:\n      - &a { name: a, guest: { memoryMiB: 256 }, migration: { kind: memory }, description: [*a] }\n',
      `${at}.description[0] (line 4)`,
      ['a YAML alias that contains itself'],
    ],
    ['a YAML alias without its anchor', `x: *nope\n${scenario()}`, '(line 1, column 4)', ['the YAML alias *nope has no anchor &nope before it']],
    ['a YAML alias bomb', `a: &a [1]\nb: [${Array(101).fill('*a').join(', ')}]\n`, '(line 2, column 5)', ['too many YAML aliases']],
    ['a list as a map key', 'suites:\n  [a, b]: 1\n', '(line 2, column 3)', ['expected a plain key (a name), found a list used as a key']],
    ['malformed YAML: line and column', 'suites:\n  s:\n    scenarios: [\n      - name: a\n', '(line 4, column 7)', ['Block collections are not allowed within flow collections']],
    ['tabs in YAML', 'suites:\n  s:\n\tscenarios: []\n', '(line 3, column 1)', ['Tabs are not allowed']],
    ['a key given twice', 'suites: {}\nsuites: {}\n', '(line 2, column 1)', ['Map keys must be unique']],
  ];

  test.each(cases)('%s', (_, text, path, parts) => {
    let error: unknown;
    try {
      parseConfig(text, 'dir/cfg.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputFileError);
    const e = error as InputFileError;
    expect(e).toMatchObject({ code: 'MB_CONFIG_INVALID', file: 'dir/cfg.yaml', userError: true });
    expect(e.message.startsWith('dir/cfg.yaml: ')).toBe(true);
    const issue = e.issues.find((i) => i.path === path);
    expect(issue, `no problem at ${path}; got:\n${e.message}`).toBeDefined();
    for (const part of parts) expect(issue!.message).toContain(part);
  });

  test('what docs/config.md shows for vendor targets is valid: a vendor VM keeps its own storage, so no sharedStorageDir', () => {
    for (const [kind, settings] of [
      ['xenserver', xen],
      ['vsphere', vs],
      ['hyperv', hv],
    ] as const) {
      expect(() => parseConfig(vendor(kind, settings, ', thresholds: { totalTimeMs: 60000, observedDowntimeMs: 1000, wireBytes: 1000000 }'), 'v.yaml'), kind).not.toThrow();
    }
    // The same scenario on QEMU needs the shared folder.
    expect(problems(`targets:\n  t1: { hypervisor: qemu, ${realHosts} }\n${scenario(', target: t1')}`)).toEqual([
      `${at}.migration.kind (line 6): memory migration keeps the guest's disk on storage both hosts see: set targets.t1.sharedStorageDir`,
    ]);
  });

  test('a scenario on two lab targets gets one complaint, not two', () => {
    const text = `suites:\n  s:\n    targets: [lab, lab-libvirt]\n    scenarios:\n      - { name: a, guest: { memoryMiB: 1048576 }, migration: { kind: memory } }\n`;
    expect(problems(text)).toHaveLength(1);
  });

  test('the lab memory limit is 80% of the machine shared by two guests', () => {
    expect(labGuestMemoryLimitMiB(24105)).toBe(9642);
    expect(labGuestMemoryLimitMiB(2048)).toBe(819);
    expect(() => parseConfig(scenario('', `memoryMiB: ${labLimit}`), 'c.yaml')).not.toThrow();
    expect(problems(scenario('', `memoryMiB: ${labLimit + 1}`))).toHaveLength(1);
  });
});
