// A target connected: the hypervisor driver, both hosts' runners and the observer.
// The embedded lab and real hosts end up in the same shape.
import { InputFileError, MigbenchError, runCleanups } from './errors.js';
import type { HostConnection, MigbenchConfig, Target as TargetConfig } from './generated/config.js';
import type { Hypervisor, TargetHost } from './hypervisor.js';
import { readPassword, readSecretFile } from './secrets.js';
import { connectLabHost, readLabState } from './lab/lab.js';
import { DEFAULT_WORK_DIR, labSharedDir, labWorkDir } from './paths.js';
import { QemuHypervisor } from './qemu/driver.js';
import { parseKnownHosts } from './runner/hostkey.js';
import { LocalRunner } from './runner/local.js';
import type { CommandRunner } from './runner/runner.js';
import { SshRunner } from './runner/ssh.js';
import { ensureGuestImage } from './setup/image.js';
import { ensureProbeTool } from './setup/tools.js';
import { isLabTarget, resolveTargetConfig } from './config.js';
import { LibvirtHypervisor } from './libvirt/driver.js';
import { XenApiClient } from './xen/client.js';
import { XenServerHypervisor } from './xen/driver.js';
import { VsphereClient } from './vsphere/client.js';
import { VsphereHypervisor } from './vsphere/driver.js';
import { HypervHypervisor } from './hyperv/driver.js';

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
  readonly guestNetwork: { readonly address: string; readonly bridge: string };
  close(): Promise<void>;
}


async function connectHost(name: string, side: 'source' | 'destination', host: HostConnection): Promise<SshRunner> {
  const knownHosts = host.knownHostsFile ? parseKnownHosts((await readSecretFile(host.knownHostsFile, 'known_hosts file')).toString('utf8')) : undefined;
  return SshRunner.connect({
    label: `${name} ${side}`,
    address: host.address,
    port: host.port ?? 22,
    user: host.user,
    privateKey: await readSecretFile(host.identityFile, 'identity file'),
    hostKeys: { ...(host.hostKeyFingerprints && { fingerprints: host.hostKeyFingerprints }), ...(knownHosts && { knownHosts }) },
    ...(host.proxyCommand && { proxyCommand: host.proxyCommand }),
  });
}

