// `migbench lab up | down | status`: two hypervisor hosts and an observer made of
// network namespaces on this machine, each host with its own sshd, so migbench
// reaches them over SSH exactly as it reaches real hosts.
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, MigbenchError, runCleanups } from '../model/errors.js';
import { labDir, labSharedDir, labWorkDir } from '../model/paths.js';
import { fingerprint } from '../exec/hostkey.js';
import { LocalRunner } from '../exec/local.js';
import { SshRunner } from '../exec/ssh.js';
import { libvirtdPid, startLibvirtd } from './libvirt.js';
import type { LabHostState, LabState } from './state.js';
import { labNamespaces, labPlan, networkCommands, sshdConfig, type LabPlan, type LabRole } from './topology.js';
import { alive, killAll, namespacePids } from './processes.js';
import { findLeftovers } from './leftovers.js';
import { assertLabFree, heldByAnother, removeEmptyLabRoot, removeStaleLock } from './lock.js';
import { sleep } from '../model/time.js';

export { alive };

export interface LabOptions {
  readonly prefix?: string;
  /** Also run a libvirtd on each host (added to a running lab that lacks them). */
  readonly withLibvirt?: boolean;
  readonly log?: (line: string) => void;
}

const root = new LocalRunner();

function assertRoot(): void {
  if (process.getuid?.() !== 0) throw new MigbenchError('MB_LAB', 'the embedded lab needs root (network namespaces, bridges, taps): run as root', { userError: true });
}

function statePath(): string {
  return join(labDir(), 'state.json');
}

export async function readLabState(): Promise<LabState | null> {
  try {
    return JSON.parse(await readFile(statePath(), 'utf8')) as LabState;
  } catch {
    return null;
  }
}

/** The proxy that carries SSH from this machine into the lab: a TCP relay run in the observer. */
export function labProxyCommand(state: LabState, role: LabRole): string[] {
  const host = state.hosts[role];
  return ['ip', 'netns', 'exec', state.observer.netns, 'busybox', 'nc', host.address, String(host.port)];
}

export async function connectLabHost(state: LabState, role: LabRole, connectTimeoutMs?: number): Promise<SshRunner> {
  const host = state.hosts[role];
  return SshRunner.connect({
    ...(connectTimeoutMs !== undefined && { connectTimeoutMs }),
    label: `lab ${host.name}`,
    address: host.address,
    port: host.port,
    user: 'root',
    privateKey: await readFile(state.clientKeyPath),
    hostKeys: { fingerprints: [host.hostKeyFingerprint] },
    proxyCommand: labProxyCommand(state, role),
    serverLog: join(host.dir, 'sshd.log'),
  });
}

async function existingNamespaces(): Promise<Set<string>> {
  const out = await root.run(['ip', 'netns', 'list'], { check: false });
  return new Set(
    out.stdout
      .split('\n')
      .map((l) => l.split(/\s+/)[0]!)
      .filter(Boolean),
  );
}

export interface LabStatus {
  readonly up: boolean;
  /**
   * Everything of the lab runs (namespaces, sshd) but SSH did not answer in time: busy, not
   * broken. Another run may hold connections to it, so nothing tears it down on that alone.
   */
  readonly unresponsive: boolean;
  readonly problems: readonly string[];
  /** What runs or exists in the lab besides itself: QEMUs and VM taps a run left behind. */
  readonly leftovers: readonly string[];
  readonly namespaces: ReadonlyArray<{ name: string; exists: boolean; processes: number }>;
  readonly state: LabState | null;
}

export async function labStatus(options: { prefix?: string; checkSsh?: boolean; sshTimeoutMs?: number } = {}): Promise<LabStatus> {
  const plan = labPlan(options.prefix);
  const present = await existingNamespaces();
  const namespaces = await Promise.all(
    labNamespaces(plan).map(async (name) => ({ name, exists: present.has(name), processes: present.has(name) ? (await namespacePids(root, name)).length : 0 })),
  );
  const problems: string[] = [];
  let unresponsive = false;
  for (const ns of namespaces) if (!ns.exists) problems.push(`namespace ${ns.name} is missing`);
  const state = await readLabState();
  if (!state) problems.push(`no lab state in ${statePath()}`);
  else if (state.prefix !== plan.prefix) problems.push(`lab state is for prefix ${state.prefix}`);
  if (state && problems.length === 0) {
    for (const role of ['source', 'destination'] as const) {
      const pid = Number((await readFile(join(state.hosts[role].dir, 'sshd.pid'), 'utf8').catch(() => '')).trim());
      if (!pid || !alive(pid)) problems.push(`sshd of ${state.hosts[role].name} is not running`);
      if (state.libvirt && !(await libvirtdPid(state.hosts[role], alive))) problems.push(`libvirtd of ${state.hosts[role].name} is not running`);
    }
    if (problems.length === 0 && (options.checkSsh ?? true)) {
      const timeoutMs = options.sshTimeoutMs ?? 10_000;
      for (const role of ['source', 'destination'] as const) {
        try {
          const ssh = await connectLabHost(state, role, timeoutMs);
          await ssh.run(['true'], { timeoutMs }).finally(() => ssh.close());
        } catch (error) {
          problems.push(`cannot reach ${state.hosts[role].name} over SSH: ${errorMessage(error)}`);
          unresponsive = true;
        }
      }
    }
  }
  // What runs in a lab another live run holds is that run's, not left behind.
  const leftovers = state && namespaces.every((n) => n.exists) && !(await heldByAnother()) ? (await findLeftovers(root, state)).map((l) => l.what) : [];
  return { up: problems.length === 0, unresponsive, problems, leftovers, namespaces, state };
}

