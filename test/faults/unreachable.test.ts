// A config for each kind of real-host target passes validation; with its hosts unreachable,
// connecting fails fast with an error that names the host (nothing listens on these ports).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { LocalRunner } from '../../src/exec/local.js';
import { connectTarget } from '../../src/engine/target.js';

const FINGERPRINT = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

async function config() {
  const dir = await mkdtemp(join(tmpdir(), 'migbench-unreachable-'));
  const key = join(dir, 'id_ed25519');
  await new LocalRunner().run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key]);
  await writeFile(join(dir, 'xapi-password'), 'not-a-real-password\n');
  const host = (port: number) =>
    `{ address: 127.0.0.1, port: ${port}, user: root, identityFile: ${key}, hostKeyFingerprints: ["${FINGERPRINT}"], migrationAddress: 127.0.0.1, migrationInterface: lo }`;
  return parseConfig(
    `
targets:
  rack-qemu: { hypervisor: qemu, source: ${host(9)}, destination: ${host(9)}, guestNetwork: { address: 192.0.2.50/24, bridge: br0 }, sharedStorageDir: /srv/nfs }
  rack-libvirt: { hypervisor: libvirt, source: ${host(9)}, destination: ${host(9)}, guestNetwork: { address: 192.0.2.50/24, bridge: br0 }, sharedStorageDir: /srv/nfs, libvirt: { mode: p2p, destinationUri: "qemu+ssh://hv2.example.net/system" } }
  xcp-pool:
    hypervisor: xenserver
    source: ${host(9)}
    destination: ${host(9)}
    guestNetwork: { address: 192.0.2.60/24, bridge: xenbr0 }
    xenserver: { url: "https://127.0.0.1:9", user: root, passwordFile: ${join(dir, 'xapi-password')}, vm: web-01, sourceHost: xcp1, destinationHost: xcp2, storage: { sr: "Local storage", network: "Pool-wide network" } }
  vc-cluster:
    hypervisor: vsphere
    source: ${host(9)}
    destination: ${host(9)}
    guestNetwork: { address: 192.0.2.70/24, bridge: "VM Network" }
    vsphere: { url: "https://127.0.0.1:9/sdk", user: "administrator@vsphere.local", passwordFile: ${join(dir, 'xapi-password')}, vm: web-02, sourceHost: esx1, destinationHost: esx2, storage: { datastore: ds2, sourceDatastore: ds1 } }
  hv-pair:
    hypervisor: hyperv
    source: ${host(9)}
    destination: ${host(9)}
    guestNetwork: { address: 192.0.2.80/24, bridge: vSwitch }
    hyperv: { vm: web-03, sourceHost: hv1, destinationHost: hv2, storage: { destinationPath: 'D:\\VMs\\web-03', sourcePath: 'C:\\VMs\\web-03' } }
suites: {}
`,
    'hypervisors.yaml',
  );
}

describe('real-host targets', () => {
  test.each(['rack-qemu', 'rack-libvirt', 'xcp-pool', 'vc-cluster', 'hv-pair'])('%s: valid, and unreachable hosts fail fast, naming the host', async (name) => {
    const cfg = await config();
    const started = performance.now();
    const error = (await connectTarget(cfg, name).then(
      () => null,
      (e: unknown) => e,
    )) as Error & { code?: string };
    expect(error).not.toBeNull();
    expect(error.message).toContain('127.0.0.1:9');
    expect(error.message).toContain(name);
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});
