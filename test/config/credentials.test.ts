import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { assertCredentials, scenarioTargets } from '../../src/config/credentials.js';
import { parseConfig } from '../../src/config/load.js';
import { InputFileError } from '../../src/model/errors.js';

describe(assertCredentials, () => {
  async function files() {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-creds-'));
    await writeFile(join(dir, 'id'), 'not a key\n');
    await writeFile(join(dir, 'pw'), 'hunter2-secret\n');
    return dir;
  }
  const config = (dir: string, settings: string, hostExtra = '') => {
    const host = `{ address: h1, user: root, identityFile: ${dir}/id, hostKeyFingerprints: ["SHA256:${'A'.repeat(43)}"], migrationAddress: 10.0.0.1, migrationInterface: eth1${hostExtra} }`;
    const text = `targets:
  rack1: { hypervisor: vsphere, source: ${host}, destination: ${host}, guestNetwork: { address: 192.0.2.5/24, bridge: br0 }, vsphere: { url: "https://vc/sdk", user: admin, vm: v, sourceHost: a, destinationHost: b, ${settings} } }
suites:
  s:
    scenarios:
      - { name: a, target: rack1, guest: { memoryMiB: 256 }, migration: { kind: memory } }
`;
    return { path: 'dir/c.yaml', config: parseConfig(text, 'dir/c.yaml') };
  };
  const refused = (f: () => void): InputFileError => {
    try {
      f();
    } catch (error) {
      expect(error).toBeInstanceOf(InputFileError);
      expect((error as InputFileError).userError).toBe(true);
      return error as InputFileError;
    }
    throw new Error('expected the credentials to be refused');
  };

  test('a passwordEnv naming an unset or empty variable: the target, the variable, never a value', async () => {
    const dir = await files();
    const loaded = config(dir, 'passwordEnv: MB_TEST_VC_PW');
    expect(scenarioTargets(loaded.config)).toEqual(['rack1']);
    const unset = refused(() => assertCredentials(loaded, ['rack1'], {}));
    expect(unset.message).toBe(
      'dir/c.yaml: invalid\n  targets.rack1.vsphere.passwordEnv (line 2): expected the environment variable MB_TEST_VC_PW to hold the vCenter password of target rack1, found it unset',
    );
    expect(refused(() => assertCredentials(loaded, ['rack1'], { MB_TEST_VC_PW: '' })).message).toContain('found it empty');
    expect(() => assertCredentials(loaded, ['rack1'], { MB_TEST_VC_PW: 'hunter2-secret' })).not.toThrow();
    // Only the targets asked about are checked.
    expect(() => assertCredentials(loaded, ['lab'], {})).not.toThrow();
  });

  test('a password, identity or known_hosts file that cannot be read is named, its contents never read', async () => {
    const dir = await files();
    expect(() => assertCredentials(config(dir, `passwordFile: ${dir}/pw`), ['rack1'], {})).not.toThrow();
    const missing = refused(() => assertCredentials(config(dir, `passwordFile: ${dir}/nope`, `, knownHostsFile: ${dir}`), ['rack1'], {}));
    expect(missing.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      `targets.rack1.vsphere.passwordFile (line 2): expected a readable file holding the vCenter password of target rack1, found ${dir}/nope: no such file (ENOENT)`,
      `targets.rack1.source.knownHostsFile (line 2): expected a readable known_hosts file for the source host of target rack1, found ${dir}, a directory`,
      `targets.rack1.destination.knownHostsFile (line 2): expected a readable known_hosts file for the destination host of target rack1, found ${dir}, a directory`,
    ]);
    const noKey = refused(() => assertCredentials(config(`${dir}/gone`, `passwordFile: ${dir}/pw`), ['rack1'], {}));
    expect(noKey.issues[0]).toEqual({
      path: 'targets.rack1.source.identityFile (line 2)',
      message: `expected a readable SSH private key for the source host of target rack1, found ${dir}/gone/id: no such file (ENOENT)`,
    });
    expect(noKey.message).not.toContain('hunter2');
  });
});