/** Removes every namespace, process and file of the lab. Idempotent; copes with half-built labs. */
export async function labDown(options: LabOptions = {}): Promise<{ removedNamespaces: string[]; killedProcesses: number }> {
  assertRoot();
  await assertLabFree('take the lab down');
  const plan = labPlan(options.prefix);
  const present = await existingNamespaces();
  const removedNamespaces: string[] = [];
  let killedProcesses = 0;
  // Processes first: deleting a namespace's name does not stop what runs inside it.
  for (const ns of labNamespaces(plan).filter((n) => present.has(n))) {
    const pids = await namespacePids(root, ns);
    killedProcesses += pids.length;
    await killAll(pids);
  }
  for (const ns of labNamespaces(plan).filter((n) => present.has(n))) {
    await root.run(['ip', 'netns', 'del', ns]);
    removedNamespaces.push(ns);
  }
  await rm(labDir(), { recursive: true, force: true });
  await removeStaleLock();
  // The guests' files (VM folders, shared disks): nothing runs that uses them any more.
  for (const dir of [...plan.hosts.map((h) => labWorkDir(h.name)), labSharedDir()]) await rm(dir, { recursive: true, force: true });
  await removeEmptyLabRoot();
  if (removedNamespaces.length || killedProcesses) {
    options.log?.(`lab: removed ${removedNamespaces.length} namespaces (${removedNamespaces.join(', ')}) and stopped ${killedProcesses} processes`);
  }
  return { removedNamespaces, killedProcesses };
}

async function sshKeygen(path: string, comment: string): Promise<void> {
  await root.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

function publicKeyBlob(publicKeyLine: string): Buffer {
  const base64 = publicKeyLine.trim().split(/\s+/)[1];
  if (!base64) throw new MigbenchError('MB_LAB', `unreadable public key: ${publicKeyLine.slice(0, 40)}`);
  return Buffer.from(base64, 'base64');
}

async function startSshd(plan: LabPlan, role: LabRole, dir: string, clientPublicKey: string): Promise<LabHostState> {
  const host = plan.hosts.find((h) => h.role === role)!;
  const hostDir = join(dir, host.name);
  await mkdir(hostDir, { recursive: true, mode: 0o700 });
  await sshKeygen(join(hostDir, 'ssh_host_ed25519_key'), `migbench-lab-${host.name}`);
  await writeFile(join(hostDir, 'authorized_keys'), clientPublicKey, { mode: 0o600 });
  await writeFile(join(hostDir, 'sshd_config'), sshdConfig(host, hostDir));
  const hostPublic = await readFile(join(hostDir, 'ssh_host_ed25519_key.pub'), 'utf8');
  await root.run(['ip', 'netns', 'exec', host.netns, '/usr/sbin/sshd', '-f', join(hostDir, 'sshd_config'), '-E', join(hostDir, 'sshd.log')]);
  return {
    name: host.name,
    netns: host.netns,
    address: host.address,
    port: plan.sshPort,
    hostKeyFingerprint: fingerprint(publicKeyBlob(hostPublic)),
    migrationAddress: host.migrationAddress,
    migrationInterface: host.migrationInterface,
    bridge: host.bridge,
    dir: hostDir,
  };
}

async function waitReachable(state: LabState, role: LabRole, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const ssh = await connectLabHost(state, role);
      await ssh.run(['true'], { timeoutMs: 5000 }).finally(() => ssh.close());
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new MigbenchError('MB_LAB', `lab host ${state.hosts[role].name} did not answer over SSH within ${timeoutMs} ms`, { cause: error });
      await sleep(100);
    }
  }
}

