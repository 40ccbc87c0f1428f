// Things migbench asks of any host through its runner: is a process alive, what is
// this machine, the end of a file there, and put a file there (tools, guest images)
// unless it already has it.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { HostEnvironment } from '../generated/results.js';
import type { CommandRunner } from './runner.js';
import { sleep } from '../model/time.js';

/** Alive and not a zombie (a PID 1 that does not reap leaves zombies behind). */
export async function processAlive(runner: CommandRunner, pid: number): Promise<boolean> {
  const stat = await runner.run(['cat', `/proc/${pid}/stat`], { check: false, timeoutMs: 10_000, idempotent: true });
  if (!stat.ok) return false;
  const close = stat.stdout.lastIndexOf(')');
  return close > 0 && stat.stdout.charAt(close + 2) !== 'Z';
}

type TailSize = { readonly lines: number } | { readonly bytes: number };

/**
 * The end of a file on the host in whole lines: its last `lines` lines, or the whole lines
 * within its last `bytes` bytes (a cut first line could read as something it is not).
 * Throws, naming the host and the command, when the file cannot be read.
 */
export async function readFileTail(runner: CommandRunner, file: string, size: TailSize): Promise<string> {
  const option = 'lines' in size ? ['-n', String(size.lines)] : ['-c', String(size.bytes)];
  const { stdout } = await runner.run(['tail', ...option, file], { timeoutMs: 10_000 });
  const cut = 'bytes' in size && Buffer.byteLength(stdout) >= size.bytes;
  return (cut ? stdout.slice(stdout.indexOf('\n') + 1) : stdout).trim();
}

/** readFileTail, or '' when the file cannot be read: for error messages, which must not fail in turn. */
export function readTail(runner: CommandRunner, file: string, size: TailSize): Promise<string> {
  return readFileTail(runner, file, size).catch(() => '');
}

export async function waitForExit(runner: CommandRunner, pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await processAlive(runner, pid))) return true;
    await sleep(50);
  }
  return !(await processAlive(runner, pid));
}

/** Host-level facts beyond the machine itself: what an administrator changes on hypervisors. */
export interface HostSettingsProbe {
  /** Its MTU goes into the environment. */
  readonly migrationInterface?: string;
  /** Configuration files hashed into the environment, by name (e.g. qemu.conf → /etc/libvirt/qemu.conf). */
  readonly files?: Readonly<Record<string, string>>;
  /** Settings known without asking the host, by name (the guest image migbench boots there). */
  readonly known?: Readonly<Record<string, string>>;
}

export async function describeHost(runner: CommandRunner, hypervisorVersion: string, accel: string, accelReason?: string, probe: HostSettingsProbe = {}): Promise<HostEnvironment> {
  const uname = await runner.run(['uname', '-n', '-r'], { timeoutMs: 10_000 });
  const [host = 'unknown', kernel = 'unknown'] = uname.stdout.trim().split(/\s+/);
  const cpuinfo = (await runner.run(['cat', '/proc/cpuinfo'], { timeoutMs: 10_000 })).stdout;
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const cpuCount = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const mtu = probe.migrationInterface ? await migrationMtu(runner, probe.migrationInterface) : null;
  const settings = { ...(await hashedFiles(runner, probe.files ?? {})), ...probe.known };
  return {
    host,
    kernel,
    cpuModel,
    cpuCount,
    hypervisorVersion,
    accel,
    ...(accelReason ? { accelReason } : {}),
    ...(mtu !== null && { migrationMtu: mtu }),
    ...(Object.keys(settings).length && { settings }),
  };
}

async function migrationMtu(runner: CommandRunner, iface: string): Promise<number | null> {
  const read = await runner.run(['cat', `/sys/class/net/${iface}/mtu`], { check: false, timeoutMs: 10_000, idempotent: true });
  const mtu = Number(read.stdout.trim());
  return read.ok && Number.isInteger(mtu) && mtu >= 68 ? mtu : null;
}

/** sha256:<12 hex> of each file, or 'absent': enough to tell that a file changed, nothing of what it says. */
async function hashedFiles(runner: CommandRunner, files: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, path] of Object.entries(files)) {
    const sum = await runner.run(['sha256sum', '--', path], { check: false, timeoutMs: 10_000, idempotent: true });
    out[name] = sum.ok ? `sha256:${sum.stdout.trim().slice(0, 12)}` : 'absent';
  }
  return out;
}

export interface LocalFile {
  readonly name: string;
  readonly localPath: string;
  readonly sha256: string;
}

/**
 * Path of `file` on the host behind `runner`, copying it there when the host has no
 * identical copy. Hosts that share this machine's filesystem (the lab) find it in place.
 */
export async function installFile(runner: CommandRunner, file: LocalFile, remoteDir = '/var/tmp/migbench/files'): Promise<string> {
  const remotePath = `${remoteDir}/${file.sha256.slice(0, 16)}-${file.name}`;
  for (const candidate of [file.localPath, remotePath]) {
    const check = await runner.run(['sha256sum', candidate], { check: false, timeoutMs: 60_000 });
    if (check.ok && check.stdout.startsWith(file.sha256)) return candidate;
  }
  await runner.run(['mkdir', '-p', remoteDir]);
  await runner.run(['dd', `of=${remotePath}.tmp`, 'bs=1M', 'status=none'], { stdin: await readFile(file.localPath), timeoutMs: 600_000 });
  await runner.run(['mv', '-f', `${remotePath}.tmp`, remotePath]);
  return remotePath;
}

/** What a host needs to boot a migbench guest and tap it: kernel, initrd and migbench-probe, installed once. */
export async function installGuestFiles(
  runner: CommandRunner,
  files: { kernel: LocalFile; initrd: LocalFile; probeTool: LocalFile },
): Promise<{ kernelPath: string; initrdPath: string; toolPath: string }> {
  return {
    kernelPath: await installFile(runner, files.kernel),
    initrdPath: await installFile(runner, files.initrd),
    toolPath: await installFile(runner, files.probeTool),
  };
}

/**
 * The guest image as an environment setting: what a migration moves is that guest's memory,
 * so another kernel or agent changes every figure (the uncompressed kernel moved idle-256
 * from 91.2 to 74.7 MiB). sha256 of the kernel's and the initrd's sha256, 12 hex digits.
 */
export function guestImageSetting(files: { kernel: LocalFile; initrd: LocalFile }): Record<string, string> {
  return { 'guest image': `sha256:${createHash('sha256').update(`${files.kernel.sha256}\n${files.initrd.sha256}`).digest('hex').slice(0, 12)}` };
}
