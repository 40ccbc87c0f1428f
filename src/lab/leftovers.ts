// What a run leaves in the lab when its teardown did not happen (SIGKILL, a crash) or
// failed: QEMUs and probes still running, VM taps, link shaping on the migration
// interfaces, flow-counter tables, VM folders. `lab status` lists them; `lab up` on such a
// lab removes them, and says what it removed, so the next run starts as clean as a new lab.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandRunner } from '../exec/runner.js';
import { labSharedDir, labWorkDir } from '../model/paths.js';
import { alive, killAll, namespacePids } from './processes.js';
import type { LabState } from './state.js';

export interface Leftover {
  /** What it is and where, in words. */
  readonly what: string;
  remove(): Promise<void>;
}

/** Programs a run starts in the lab (by /proc comm, at most 15 characters): QEMU, and migbench's probe on the observer. */
const RUN_PROGRAMS = /^(qemu-system|migbench-probe)/;

export async function findLeftovers(root: CommandRunner, state: LabState): Promise<Leftover[]> {
  const found: Leftover[] = [];
  const namespaces = [...Object.values(state.hosts).map((h) => ({ name: h.name, netns: h.netns })), { name: 'observer', netns: state.observer.netns }];
  for (const ns of namespaces) found.push(...(await programs(root, ns)));
  for (const host of Object.values(state.hosts)) {
    found.push(...(await taps(root, host.name, host.netns)));
    found.push(...(await shaping(root, host.name, host.netns, host.migrationInterface)));
    found.push(...(await flowTables(root, host.name, host.netns)));
    found.push(...(await vmFiles(host.name, join(labWorkDir(host.name), 'vms'))));
  }
  found.push(...(await vmFiles('shared storage', labSharedDir())));
  return found;
}

async function programs(root: CommandRunner, ns: { name: string; netns: string }): Promise<Leftover[]> {
  const found: Leftover[] = [];
  for (const pid of await namespacePids(root, ns.netns)) {
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (RUN_PROGRAMS.test(comm) && alive(pid)) {
      const what = comm.startsWith('qemu') ? 'QEMU' : 'probe';
      found.push({ what: `${ns.name}: ${what} pid ${pid} is running`, remove: () => killAll([pid]) });
    }
  }
  return found;
}

async function taps(root: CommandRunner, host: string, netns: string): Promise<Leftover[]> {
  const links = await root.run(['ip', '-n', netns, '-o', 'link', 'show'], { check: false });
  return [...links.stdout.matchAll(/^\d+: (mbt[0-9a-f]+)[:@]/gm)].map((m) => ({
    what: `${host}: VM tap ${m[1]} is present`,
    remove: async () => void (await root.run(['ip', '-n', netns, 'link', 'del', m[1]!], { check: false })),
  }));
}

/** A root qdisc that is not the kernel's default on the migration interface: a scenario's shaping. */
async function shaping(root: CommandRunner, host: string, netns: string, iface: string): Promise<Leftover[]> {
  const out = await root.run(['tc', '-n', netns, 'qdisc', 'show', 'dev', iface, 'root'], { check: false });
  const kind = /^qdisc (tbf|netem) /m.exec(out.stdout)?.[1];
  if (!kind) return [];
  return [
    { what: `${host}: link shaping (${kind}) on ${iface}`, remove: async () => void (await root.run(['tc', '-n', netns, 'qdisc', 'del', 'dev', iface, 'root'], { check: false })) },
  ];
}

async function flowTables(root: CommandRunner, host: string, netns: string): Promise<Leftover[]> {
  const out = await root.run(['ip', 'netns', 'exec', netns, 'nft', 'list', 'tables'], { check: false });
  return [...out.stdout.matchAll(/^table inet (migbench_[a-z0-9]+)$/gm)].map((m) => ({
    what: `${host}: flow counter table ${m[1]}`,
    remove: async () => void (await root.run(['ip', 'netns', 'exec', netns, 'nft', 'delete', 'table', 'inet', m[1]!], { check: false })),
  }));
}

/** VM folders and disks (sockets, logs, qcow2 files) of guests no run tears down any more: each guest's teardown removes its own. */
async function vmFiles(where: string, dir: string): Promise<Leftover[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries.map((name) => ({ what: `${where}: ${join(dir, name)}`, remove: () => rm(join(dir, name), { recursive: true, force: true }) }));
}