/** Brings the lab up, or leaves it as it is when it is already up and healthy. */
export async function labUp(options: LabOptions = {}): Promise<LabState> {
  assertRoot();
  const log = options.log ?? (() => undefined);
  await assertLabFree('bring the lab up');
  const status = await responsiveStatus(options.prefix);
  if (status.up && status.state) {
    await resetLeftovers(status.state, log);
    if (options.withLibvirt && !status.state.libvirt) return addLibvirt(status.state, log);
    log('lab: already up');
    return status.state;
  }
  if (status.namespaces.some((n) => n.exists) || status.state) {
    log(`lab: clearing stale state (${status.problems.join('; ')})`);
  }
  // A lab that had libvirt gets it back when it is rebuilt.
  const withLibvirt = options.withLibvirt || Boolean(status.state?.libvirt);
  await labDown({ prefix: options.prefix, log });
  return buildLab(options.prefix, withLibvirt, log);
}

/** What a crashed or half-torn-down run left in a running lab, removed; each said. */
async function resetLeftovers(state: LabState, log: (line: string) => void): Promise<void> {
  const leftovers = await findLeftovers(root, state);
  if (!leftovers.length) return;
  await runCleanups(leftovers.map((l) => [l.what, () => l.remove()] as [string, () => Promise<void>]));
  log(`lab: reset a dirty lab, removed: ${leftovers.map((l) => l.what).join('; ')}`);
}

/** The lab's status, refusing a lab that runs but does not answer: someone may be using it. */
async function responsiveStatus(prefix: string | undefined): Promise<LabStatus> {
  let status = await labStatus({ prefix });
  // A lab that runs but answered slowly is busy (two TCG guests on two cores, say): ask
  // once more, patiently. Rebuilding it would kill the connections of whoever is using it.
  if (status.unresponsive) status = await labStatus({ prefix, sshTimeoutMs: 30_000 });
  if (status.unresponsive) {
    throw new MigbenchError(
      'MB_LAB',
      `the lab runs but does not answer over SSH (${status.problems.join('; ')}); another migbench run may be using it. \`migbench lab down\` rebuilds it from scratch`,
      { userError: true },
    );
  }
  return status;
}

/** Builds the lab from nothing; a build that fails is torn down again. */
async function buildLab(prefix: string | undefined, withLibvirt: boolean, log: (line: string) => void): Promise<LabState> {
  const started = performance.now();
  const plan = labPlan(prefix);
  const dir = labDir();
  try {
    const state = await startLabHosts(plan, dir);
    await Promise.all([waitReachable(state, 'source', 10_000), waitReachable(state, 'destination', 10_000)]);
    await writeState(state);
    log(
      `lab: up in ${((performance.now() - started) / 1000).toFixed(1)} s (source ${state.hosts.source.address}, destination ${state.hosts.destination.address}, observer ${state.observer.address})`,
    );
    return withLibvirt ? await addLibvirt(state, log) : state;
  } catch (error) {
    await runCleanups([['lab down after a failed lab up', () => labDown({ prefix })]], error);
    throw error;
  }
}

/** Creates the namespaces and the network, the client key and each host's sshd. */
async function startLabHosts(plan: LabPlan, dir: string): Promise<LabState> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  for (const argv of networkCommands(plan)) await root.run(argv);
  // sshd refuses to start without its privilege-separation directory.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const clientKeyPath = join(dir, 'client_ed25519');
  await sshKeygen(clientKeyPath, 'migbench-lab-client');
  const clientPublic = await readFile(`${clientKeyPath}.pub`, 'utf8');
  return {
    version: 1,
    prefix: plan.prefix,
    createdAt: new Date().toISOString(),
    dir,
    clientKeyPath,
    hosts: {
      source: await startSshd(plan, 'source', dir, clientPublic),
      destination: await startSshd(plan, 'destination', dir, clientPublic),
    },
    observer: { netns: plan.observer.netns, address: plan.observer.address },
    guestAddress: plan.guestAddress,
  };
}

async function writeState(state: LabState): Promise<void> {
  await writeFile(`${statePath()}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  await root.run(['mv', '-f', `${statePath()}.tmp`, statePath()]);
}

/** Starts libvirtd on both hosts of a running lab and records them in its state. */
async function addLibvirt(state: LabState, log: (line: string) => void): Promise<LabState> {
  const started = performance.now();
  const libvirt = { source: await startLibvirtd(state.hosts.source, alive), destination: await startLibvirtd(state.hosts.destination, alive) };
  const next: LabState = { ...state, libvirt };
  await writeState(next);
  log(`lab: libvirtd up on both hosts in ${((performance.now() - started) / 1000).toFixed(1)} s (pids ${libvirt.source.pid}, ${libvirt.destination.pid})`);
  return next;
}
