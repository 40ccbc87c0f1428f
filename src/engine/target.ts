// A target connected: the hypervisor driver, both hosts' runners and the observer.
// The embedded lab and real hosts end up in the same shape.
import { parseDomainFragment, type MachineTuning } from '../model/tuning.js';
import { InputFileError, MigbenchError, runCleanups } from '../model/errors.js';
import type { HostConnection, HypervSettings, MigbenchConfig, Target as TargetConfig, VsphereSettings, XenServerSettings } from '../generated/config.js';
import type { Hypervisor, TargetHost } from '../hypervisors/hypervisor.js';
import type { LocalFile } from '../exec/host.js';
import { readPassword } from '../config/secrets.js';
import { connectLabHost, readLabState } from '../lab/lab.js';
import { DEFAULT_WORK_DIR, labSharedDir, labWorkDir } from '../model/paths.js';
import { QemuHypervisor } from '../hypervisors/qemu/driver.js';
import { LocalRunner } from '../exec/local.js';
import type { CommandRunner } from '../exec/runner.js';
import { SshRunner } from '../exec/ssh.js';
import { sshRoute } from './route.js';
import { ensureGuestImage, type GuestImage } from '../setup/image.js';
import { ensureProbeTool } from '../setup/tools.js';
import { isLabTarget, resolveTargetConfig } from '../config/targets.js';
import { LibvirtHypervisor } from '../hypervisors/libvirt/driver.js';
import { XenApiClient } from '../hypervisors/xen/client.js';
import { XenServerHypervisor } from '../hypervisors/xen/driver.js';
import { VsphereClient } from '../hypervisors/vsphere/client.js';
import { VsphereHypervisor } from '../hypervisors/vsphere/driver.js';
import { HypervHypervisor } from '../hypervisors/hyperv/driver.js';

export interface ConnectedTarget {
  readonly name: string;
  readonly lab: boolean;
  readonly hypervisor: Hypervisor;
  readonly source: TargetHost;
  readonly destination: TargetHost;
  /** Where probes run (this machine, possibly inside a network namespace). */
  readonly observer: CommandRunner;
  /** migbench-probe on the observer. */
  readonly observerProbePath: string;
  /** CPUs (a taskset -c list) the probes are pinned to (qemu.cpus.probes); unset: not pinned. */
  readonly probeCpus?: string;
  /** The guest's address; more addresses where one guest may wait while another is measured (an A/B run's two sides). */
  readonly guestNetwork: { readonly address: string; readonly bridge: string; readonly spareAddresses?: readonly string[] };
  /** What the target adds to its guests' machine (qemu.extraArgs, libvirt.domainXml), for the records. */
  readonly machineTuning: MachineTuning;
  close(): Promise<void>;
}

/** Hyper-V hosts are Windows: their runner sends PowerShell (SshTarget.platform); jump hosts stay POSIX. */
async function connectHost(name: string, side: 'source' | 'destination', host: HostConnection, platform: 'posix' | 'windows'): Promise<SshRunner> {
  return SshRunner.connect({ ...(await sshRoute(`${name} ${side}`, host)), platform });
}

export async function connectTarget(config: MigbenchConfig, name: string, log: (line: string) => void = () => undefined): Promise<ConnectedTarget> {
  const target: TargetConfig = resolveTargetConfig(config, name);
  const [image, probeTool] = [await ensureGuestImage(new LocalRunner(), log), await ensureProbeTool(log)];
  // Filled as each host connects, so a failure closes the ones already connected.
  const runners: SshRunner[] = [];
  const isLab = isLabTarget(config, name);
  try {
    const { source, destination, observer, guestNetwork } = isLab ? await connectLabHosts(target, name, runners) : await connectRemoteHosts(target, name, runners);
    // The lab's hosts share this machine's filesystem, so any folder is shared storage.
    const sharedStorageDir = isLab ? labSharedDir() : target.sharedStorageDir;
    const hypervisor = hypervisorFor(target, { source, destination }, { image, probeTool, sharedStorageDir, isLab });
    return {
      name,
      lab: isLab,
      hypervisor,
      source,
      destination,
      observer,
      observerProbePath: probeTool.localPath,
      ...(target.qemu?.cpus?.probes && { probeCpus: target.qemu.cpus.probes }),
      machineTuning: machineTuning(target),
      guestNetwork,
      close: () => runCleanups([['close hypervisor driver', () => hypervisor.close()], ...closeRunners(runners)]),
    };
  } catch (error) {
    await runCleanups(closeRunners(runners), error);
    throw error;
  }
}

