// QEMU's command line for a migbench guest, as argv. Source and destination must be
// identical apart from -incoming: migration checks that the device models match.
import type { GuestLaunch } from '../hypervisor.js';
import { MigbenchError } from '../../model/errors.js';
import { machineType, qemuArgProblems } from '../../model/tuning.js';

export type Accel = 'kvm' | 'tcg';

export interface QemuCommand {
  readonly binary: string;
  readonly machine: string;
  readonly accel: Accel;
  readonly kernelPath: string;
  readonly initrdPath: string;
  /** Directory for this VM's sockets, console and pid file. */
  readonly vmDir: string;
  readonly tap: string;
  readonly incoming: boolean;
  /** Extra guest RAM beyond memoryMiB, KiB (see the TCG dirty-bitmap workaround in the driver). */
  readonly ramPaddingKiB?: number;
  /** The guest's disk image (qcow2), or none. */
  readonly diskPath?: string;
  /** Start paused: a storage migration's destination must not run before the disk copy is in sync. */
  readonly startPaused?: boolean;
  /** The target's extra options (qemu.extraArgs), allow-listed; after migbench's own, so a -cpu there wins. */
  readonly extraArgs?: readonly string[];
}

/** The block node of the guest's disk: the mirror copies it and the NBD export serves it. */
export const DISK_NODE = 'disk0';

/** The agent's virtio-serial port name; the agent looks it up in sysfs. */
export const AGENT_PORT = 'org.migbench.agent';

export function vmPaths(vmDir: string) {
  return {
    qmp: `${vmDir}/qmp.sock`,
    agent: `${vmDir}/agent.sock`,
    console: `${vmDir}/console.log`,
    log: `${vmDir}/qemu.log`,
    pid: `${vmDir}/qemu.pid`,
  };
}

/** QEMU's option syntax uses commas as separators; a value must not contain one. */
function optionValue(value: string, what: string): string {
  if (value.includes(',')) throw new Error(`${what} must not contain a comma: ${value}`);
  return value;
}

export function kernelCommandLine(launch: GuestLaunch): string {
  const params = [`migbench.ip=${launch.network.address}`, ...Object.entries(launch.agent).map(([k, v]) => `migbench.${k}=${v}`)];
  for (const p of params) if (/\s/.test(p)) throw new Error(`kernel parameter contains whitespace: ${p}`);
  // No panic= reboot: a guest that dies must stay visibly dead, not come back as a fresh boot.
  return ['console=ttyS0', 'quiet', 'mitigations=off', ...params].join(' ');
}

export function qemuArgv(launch: GuestLaunch, cmd: QemuCommand): string[] {
  const paths = vmPaths(optionValue(cmd.vmDir, 'VM directory'));
  return [
    ...machineArgs(launch, cmd),
    ...bootArgs(launch, cmd),
    ...deviceArgs(launch, cmd, paths),
    '-pidfile',
    paths.pid,
    ...diskArgs(cmd),
    ...allowedExtraArgs(cmd.extraArgs ?? []),
    ...(cmd.startPaused ? ['-S'] : []),
    ...(cmd.incoming ? ['-incoming', 'defer'] : []),
  ];
}

/** The machine itself: name, accelerator, memory (padded where QEMU needs it), CPUs, nothing implicit. */
function machineArgs(launch: GuestLaunch, cmd: QemuCommand): string[] {
  const memory = cmd.ramPaddingKiB ? `${launch.guest.memoryMiB * 1024 + cmd.ramPaddingKiB}K` : String(launch.guest.memoryMiB);
  return [
    cmd.binary,
    ...['-name', `migbench-${launch.vmId}`, '-machine', `${machineType(cmd.machine)},accel=${cmd.accel}`],
    ...(cmd.accel === 'kvm' ? ['-cpu', 'host'] : []),
    ...['-m', memory, '-smp', String(launch.guest.vcpus)],
    ...['-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none', '-msg', 'timestamp=on'],
  ];
}

function bootArgs(launch: GuestLaunch, cmd: QemuCommand): string[] {
  return ['-kernel', optionValue(cmd.kernelPath, 'kernel path'), '-initrd', optionValue(cmd.initrdPath, 'initrd path'), '-append', kernelCommandLine(launch)];
}

/** QMP, the serial console, the NIC, the agent's virtio-serial channel and the panic device. */
function deviceArgs(launch: GuestLaunch, cmd: QemuCommand, paths: ReturnType<typeof vmPaths>): string[] {
  return [
    ...['-qmp', `unix:${paths.qmp},server=on,wait=off`, '-serial', `file:${paths.console}`],
    ...['-netdev', `tap,id=net0,ifname=${optionValue(cmd.tap, 'tap name')},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=net0,mac=${launch.network.mac}`],
    ...['-device', 'virtio-serial-pci,id=vser0', '-chardev', `socket,id=agent,path=${paths.agent},server=on,wait=off`],
    ...['-device', `virtserialport,bus=vser0.0,chardev=agent,name=${AGENT_PORT}`],
    // A guest panic pauses the VM and raises GUEST_PANICKED on QMP.
    ...['-device', 'pvpanic-pci', '-action', 'panic=pause'],
  ];
}

/** Checked again here, whatever checked the config: nothing off the allow-list reaches QEMU. */
function allowedExtraArgs(args: readonly string[]): readonly string[] {
  const problem = qemuArgProblems(args)[0];
  if (problem) throw new MigbenchError('MB_CONFIG_INVALID', `qemu.extraArgs[${problem.index}]: ${problem.message}`);
  return args;
}

function diskArgs(cmd: QemuCommand): string[] {
  if (!cmd.diskPath) return [];
  return [
    ...['-blockdev', `driver=file,filename=${optionValue(cmd.diskPath, 'disk path')},node-name=${DISK_NODE}-file`],
    ...['-blockdev', `driver=qcow2,file=${DISK_NODE}-file,node-name=${DISK_NODE}`],
    ...['-device', `virtio-blk-pci,drive=${DISK_NODE},id=vdisk0`],
  ];
}
