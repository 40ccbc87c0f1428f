// The Hypervisor contract (test/hypervisors/contract.ts) against real hypervisors: QEMU and
// libvirt in the embedded lab, vSphere against VMware's vcsim. Guests are small (256 MiB,
// no disk) and few: one per scenario, the launched one reused for its migration and its
// destruction. A migration that cannot finish is held to 1 MiB/s and given a short
// timeout; a failing one is sent where nothing listens (QEMU: 127.0.0.1, which each lab
// host has to itself; libvirt: a destination URI on a closed port), so it fails at once.
import { randomBytes } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { afterAll } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { connectTarget, type ConnectedTarget } from '../../src/engine/target.js';
import { LocalRunner } from '../../src/exec/local.js';
import type { RunningCommand } from '../../src/exec/runner.js';
import type { GuestLaunch, Hypervisor, TargetHost } from '../../src/hypervisors/hypervisor.js';
import { QemuHypervisor } from '../../src/hypervisors/qemu/driver.js';
import { VsphereClient, type MoRef } from '../../src/hypervisors/vsphere/client.js';
import { VsphereHypervisor } from '../../src/hypervisors/vsphere/driver.js';
import { datastoreFile, datastoreName } from '../../src/hypervisors/vsphere/esxi.js';
import { alive, labUp } from '../../src/lab/lab.js';
import { guestMac, PATTERN_MIB, type GuestSpec } from '../../src/model/hardware.js';
import { labSharedDir } from '../../src/model/paths.js';
import { agentParameters, IDLE, type MigrationSpec } from '../../src/model/scenario.js';
import { ensureGuestImage } from '../../src/setup/image.js';
import { ensureProbeTool, ensureVcsim } from '../../src/setup/tools.js';
import { hypervisorContract, type ContractScenario, type ContractWorld } from '../hypervisors/contract.js';

const config = parseConfig(
  `
targets:
  lab-libvirt-unreachable: { hypervisor: libvirt, lab: true, libvirt: { destinationUri: "qemu+tcp://127.0.0.1:1/system" } }
suites: {}
`,
  'contract-integration.yaml',
);

const GUEST: GuestSpec = { memoryMiB: 256, vcpus: 1, diskMiB: 0, diskDataMiB: 0 };

function labLaunch(target: ConnectedTarget): GuestLaunch {
  const vmId = `mb${randomBytes(3).toString('hex')}`;
  return { vmId, guest: GUEST, network: { address: target.guestNetwork.address, mac: guestMac(vmId) }, agent: agentParameters(IDLE, GUEST, 10, PATTERN_MIB), storage: 'shared' };
}

/** Completes; held to 1 MiB/s (the guest's RAM holds far more than that), cancelled within a few seconds; fails at once. */
function labPlan(scenario: ContractScenario, timeoutMs: number): MigrationSpec {
  return scenario === 'times-out' ? { kind: 'memory', timeoutMs, maxBandwidthMiBps: 1 } : { kind: 'memory', timeoutMs: 60_000 };
}

/** Running QEMUs whose command line names the guest (exited ones not yet reaped do not count). */
async function qemusOf(vmId: string): Promise<string[]> {
  const out = await new LocalRunner().run(['pgrep', '-x', 'qemu-system-x86'], { check: false });
  const found: string[] = [];
  for (const pid of out.stdout
    .split(/\s+/)
    .filter(Boolean)
    .filter((p) => alive(Number(p)))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(vmId)) found.push(`QEMU ${pid} still runs`);
  }
  return found;
}