export async function connectTarget(config: MigbenchConfig, name: string, log: (line: string) => void = () => undefined): Promise<ConnectedTarget> {
  const target: TargetConfig = resolveTargetConfig(config, name);
  const [image, probeTool] = [await ensureGuestImage(new LocalRunner(), log), await ensureProbeTool(log)];
  const runners: SshRunner[] = [];
  const isLab = isLabTarget(config, name);
  try {
    let source: TargetHost;
    let destination: TargetHost;
    let observer: CommandRunner;
    let guestNetwork: ConnectedTarget['guestNetwork'];
    if (isLab) {
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
      });
      source = host('source', runners[0]!);
      destination = host('destination', runners[1]!);
      observer = new LocalRunner({ netns: state.observer.netns, label: `lab observer (${state.observer.netns})` });
      guestNetwork = { address: state.guestAddress, bridge: state.hosts.source.bridge };
    } else {
      if (!target.source || !target.destination || !target.guestNetwork) {
        throw new InputFileError('MB_CONFIG_INVALID', '(config)', [{ path: `targets.${name}`, message: 'needs source, destination and guestNetwork' }]);
      }
      runners.push(await connectHost(name, 'source', target.source));
      runners.push(await connectHost(name, 'destination', target.destination));
      const host = (side: 'source' | 'destination', conn: HostConnection, runner: CommandRunner): TargetHost => ({
        role: side,
        runner,
        migrationAddress: conn.migrationAddress,
        migrationInterface: conn.migrationInterface,
        bridge: target.guestNetwork!.bridge,
        workDir: conn.workDir ?? DEFAULT_WORK_DIR,
      });
      source = host('source', target.source, runners[0]!);
      destination = host('destination', target.destination, runners[1]!);
      observer = new LocalRunner(target.observer?.netns ? { netns: target.observer.netns } : {});
      guestNetwork = target.guestNetwork;
    }
    // The lab's hosts share this machine's filesystem, so any folder is shared storage.
    const sharedStorageDir = isLab ? labSharedDir() : target.sharedStorageDir;
    const xen = target.xenserver;
    const vs = target.vsphere;
    const hv = target.hyperv;
    const hypervisor: Hypervisor =
      target.hypervisor === 'hyperv' && hv
        ? new HypervHypervisor({ source, destination, vm: hv.vm, sourceHost: hv.sourceHost, destinationHost: hv.destinationHost, ...(hv.storage && { storage: hv.storage }), ...(hv.shell && { shell: hv.shell }) })
        : target.hypervisor === 'vsphere' && vs
        ? new VsphereHypervisor({
            source,
            destination,
            client: new VsphereClient(vs.url),
            user: vs.user,
            password: () => readPassword('vCenter', vs.passwordEnv, vs.passwordFile),
            vm: vs.vm,
            sourceHost: vs.sourceHost,
            destinationHost: vs.destinationHost,
            ...(vs.storage && { storage: vs.storage }),
          })
        : target.hypervisor === 'xenserver' && xen
        ? new XenServerHypervisor({
            source,
            destination,
            client: new XenApiClient(xen.url),
            user: xen.user,
            password: () => readPassword('XenAPI', xen.passwordEnv, xen.passwordFile),
            vm: xen.vm,
            sourceHost: xen.sourceHost,
            destinationHost: xen.destinationHost,
            ...(xen.storage && { storage: xen.storage }),
          })
        : target.hypervisor === 'libvirt'
        ? new LibvirtHypervisor({
            source,
            destination,
            image,
            probeTool,
            ...(target.qemu?.machine && { machine: target.qemu.machine }),
            ...(target.qemu?.accel && { accel: target.qemu.accel }),
            ...(target.qemu?.binary && { emulator: target.qemu.binary }),
            ...(target.qemu?.tcgDirtyBitmapWorkaround !== undefined && { tcgDirtyBitmapWorkaround: target.qemu.tcgDirtyBitmapWorkaround }),
            ...(target.libvirt?.mode && { mode: target.libvirt.mode }),
            ...(target.libvirt?.destinationUri && { destinationUri: target.libvirt.destinationUri }),
            ...(target.libvirt?.imageDir && { imageDir: target.libvirt.imageDir }),
            ...(sharedStorageDir && { sharedStorageDir }),
            // libvirt does not know the lab's shared folder as shared storage.
            unsafe: target.libvirt?.unsafe ?? isLab,
          })
        : new QemuHypervisor({
      source,
      destination,
      image,
      probeTool,
      ...(target.qemu?.binary && { binary: target.qemu.binary }),
      ...(target.qemu?.machine && { machine: target.qemu.machine }),
      ...(target.qemu?.accel && { accel: target.qemu.accel }),
      ...(target.qemu?.tcgDirtyBitmapWorkaround !== undefined && { tcgDirtyBitmapWorkaround: target.qemu.tcgDirtyBitmapWorkaround }),
            ...(sharedStorageDir && { sharedStorageDir }),
          });
    return {
      name,
      lab: isLab,
      hypervisor,
      source,
      destination,
      observer,
      observerProbePath: probeTool.localPath,
      guestNetwork,
      close: () =>
        runCleanups([
          ['close hypervisor driver', () => hypervisor.close()],
          ...runners.map((r) => [`close SSH to ${r.host}`, () => r.close()] as const),
        ]),
    };
  } catch (error) {
    await runCleanups(runners.map((r) => [`close SSH to ${r.host}`, () => r.close()] as const), error);
    throw error;
  }
}
