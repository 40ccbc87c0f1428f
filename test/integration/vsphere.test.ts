// The vSphere driver against VMware's own simulator (vcsim, built at set-up from Debian's
// govmomi source, fixtures/vcsim/main.go), on loopback: log in, find the VM, hosts and
// datastores, vMotion and storage vMotion with RelocateVM_Task, poll the task, bring the VM
// back, and name what is wrong when a target does not exist. vcsim relocates instantly:
// nothing here says anything about migration times.
import { readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TargetHost } from '../../src/hypervisors/hypervisor.js';
import { LocalRunner } from '../../src/exec/local.js';
import type { RunningCommand } from '../../src/exec/runner.js';
import { ensureVcsim } from '../../src/setup/tools.js';
import { VsphereClient, type MoRef } from '../../src/hypervisors/vsphere/client.js';
import { VsphereHypervisor } from '../../src/hypervisors/vsphere/driver.js';
import { datastoreFile, datastoreName } from '../../src/hypervisors/vsphere/esxi.js';
import { FakeRunner } from '../fakes/runner.js';

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
const host = (role: 'source' | 'destination'): TargetHost => ({
  role,
  runner: new LocalRunner(),
  migrationAddress: '127.0.0.1',
  migrationInterface: 'lo',
  bridge: 'none',
  workDir: '/tmp',
});
const launch = {
  vmId: 'mb000002',
  guest: { memoryMiB: 32, vcpus: 1, diskMiB: 0, diskDataMiB: 0 },
  network: { address: '192.0.2.70/24', mac: '52:54:00:00:00:02' },
  agent: {},
  storage: 'shared' as const,
};

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
  const ds = (props!.props.datastore as { ManagedObjectReference: { '#text': string } }).ManagedObjectReference['#text'];
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
  return new VsphereHypervisor({
    source: host('source'),
    destination: host('destination'),
    client: client(),
    user: sdk.username,
    password: async () => sdk.password,
    pollIntervalMs: 5,
    ...over,
  });
}

async function where(vmRef: MoRef) {
  const c = client();
  await c.login(sdk.username, sdk.password);
  const [p] = await c.retrieve(vmRef, 'VirtualMachine', ['runtime.host', 'datastore']);
  await c.logout();
  return {
    host: (p!.props['runtime.host'] as { '#text': string })['#text'],
    datastore: (p!.props.datastore as { ManagedObjectReference: { '#text': string } }).ManagedObjectReference['#text'],
  };
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

  test("the stun time comes from the VM's vmware.log, read where the VM now runs; an unreadable log is recorded, not hidden", async () => {
    const inv = await inventory();
    const c = client();
    await c.login(sdk.username, sdk.password);
    const [vmProps] = await c.retrieve(inv.vmRef, 'VirtualMachine', ['config.files.logDirectory']);
    const logDirectory = String(vmProps!.props['config.files.logDirectory']);
    const ds = (await c.list('Datastore')).find((d) => d.name === datastoreName(logDirectory))!;
    const [dsProps] = await c.retrieve(ds.ref, 'Datastore', ['summary.url']);
    await c.logout();
    // vcsim writes a real vmware.log in its datastore folder but never stuns a VM: the test
    // appends the line ESXi writes when a vMotion's switchover ends.
    const logPath = datastoreFile(logDirectory, String(dsProps!.props['summary.url']), 'vmware.log');
    await appendFile(logPath, `${new Date(Date.now() - 3_600_000).toISOString()}| vmx| I005: Checkpoint_Unstun: vm stopped for 999000 us\n`);
    await appendFile(logPath, `${new Date().toISOString()}| vmx| I005: Checkpoint_Unstun: vm stopped for 187654 us\n`);
    const tails: string[][] = [];
    const recording = new FakeRunner('esx-destination', (argv) => {
      tails.push([...argv]);
      return { stdout: readFileSync(argv.at(-1)!, 'utf8') };
    });
    const hv = driver({ ...inv, destination: { ...host('destination'), runner: recording } });
    const guest = await hv.startGuest(launch);
    const outcome = await hv.migrate(guest, { kind: 'memory', timeoutMs: 30_000 });
    expect(outcome.figures.downtimeMs).toBe(187.654);
    expect(tails).toEqual([['tail', '-c', '1048576', logPath]]);
    await hv.destroyGuest(guest);

    const broken = driver({
      ...inv,
      destination: { ...host('destination'), runner: new FakeRunner('esx-destination', () => ({ exitCode: 1, stderr: 'tail: No such file or directory' })) },
    });
    const again = await broken.migrate(await broken.startGuest(launch), { kind: 'memory', timeoutMs: 30_000 });
    expect(again).toMatchObject({ status: 'completed', figures: { downtimeMs: null } });
    expect(again.events).toEqual([
      expect.objectContaining({ name: 'VMWARE_LOG_UNREADABLE', side: 'destination', detail: expect.stringMatching(/esx-destination.*tail.*No such file/) }),
    ]);
    await broken.destroyGuest({ vmId: launch.vmId, launch, location: 'destination', workarounds: [] });
  });

  test('wire bytes from esxcli on the ESXi host, not from /sys', async () => {
    const inv = await inventory();
    const esx = new FakeRunner('esx-source', () => ({
      stdout: 'NIC statistics for vmnic1\n   Packets received: 10\n   Packets sent: 20\n   Bytes received: 300\n   Bytes sent: 4000\n',
    }));
    const hv = driver({ ...inv, source: { ...host('source'), runner: esx } });
    expect(await hv.interfaceCounters('source', 'vmnic1')).toEqual({ rxBytes: 300, txBytes: 4000, rxPackets: 10, txPackets: 20 });
    expect(esx.calls).toEqual([['esxcli', 'network', 'nic', 'stats', 'get', '-n', 'vmnic1']]);
    const silent = driver({ ...inv, source: { ...host('source'), runner: new FakeRunner('esx-source', () => ({ stdout: '' })) } });
    await expect(silent.interfaceCounters('source', 'vmnic1')).rejects.toThrow(/esx-source: esxcli printed no byte and packet counters for vmnic1/);
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
    await expect(c.relocate({ type: 'VirtualMachine', value: 'vm-999' }, { host: { type: 'HostSystem', value: 'host-21' } })).rejects.toMatchObject({
      code: 'MB_VSPHERE',
      faultType: 'ManagedObjectNotFound',
    });
  });
});