/** What is on a lab host named after the guest: network links (its tap), files in the VM folder, libvirt domains. */
async function onHost(host: TargetHost, vmId: string, libvirt: boolean): Promise<string[]> {
  const { runner } = host;
  const links = (await runner.run(['ip', '-o', 'link', 'show'], { check: false })).stdout.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '');
  const files = (await runner.run(['ls', '-A', `${host.workDir}/vms`], { check: false })).stdout.split('\n');
  const domains = libvirt ? (await runner.run(['virsh', '-q', '-c', 'qemu:///system', 'list', '--all', '--name'], { check: false })).stdout.split('\n') : [];
  return [
    ...links.filter((l) => l.includes(vmId.slice(-6))).map((l) => `${runner.host}: link ${l}`),
    ...files.filter((f) => f.includes(vmId)).map((f) => `${runner.host}: ${host.workDir}/vms/${f}`),
    ...domains.filter((d) => d.includes(vmId)).map((d) => `${runner.host}: libvirt domain ${d.trim()}`),
  ];
}

function labWorld(target: ConnectedTarget, hypervisor: Hypervisor, plan: MigrationSpec, libvirt: boolean, close: () => Promise<void>): ContractWorld {
  const launch = labLaunch(target);
  return {
    hypervisor,
    launch,
    plan,
    leftovers: async () => [...(await qemusOf(launch.vmId)), ...(await onHost(target.source, launch.vmId, libvirt)), ...(await onHost(target.destination, launch.vmId, libvirt))],
    close,
  };
}

hypervisorContract('QEMU in the lab', {
  kind: 'qemu',
  reports: ['totalTimeMs', 'downtimeMs', 'setupTimeMs', 'transferredBytes', 'iterations', 'dirtyRatePagesPerSec', 'stopToResumeMs'],
  agent: 'heartbeat',
  optional: { pause: true, interfaceCounters: false, pingPong: true },
  async world(scenario) {
    const target = await connectTarget(config, 'lab');
    if (scenario !== 'fails') return labWorld(target, target.hypervisor, labPlan(scenario, 1500), false, () => target.close());
    // The destination listens on its own loopback; the source's loopback refuses the connection.
    const hypervisor = new QemuHypervisor({
      source: target.source,
      destination: { ...target.destination, migrationAddress: '127.0.0.1' },
      image: await ensureGuestImage(new LocalRunner(), () => undefined),
      probeTool: await ensureProbeTool(() => undefined),
      sharedStorageDir: labSharedDir(),
    });
    return labWorld(target, hypervisor, labPlan(scenario, 1500), false, async () => {
      await hypervisor.close();
      await target.close();
    });
  },
});

hypervisorContract('libvirt in the lab', {
  kind: 'libvirt',
  reports: ['totalTimeMs', 'downtimeMs', 'downtimeNetMs', 'setupTimeMs', 'transferredBytes', 'iterations', 'dirtyRatePagesPerSec', 'stopToResumeMs'],
  agent: 'heartbeat',
  optional: { pause: false, interfaceCounters: false, pingPong: true },
  async world(scenario) {
    await labUp({ withLibvirt: true });
    const target = await connectTarget(config, scenario === 'fails' ? 'lab-libvirt-unreachable' : 'lab-libvirt');
    // domjobabort is given time for libvirt to have the job under way.
    return labWorld(target, target.hypervisor, labPlan(scenario, 4000), true, () => target.close());
  },
});

// vSphere: VMware's simulator, started once for the file.
let vcsim: { server: RunningCommand; sdk: URL } | undefined;
afterAll(async () => {
  vcsim?.server.endInput();
  await vcsim?.server.done.catch(() => undefined);
});

async function simulator(): Promise<URL> {
  if (vcsim) return vcsim.sdk;
  const path = await ensureVcsim(() => undefined);
  if (!path) throw new Error('vcsim is not built: run `bash scripts/setup.sh` (it installs golang-go and golang-github-vmware-govmomi-dev)');
  const server = new LocalRunner().spawn([path]);
  const sdk = await new Promise<URL>((resolve, reject) => {
    createInterface({ input: server.stdout }).once('line', (line) => resolve(new URL(line.trim())));
    server.done.then((r) => reject(new Error(`vcsim exited: ${r.stderr}`)), reject);
  });
  vcsim = { server, sdk };
  return sdk;
}

