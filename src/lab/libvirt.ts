// libvirtd on the lab's hosts: one daemon per host, in the host's network namespace and
// in the mount namespace of the host's sshd (so `virsh` over SSH reaches this host's
// daemon at the usual socket, as on a real host), with its own /run/libvirt,
// /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and /etc/libvirt bound over the
// machine's. Each daemon has its own random host UUID: libvirt refuses to migrate to a
// host with its own UUID.
import { randomUUID } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MigbenchError } from '../model/errors.js';
import { LocalRunner } from '../exec/local.js';
import type { LabHostState, LabLibvirtState } from './state.js';
import { sleep } from '../model/time.js';

const root = new LocalRunner();

/** The folders a libvirtd keeps its state in, each bound over from the lab host's own copy. */
export const LIBVIRT_FOLDERS = {
  run: '/run/libvirt',
  lib: '/var/lib/libvirt',
  log: '/var/log/libvirt',
  cache: '/var/cache/libvirt',
  etc: '/etc/libvirt',
} as const;

export function libvirtdConf(hostUuid: string): string {
  return [
    '# migbench lab: written by `migbench lab up --with libvirt`',
    // The daemons reach each other for peer-to-peer migration over the lab's own network only.
    'listen_tls = 0',
    'listen_tcp = 1',
    'auth_tcp = "none"',
    `host_uuid = "${hostUuid}"`,
    '',
  ].join('\n');
}

export function qemuConf(): string {
  return [
    '# migbench lab: written by `migbench lab up --with libvirt`',
    // No AppArmor/SELinux profiles inside a lab namespace; QEMU runs as root like the lab.
    'security_driver = "none"',
    'user = "root"',
    'group = "root"',
    // No virtlogd in the lab: QEMU's stdout/stderr go to /var/log/libvirt/qemu/NAME.log.
    'stdio_handler = "file"',
    '',
  ].join('\n');
}

function hostPaths(host: LabHostState) {
  const base = join(host.dir, 'libvirt');
  return { base, pidFile: join(base, 'libvirtd.pid'), folder: (key: keyof typeof LIBVIRT_FOLDERS) => join(base, key) };
}

async function sshdPid(host: LabHostState): Promise<number> {
  const pid = Number((await readFile(join(host.dir, 'sshd.pid'), 'utf8').catch(() => '')).trim());
  if (!pid) throw new MigbenchError('MB_LAB', `lab host ${host.name}: sshd is not running, so its mount namespace is gone; run \`migbench lab up\` again`);
  return pid;
}

/** The running daemon's pid, or null. */
export async function libvirtdPid(host: LabHostState, alive: (pid: number) => boolean): Promise<number | null> {
  const pid = Number((await readFile(hostPaths(host).pidFile, 'utf8').catch(() => '')).trim());
  return pid && alive(pid) ? pid : null;
}

/** Starts the host's libvirtd and waits until it answers; a no-op when it already runs. */
export async function startLibvirtd(host: LabHostState, alive: (pid: number) => boolean): Promise<LabLibvirtState> {
  const paths = hostPaths(host);
  const running = await libvirtdPid(host, alive);
  const hostUuidFile = join(paths.base, 'host-uuid');
  if (running) return { pid: running, hostUuid: (await readFile(hostUuidFile, 'utf8')).trim() };

  const ns = await sshdPid(host);
  const inHost = (argv: readonly string[]) => ['nsenter', '-t', String(ns), '-m', '-n', '--', ...argv];
  const hostUuid = randomUUID();
  for (const key of Object.keys(LIBVIRT_FOLDERS) as Array<keyof typeof LIBVIRT_FOLDERS>) await mkdir(paths.folder(key), { recursive: true, mode: 0o755 });
  // Start from the machine's client configuration (libvirt.conf, the admin socket's), then ours.
  await cp(LIBVIRT_FOLDERS.etc, paths.folder('etc'), { recursive: true, force: true }).catch(() => undefined);
  await writeFile(join(paths.folder('etc'), 'libvirtd.conf'), libvirtdConf(hostUuid));
  await writeFile(join(paths.folder('etc'), 'qemu.conf'), qemuConf());
  await writeFile(hostUuidFile, `${hostUuid}\n`);
  // Console logs of migbench guests go here on both hosts; libvirt does not create it.
  await mkdir(join(paths.folder('log'), 'qemu'), { recursive: true });
  await mkdir(join(paths.folder('lib'), 'images'), { recursive: true });

  // Already bound (a daemon that died): binding again would stack mounts.
  const mounts = (await root.run(inHost(['cat', '/proc/self/mounts']))).stdout;
  for (const [key, target] of Object.entries(LIBVIRT_FOLDERS) as Array<[keyof typeof LIBVIRT_FOLDERS, string]>) {
    if (mounts.split('\n').some((l) => l.split(' ')[1] === target)) continue;
    await root.run(['mkdir', '-p', target]);
    await root.run(inHost(['mount', '--bind', paths.folder(key), target]));
  }
  await root.run(inHost(['libvirtd', '--listen', '--daemon', '--pid-file', paths.pidFile]), { timeoutMs: 30_000 });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const probe = await root.run(inHost(['virsh', '-c', 'qemu:///system', 'uri']), { check: false, timeoutMs: 10_000 });
    if (probe.ok) break;
    if (Date.now() > deadline) {
      const log = await root.run(['tail', '-n', '5', join(paths.folder('log'), 'libvirtd.log')], { check: false });
      throw new MigbenchError(
        'MB_LAB',
        `lab host ${host.name}: libvirtd did not answer within 15 s: ${probe.stderr.trim()}${log.ok && log.stdout.trim() ? ` (${log.stdout.trim()})` : ''}`,
      );
    }
    await sleep(100);
  }
  const pid = await libvirtdPid(host, alive);
  if (!pid) throw new MigbenchError('MB_LAB', `lab host ${host.name}: libvirtd wrote no pid file ${paths.pidFile}`);
  return { pid, hostUuid };
}
