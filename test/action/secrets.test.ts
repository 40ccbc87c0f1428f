import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { configSecrets } from '../../src/action/secrets.js';
import { parseConfig } from '../../src/config/load.js';

describe(configSecrets, () => {
  test('the passwords a config points at, from the environment and from files, for masking', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-secrets-'));
    await writeFile(join(dir, 'vc'), 'vc-s3cret\nignored second line\n');
    const host =
      '{ address: h, user: root, identityFile: /k, hostKeyFingerprints: ["SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"], migrationAddress: 10.0.0.1, migrationInterface: eth1 }';
    const config = parseConfig(
      `targets:
  xcp: { hypervisor: xenserver, source: ${host}, destination: ${host}, guestNetwork: { address: 192.0.2.60/24, bridge: xenbr0 }, xenserver: { url: "https://x", user: root, passwordEnv: XAPI_PW, vm: a, sourceHost: b, destinationHost: c } }
  vc: { hypervisor: vsphere, source: ${host}, destination: ${host}, guestNetwork: { address: 192.0.2.70/24, bridge: n }, vsphere: { url: "https://v/sdk", user: u, passwordFile: ${join(dir, 'vc')}, vm: a, sourceHost: b, destinationHost: c } }
  gone: { hypervisor: vsphere, source: ${host}, destination: ${host}, guestNetwork: { address: 192.0.2.71/24, bridge: n }, vsphere: { url: "https://v/sdk", user: u, passwordFile: ${join(dir, 'missing')}, vm: a, sourceHost: b, destinationHost: c } }
suites: {}
`,
      'secrets.yaml',
    );
    expect((await configSecrets(config, { XAPI_PW: 'x4pi-pw' })).sort()).toEqual(['vc-s3cret', 'x4pi-pw']);
    expect(await configSecrets(config, {})).toEqual(['vc-s3cret']);
  });
});