interface Inventory {
  readonly vm: string;
  readonly vmRef: MoRef;
  readonly sourceHost: string;
  readonly destinationHost: string;
  /** The VM's vmware.log in vcsim's datastore folder. */
  readonly logPath: string;
}

/** The cluster's VM, the host it runs on, another host of the cluster, and its log. */
async function inventory(client: VsphereClient): Promise<Inventory> {
  const vm = (await client.list('VirtualMachine')).find((v) => v.name.startsWith('DC0_C0_'))!;
  const hosts = await client.list('HostSystem');
  const [props] = await client.retrieve(vm.ref, 'VirtualMachine', ['runtime.host', 'config.files.logDirectory']);
  const on = (props!.props['runtime.host'] as { '#text': string })['#text'];
  const logDirectory = String(props!.props['config.files.logDirectory']);
  const ds = (await client.list('Datastore')).find((d) => d.name === datastoreName(logDirectory))!;
  const [dsProps] = await client.retrieve(ds.ref, 'Datastore', ['summary.url']);
  return {
    vm: vm.name,
    vmRef: vm.ref,
    sourceHost: hosts.find((h) => h.ref.value === on)!.name,
    destinationHost: hosts.find((h) => h.name.startsWith('DC0_C0_') && h.ref.value !== on)!.name,
    logPath: datastoreFile(logDirectory, String(dsProps!.props['summary.url']), 'vmware.log'),
  };
}

async function residentHost(client: VsphereClient, vmRef: MoRef): Promise<string> {
  const [p] = await client.retrieve(vmRef, 'VirtualMachine', ['runtime.host']);
  return (p!.props['runtime.host'] as { '#text': string })['#text'];
}

hypervisorContract('vSphere (vcsim)', {
  kind: 'vsphere',
  // Task times, and the stun ESXi logs in vmware.log (vcsim never stuns: the line is written here, as ESXi would).
  reports: ['totalTimeMs', 'downtimeMs'],
  agent: 'none',
  optional: { pause: false, interfaceCounters: true, pingPong: false },
  cannot: { 'times-out': 'vcsim completes RelocateVM_Task at once: no migration there outlasts its timeout' },
  async world(scenario) {
    const sdk = await simulator();
    const client = () => new VsphereClient(`http://${sdk.host}${sdk.pathname}`);
    const observer = client();
    await observer.login(sdk.username, sdk.password);
    const inv = await inventory(observer);
    const home = await residentHost(observer, inv.vmRef);
    await appendFile(inv.logPath, `${new Date().toISOString()}| vmx| I005: Checkpoint_Unstun: vm stopped for 201337 us\n`);
    const host = (role: 'source' | 'destination'): TargetHost => ({
      role,
      runner: new LocalRunner(),
      migrationAddress: '127.0.0.1',
      migrationInterface: 'lo',
      bridge: 'none',
      workDir: '/tmp',
    });
    const hypervisor = new VsphereHypervisor({
      source: host('source'),
      destination: host('destination'),
      client: client(),
      user: sdk.username,
      password: async () => sdk.password,
      vm: inv.vm,
      sourceHost: inv.sourceHost,
      destinationHost: scenario === 'fails' ? 'esx-does-not-exist' : inv.destinationHost,
      pollIntervalMs: 5,
    });
    return {
      hypervisor,
      launch: {
        vmId: `mb${randomBytes(3).toString('hex')}`,
        guest: { memoryMiB: 32, vcpus: 1, diskMiB: 0, diskDataMiB: 0 },
        network: { address: '192.0.2.70/24', mac: '52:54:00:00:0c:04' },
        agent: {},
        storage: 'shared',
      },
      plan: { kind: 'memory', timeoutMs: 30_000 },
      leftovers: async () => {
        const now = await residentHost(observer, inv.vmRef);
        return now === home ? [] : [`VM ${inv.vm} is on ${now}, not back on ${home}`];
      },
      close: async () => {
        await hypervisor.close();
        await observer.logout();
      },
    };
  },
});