/** A target's hosts, before its hypervisor driver is chosen. */
interface TargetHosts {
  readonly source: TargetHost;
  readonly destination: TargetHost;
  readonly observer: CommandRunner;
  readonly guestNetwork: ConnectedTarget['guestNetwork'];
}

/** What the drivers that boot migbench's own guest image (QEMU, libvirt) need besides the hosts. */
interface GuestBuild {
  readonly image: GuestImage;
  readonly probeTool: LocalFile;
  readonly sharedStorageDir: string | undefined;
  readonly isLab: boolean;
}

type Pair = Pick<TargetHosts, 'source' | 'destination'>;

function closeRunners(runners: readonly SshRunner[]): Array<readonly [string, () => Promise<void>]> {
  return runners.map((r) => [`close SSH to ${r.host}`, () => r.close()] as const);
}

async function connectLabHosts(target: TargetConfig, name: string, runners: SshRunner[]): Promise<TargetHosts> {
  const state = await readLabState();
  if (!state) throw new MigbenchError('MB_LAB', 'the embedded lab is not up: run `migbench lab up` (or `npm start`, which brings it up)', { userError: true });
  if (target.hypervisor === 'libvirt' && !state.libvirt) {
    throw new MigbenchError('MB_LAB', `target ${name} drives the lab through libvirt, but the lab runs no libvirtd: run \`migbench lab up --with libvirt\``, { userError: true });
  }
  for (const side of ['source', 'destination'] as const) runners.push(await connectLabHost(state, side));
  const host = (side: 'source' | 'destination', runner: CommandRunner): TargetHost => ({
    role: side,
    runner,
    migrationAddress: state.hosts[side].migrationAddress,
    migrationInterface: state.hosts[side].migrationInterface,
    bridge: state.hosts[side].bridge,
    workDir: labWorkDir(state.hosts[side].name),
    ...(target.qemu?.cpus?.[side] && { cpus: target.qemu.cpus[side] }),
  });
  return {
    source: host('source', runners[0]!),
    destination: host('destination', runners[1]!),
    observer: new LocalRunner({ netns: state.observer.netns, label: `lab observer (${state.observer.netns})` }),
    // The guest subnet is the lab's own: guests kept at once (an A/B run's two sides, the
    // bench's modes side by side) take the next addresses.
    guestNetwork: { address: state.guestAddress, bridge: state.hosts.source.bridge, spareAddresses: [1, 2, 3].map((n) => nextAddress(state.guestAddress, n)) },
  };
}

async function connectRemoteHosts(target: TargetConfig, name: string, runners: SshRunner[]): Promise<TargetHosts> {
  const { source, destination, guestNetwork } = target;
  if (!source || !destination || !guestNetwork) {
    throw new InputFileError('MB_CONFIG_INVALID', '(config)', [{ path: `targets.${name}`, message: 'needs source, destination and guestNetwork' }]);
  }
  const platform = target.hypervisor === 'hyperv' ? 'windows' : 'posix';
  runners.push(await connectHost(name, 'source', source, platform));
  runners.push(await connectHost(name, 'destination', destination, platform));
  const host = (side: 'source' | 'destination', conn: HostConnection, runner: CommandRunner): TargetHost => ({
    role: side,
    runner,
    migrationAddress: conn.migrationAddress,
    migrationInterface: conn.migrationInterface,
    bridge: guestNetwork.bridge,
    workDir: conn.workDir ?? DEFAULT_WORK_DIR,
    ...(target.qemu?.cpus?.[side] && { cpus: target.qemu.cpus[side] }),
  });
  return {
    source: host('source', source, runners[0]!),
    destination: host('destination', destination, runners[1]!),
    observer: new LocalRunner(target.observer?.netns ? { netns: target.observer.netns } : {}),
    guestNetwork,
  };
}

/** 10.77.0.100/24, 1 → 10.77.0.101/24. */
function nextAddress(cidr: string, n: number): string {
  const [ip, prefix] = cidr.split('/');
  const octets = ip!.split('.').map(Number);
  octets[3] = octets[3]! + n;
  return `${octets.join('.')}/${prefix}`;
}

function machineTuning({ hypervisor, qemu, libvirt }: TargetConfig): MachineTuning {
  return {
    ...(hypervisor === 'qemu' && qemu?.extraArgs?.length && { qemuArgs: [...qemu.extraArgs] }),
    ...(hypervisor === 'qemu' && qemu?.cpus && { cpus: { ...qemu.cpus } }),
    ...(hypervisor === 'libvirt' &&
      libvirt?.domainXml && {
        domainXml: parseDomainFragment(libvirt.domainXml)
          .map((e) => dedent(e.xml))
          .join('\n'),
      }),
  };
}

