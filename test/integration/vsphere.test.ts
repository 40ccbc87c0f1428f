// The vSphere driver against VMware's own simulator (vcsim, built at set-up from Debian's
// govmomi source, fixtures/vcsim/main.go), on loopback: log in, find the VM, hosts and
// datastores, vMotion and storage vMotion with RelocateVM_Task, poll the task, bring the VM
// back, and name what is wrong when a target does not exist. vcsim relocates instantly:
// nothing here says anything about migration times.
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TargetHost } from '../../src/hypervisor.js';
import { LocalRunner } from '../../src/runner/local.js';
import type { RunningCommand } from '../../src/runner/runner.js';
import { ensureVcsim } from '../../src/setup/tools.js';
import { VsphereClient, type MoRef } from '../../src/vsphere/client.js';
import { parseStunMs, VsphereHypervisor } from '../../src/vsphere/driver.js';

let vcsim: RunningCommand;
let sdk: URL;

beforeAll(async () => {
  const path = await ensureVcsim(() => undefined);
  if (!path) throw new Error('vcsim is not built: run `bash scripts/setup.sh` (it installs golang-go and golang-github-vmware-govmomi-dev)');
  vcsim = new LocalRunner().spawn([path]);
  sdk = await new Promise<URL>((resolve, reject) => {
    createInterface({ input: vcsim.stdout }).once('line', (line) => resolve(new URL(line.trim())));
    vcsim.done.then((r) => reject(new Error(`vcsim exited: ${r.stderr}`)), reject);
  });
});
afterAll(async () => {
  vcsim?.endInput();
  await vcsim?.done.catch(() => undefined);
});

const client = () => new VsphereClient(`http://${sdk.host}${sdk.pathname}`);
const host = (role: 'source' | 'destination'): TargetHost => ({ role, runner: new LocalRunner(), migrationAddress: '127.0.0.1', migrationInterface: 'lo', bridge: 'none', workDir: '/tmp' });
const launch = { vmId: 'mb000002', guest: { memoryMiB: 32, vcpus: 1, diskMiB: 0, diskDataMiB: 0 }, network: { address: '192.0.2.70/24', mac: '52:54:00:00:00:02' }, agent: {}, storage: 'shared' as const };

/** Where the simulator put the cluster's VM, by name. */
async function inventory() {
  const c = client();
  await c.login(sdk.username, sdk.password);
  const vms = await c.list('VirtualMachine');
  const hosts = await c.list('HostSystem');
  const datastores = await c.list('Datastore');
  const vm = vms.find((v) => v.name.startsWith('DC0_C0_'))!;
  const [props] = await c.retrieve(vm.ref, 'VirtualMachine', ['runtime.host', 'datastore']);
  const on = (props!.props['runtime.host'] as { '#text': string })['#text'];
  const ds = ((props!.props.datastore as { ManagedObjectReference: { '#text': string } }).ManagedObjectReference)['#text'];
  await c.logout();
  const name = (list: Array<{ ref: MoRef; name: string }>, value: string) => list.find((o) => o.ref.value === value)!.name;
  const clusterHosts = hosts.filter((h) => h.name.startsWith('DC0_C0_'));
  return {
    vm: vm.name,
    sourceHost: name(hosts, on),
    destinationHost: clusterHosts.find((h) => h.ref.value !== on)!.name,
    datastore: name(datastores, ds),
    otherDatastore: datastores.find((d) => d.ref.value !== ds)!.name,
    vmRef: vm.ref,
  };
}

function driver(over: Partial<ConstructorParameters<typeof VsphereHypervisor>[0]> & { vm: string; sourceHost: string; destinationHost: string }) {
  return new VsphereHypervisor({ source: host('source'), destination: host('destination'), client: client(), user: sdk.username, password: async () => sdk.password, pollIntervalMs: 5, ...over });
}

async function where(vmRef: MoRef) {
  const c = client();
  await c.login(sdk.username, sdk.password);
  const [p] = await c.retrieve(vmRef, 'VirtualMachine', ['runtime.host', 'datastore']);
  await c.logout();
  return { host: (p!.props['runtime.host'] as { '#text': string })['#text'], datastore: (p!.props.datastore as { ManagedObjectReference: { '#text': string } }).ManagedObjectReference['#text'] };
}

describe('vSphere driver against vcsim', () => {
  test('vMotion: RelocateVM_Task to the other host, the task polled to success, then home again', async () => {
    const inv = await inventory();
    const before = await where(inv.vmRef);
    const hv = driver(inv);
    expect((await hv.describe()).source.hypervisorVersion).toMatch(/^VMware vCenter Server 6\.5\.0 .*\(API 6\.5\)$/);
    const guest = await hv.startGuest(launch);
    const outcome = await hv.migrate(guest, { kind: 'memory', timeoutMs: 30_000 });
    expect(outcome).toMatchObject({ status: 'completed', error: null, capabilities: ['vmotion'] });
    expect(outcome.figures.totalTimeMs).toBeGreaterThanOrEqual(0);
    expect(outcome.timeline.at(-1)!.status).toBe('success');
    expect((await where(inv.vmRef)).host).not.toBe(before.host);
    await hv.destroyGuest(guest);
    expect(await where(inv.vmRef)).toEqual(before);
    await hv.close();
  });

  test('storage vMotion: host and datastore change together, and both come back', async () => {
    const inv = await inventory();
    const before = await where(inv.vmRef);
    const hv = driver({ ...inv, storage: { datastore: inv.otherDatastore, sourceDatastore: inv.datastore } });
    const guest = await hv.startGuest(launch);
    const outcome = await hv.migrate(guest, { kind: 'storage', timeoutMs: 30_000 });
    expect(outcome).toMatchObject({ status: 'completed', capabilities: ['storage-vmotion'] });
    const moved = await where(inv.vmRef);
    expect(moved.host).not.toBe(before.host);
    expect(moved.datastore).not.toBe(before.datastore);
    await hv.destroyGuest(guest);
    expect(await where(inv.vmRef)).toEqual(before);
  });

  test('targets that do not exist are named; a missing VM is refused before anything moves', async () => {
    const inv = await inventory();
    const hv = driver({ ...inv, destinationHost: 'esx-does-not-exist' });
    const outcome = await hv.migrate(await hv.startGuest(launch), { kind: 'memory', timeoutMs: 30_000 });
    expect(outcome.status).toBe('failed');
    expect(outcome.error!.message).toMatch(/no HostSystem named "esx-does-not-exist" in the inventory/);
    await expect(driver({ ...inv, vm: 'no-such-vm' }).startGuest(launch)).rejects.toThrow(/no VirtualMachine named "no-such-vm"/);
    const c = client();
    await c.login(sdk.username, sdk.password);
    await expect(c.relocate({ type: 'VirtualMachine', value: 'vm-999' }, { host: { type: 'HostSystem', value: 'host-21' } })).rejects.toMatchObject({ code: 'MB_VSPHERE', faultType: 'ManagedObjectNotFound' });
  });
});

describe(parseStunMs, () => {
  test('the last stun in vmware.log, in ms', () => {
    expect(parseStunMs('2026-12-04T14:00:01.000Z| vmx| I005: Checkpoint_Unstun: vm stopped for 12000 us\n2026-12-04T14:00:09.000Z| vmx| I005: Checkpoint_Unstun: vm stopped for 401234 us\n')).toBe(401.234);
    expect(parseStunMs('nothing here')).toBeNull();
  });
});
