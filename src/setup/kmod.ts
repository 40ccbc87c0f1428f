// Kernel modules for the guest's initramfs: reads each module's .modinfo ELF section
// to find its dependencies and orders them so busybox insmod can load them in turn.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MigbenchError } from '../model/errors.js';

/** key=value pairs of a module's .modinfo section (keys may repeat, e.g. alias). */
export function readModinfo(elf: Buffer): Map<string, string[]> {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (elf[4] !== 2 || elf[5] !== 1) throw new Error('only little-endian ELF64 modules are supported');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  const section = (i: number) => {
    const base = shoff + i * shentsize;
    return { name: elf.readUInt32LE(base), offset: Number(elf.readBigUInt64LE(base + 0x18)), size: Number(elf.readBigUInt64LE(base + 0x20)) };
  };
  const names = section(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const start = names.offset + s.name;
    const name = elf.toString('latin1', start, elf.indexOf(0, start));
    if (name !== '.modinfo') continue;
    const info = new Map<string, string[]>();
    for (const item of elf.toString('utf8', s.offset, s.offset + s.size).split('\0')) {
      const eq = item.indexOf('=');
      if (eq <= 0) continue;
      const key = item.slice(0, eq);
      info.set(key, [...(info.get(key) ?? []), item.slice(eq + 1)]);
    }
    return info;
  }
  throw new Error('no .modinfo section');
}

export function normaliseModuleName(name: string): string {
  return name.replaceAll('-', '_');
}

/** Every module under `kernelDir` (…/lib/modules/VERSION/kernel) by normalised name. */
export async function indexModules(kernelDir: string): Promise<Map<string, string>> {
  const index = new Map<string, string>();
  const entries = await readdir(kernelDir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const match = /^(.+)\.ko(\.(xz|zst|gz))?$/.exec(entry.name);
    if (match) index.set(normaliseModuleName(match[1]!), join(entry.parentPath, entry.name));
  }
  return index;
}

export interface ResolvedModule {
  readonly name: string;
  readonly path: string;
}

/** The wanted modules and all they depend on, dependencies first. */
export async function resolveModules(kernelDir: string, wanted: readonly string[]): Promise<ResolvedModule[]> {
  const index = await indexModules(kernelDir);
  const ordered: ResolvedModule[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = async (raw: string, chain: string[]): Promise<void> => {
    const name = normaliseModuleName(raw);
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new MigbenchError('MB_SETUP', `module dependency cycle: ${[...chain, name].join(' -> ')}`);
    const path = index.get(name);
    if (!path) throw new MigbenchError('MB_SETUP', `kernel module ${name} not found under ${kernelDir}${chain.length ? ` (needed by ${chain.at(-1)})` : ''}`);
    if (!path.endsWith('.ko')) throw new MigbenchError('MB_SETUP', `kernel module ${path} is compressed; only plain .ko modules can go into the guest image`);
    state.set(name, 'visiting');
    const depends = (readModinfo(await readFile(path)).get('depends') ?? []).flatMap((d) => d.split(',')).filter(Boolean);
    for (const dep of depends) await visit(dep, [...chain, name]);
    state.set(name, 'done');
    ordered.push({ name, path });
  };
  for (const name of wanted) await visit(name, []);
  return ordered;
}