/** An element as the domain holds it, two spaces in, back to the left margin. */
function dedent(xml: string): string {
  return xml
    .split('\n')
    .map((line) => line.replace(/^ {2}/, ''))
    .join('\n');
}

function hypervisorFor(target: TargetConfig, hosts: Pair, build: GuestBuild): Hypervisor {
  if (target.hypervisor === 'hyperv' && target.hyperv) return hypervHypervisor(target.hyperv, hosts);
  if (target.hypervisor === 'vsphere' && target.vsphere) return vsphereHypervisor(target.vsphere, hosts);
  if (target.hypervisor === 'xenserver' && target.xenserver) return xenServerHypervisor(target.xenserver, hosts);
  if (target.hypervisor === 'libvirt') return libvirtHypervisor(target, hosts, build);
  return qemuHypervisor(target, hosts, build);
}

function hypervHypervisor(hv: HypervSettings, { source, destination }: Pair): Hypervisor {
  return new HypervHypervisor({
    source,
    destination,
    vm: hv.vm,
    sourceHost: hv.sourceHost,
    destinationHost: hv.destinationHost,
    ...(hv.storage && { storage: hv.storage }),
    ...(hv.shell && { shell: hv.shell }),
  });
}

function vsphereHypervisor(vs: VsphereSettings, { source, destination }: Pair): Hypervisor {
  return new VsphereHypervisor({
    source,
    destination,
    client: new VsphereClient(vs.url, undefined, vs.requestTimeoutMs),
    user: vs.user,
    password: () => readPassword('vCenter', vs.passwordEnv, vs.passwordFile),
    vm: vs.vm,
    sourceHost: vs.sourceHost,
    destinationHost: vs.destinationHost,
    ...(vs.storage && { storage: vs.storage }),
  });
}

function xenServerHypervisor(xen: XenServerSettings, { source, destination }: Pair): Hypervisor {
  return new XenServerHypervisor({
    source,
    destination,
    client: new XenApiClient(xen.url, undefined, xen.requestTimeoutMs),
    user: xen.user,
    password: () => readPassword('XenAPI', xen.passwordEnv, xen.passwordFile),
    vm: xen.vm,
    sourceHost: xen.sourceHost,
    destinationHost: xen.destinationHost,
    ...(xen.storage && { storage: xen.storage }),
  });
}

function libvirtHypervisor(target: TargetConfig, { source, destination }: Pair, { image, probeTool, sharedStorageDir, isLab }: GuestBuild): Hypervisor {
  const { qemu, libvirt } = target;
  return new LibvirtHypervisor({
    source,
    destination,
    image,
    probeTool,
    ...(qemu?.machine && { machine: qemu.machine }),
    ...(qemu?.accel && { accel: qemu.accel }),
    ...(qemu?.binary && { emulator: qemu.binary }),
    ...(qemu?.tcgDirtyBitmapWorkaround !== undefined && { tcgDirtyBitmapWorkaround: qemu.tcgDirtyBitmapWorkaround }),
    ...(libvirt?.mode && { mode: libvirt.mode }),
    ...(libvirt?.destinationUri && { destinationUri: libvirt.destinationUri }),
    ...(libvirt?.imageDir && { imageDir: libvirt.imageDir }),
    ...(libvirt?.domainXml && { domainXml: libvirt.domainXml }),
    ...(sharedStorageDir && { sharedStorageDir }),
    // libvirt does not know the lab's shared folder as shared storage.
    unsafe: libvirt?.unsafe ?? isLab,
  });
}

function qemuHypervisor(target: TargetConfig, { source, destination }: Pair, { image, probeTool, sharedStorageDir }: GuestBuild): Hypervisor {
  const { qemu } = target;
  return new QemuHypervisor({
    source,
    destination,
    image,
    probeTool,
    ...(qemu?.binary && { binary: qemu.binary }),
    ...(qemu?.machine && { machine: qemu.machine }),
    ...(qemu?.accel && { accel: qemu.accel }),
    ...(qemu?.tcgDirtyBitmapWorkaround !== undefined && { tcgDirtyBitmapWorkaround: qemu.tcgDirtyBitmapWorkaround }),
    ...(sharedStorageDir && { sharedStorageDir }),
    ...(qemu?.extraArgs?.length && { extraArgs: qemu.extraArgs }),
  });
}
