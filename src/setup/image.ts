// Builds the guest image from Debian packages: Debian's kernel (extracted from its
// .deb, so no initramfs trigger runs), busybox-static, the virtio modules in
// dependency order and the migbench agent, packed into a gzip'd newc initramfs.
// The kernel is stored uncompressed (vmlinux, booted through its PVH entry) where it
// has one: under TCG, decompressing Debian's XZ bzImage took 2.6 of a boot's 4.6 s.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MigbenchError } from '../model/errors.js';
import type { LocalFile } from '../exec/host.js';
import { cacheDir, pathExists, projectPath } from '../model/paths.js';
import { LocalRunner } from '../exec/local.js';
import type { CommandRunner } from '../exec/runner.js';
import { writeCpio, type CpioEntry } from './cpio.js';
import { resolveModules, type ResolvedModule } from './kmod.js';

/** Bump when the image layout changes, so cached images are rebuilt. */
const IMAGE_FORMAT = 5;
// pvpanic_pci makes a kernel panic a QMP GUEST_PANICKED event instead of a silent hang.
const GUEST_MODULES = ['virtio_pci', 'virtio_net', 'virtio_blk', 'virtio_console', 'pvpanic_pci'] as const;
const KERNEL_META_PACKAGE = 'linux-image-amd64';

export interface GuestImage {
  readonly dir: string;
  readonly kernel: LocalFile;
  readonly initrd: LocalFile;
  readonly kernelPackage: string;
  readonly kernelVersion: string;
  readonly modules: readonly string[];
}

export type Log = (line: string) => void;

function sha256(...parts: Array<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

interface KernelPackage {
  readonly name: string;
  readonly version: string;
}

/** The concrete kernel package linux-image-amd64 points at, e.g. linux-image-6.1.0-56-amd64 6.1.192-2. */
export async function resolveKernelPackage(runner: CommandRunner): Promise<KernelPackage | null> {
  const depends = await runner.run(['apt-cache', 'depends', KERNEL_META_PACKAGE], { check: false });
  const name = /Depends:\s*(linux-image-[\w.+-]+)/.exec(depends.stdout)?.[1];
  if (!name) return null;
  const show = await runner.run(['apt-cache', 'show', '--no-all-versions', name], { check: false });
  const version = /^Version:\s*(\S+)/m.exec(show.stdout)?.[1];
  return version ? { name, version } : null;
}

async function inputsHash(): Promise<string> {
  const agent = await readFile(projectPath('native/guest/agent.c'));
  const init = await readFile(projectPath('native/guest/init'));
  return sha256(String(IMAGE_FORMAT), agent, init, GUEST_MODULES.join(','));
}

async function readManifest(dir: string): Promise<GuestImage | null> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as GuestImage;
    if ((await pathExists(manifest.kernel.localPath)) && (await pathExists(manifest.initrd.localPath))) return manifest;
  } catch {
    // No manifest: not built (or a build was interrupted).
  }
  return null;
}

/**
 * Returns the cached image for the current inputs, building it when missing. Without
 * package lists (offline), an image built earlier from the same agent and init is reused.
 */
export async function ensureGuestImage(runner: CommandRunner, log: Log = console.log): Promise<GuestImage> {
  const inputs = await inputsHash();
  let kernel = await resolveKernelPackage(runner);
  if (!kernel) {
    const reuse = await findBuiltImage(inputs);
    if (reuse) return reuse;
    kernel = await resolveKernelAfterUpdate(runner, log);
  }
  const key = sha256(inputs, kernel.name, kernel.version).slice(0, 16);
  const dir = join(cacheDir(), 'guest', `${inputs.slice(0, 12)}-${key}`);
  const cached = await readManifest(dir);
  if (cached) return cached;
  return buildGuestImage(runner, log, { inputs, kernel, dir });
}

async function resolveKernelAfterUpdate(runner: CommandRunner, log: Log): Promise<KernelPackage> {
  log('setup: no package lists for the guest kernel; running apt-get update');
  await runner.run(['apt-get', 'update', '-qq'], { timeoutMs: 600_000 });
  const kernel = await resolveKernelPackage(runner);
  if (!kernel) throw new MigbenchError('MB_SETUP', `cannot resolve ${KERNEL_META_PACKAGE} to a kernel package (apt-cache depends ${KERNEL_META_PACKAGE})`);
  return kernel;
}

/** What one build makes: the image for these inputs and this kernel, in dir. */
interface ImageBuild {
  readonly inputs: string;
  readonly kernel: KernelPackage;
  readonly dir: string;
}

async function buildGuestImage(runner: CommandRunner, log: Log, build: ImageBuild): Promise<GuestImage> {
  const { kernel, dir } = build;
  log(`setup: building guest image (${kernel.name} ${kernel.version}, busybox-static, migbench agent) in ${dir}`);
  const started = Date.now();
  await mkdir(join(cacheDir(), 'guest'), { recursive: true });
  const work = await mkdtemp(join(cacheDir(), 'guest', 'build-'));
  try {
    const { root, release } = await unpackKernel(runner, work, kernel);
    const modules = await resolveModules(join(root, 'lib/modules', release, 'kernel'), GUEST_MODULES);
    const agentPath = join(work, 'migbench-agent');
    await runner.run(['gcc', '-O2', '-static', '-pthread', '-Wall', '-o', agentPath, projectPath('native/guest/agent.c')], { timeoutMs: 120_000 });
    const busybox = await readFile('/bin/busybox');
    if (!busybox.includes(Buffer.from('BusyBox'))) throw new MigbenchError('MB_SETUP', '/bin/busybox is not BusyBox (install busybox-static)');
    const entries = await initramfsEntries(busybox, agentPath, modules);
    const image = await writeImage(runner, build, { root, release, entries, modules }, log);
    log(`setup: guest image ready in ${((Date.now() - started) / 1000).toFixed(1)} s (kernel ${release}; modules ${image.modules.join(' ')})`);
    return image;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Downloads the kernel's .deb into work and extracts it: its root and its one release under /lib/modules. */
async function unpackKernel(runner: CommandRunner, work: string, kernel: KernelPackage): Promise<{ root: string; release: string }> {
  // apt-get download writes into its working directory.
  const downloader = new LocalRunner({ cwd: work });
  await downloader.run(['apt-get', 'download', '-q', '-o', 'APT::Sandbox::User=root', `${kernel.name}=${kernel.version}`], { timeoutMs: 600_000 }).catch((error: unknown) => {
    throw new MigbenchError('MB_SETUP', `downloading the guest kernel ${kernel.name} failed`, { cause: error });
  });
  const debs = (await readdir(work)).filter((f) => f.startsWith(`${kernel.name}_`) && f.endsWith('.deb'));
  if (debs.length === 0) throw new MigbenchError('MB_SETUP', `apt-get download left no ${kernel.name} .deb`);
  const deb = join(work, debs[0]!);
  const root = join(work, 'pkg');
  await runner.run(['dpkg-deb', '-x', deb, root], { timeoutMs: 300_000 });
  const release = (await readdir(join(root, 'lib/modules')))[0];
  if (!release) throw new MigbenchError('MB_SETUP', `${kernel.name} contains no /lib/modules`);
  return { root, release };
}

async function initramfsEntries(busybox: Buffer, agentPath: string, modules: readonly ResolvedModule[]): Promise<CpioEntry[]> {
  return [
    ...['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'lib', 'lib/modules', 'tmp'].map((path) => ({ type: 'dir' as const, path })),
    { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { type: 'file', path: 'init', data: await readFile(projectPath('native/guest/init')), mode: 0o755 },
    { type: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    { type: 'file', path: 'sbin/migbench-agent', data: await readFile(agentPath), mode: 0o755 },
    { type: 'file', path: 'etc/modules.order', data: Buffer.from(modules.map((m) => `${m.name}\n`).join('')) },
    ...(await Promise.all(modules.map(async (m) => ({ type: 'file' as const, path: `lib/modules/${m.name}.ko`, data: await readFile(m.path) })))),
  ];
}

/** Writes kernel, initrd and manifest beside dir, then moves them into place in one rename. */
async function writeImage(
  runner: CommandRunner,
  { inputs, kernel, dir }: ImageBuild,
  built: { root: string; release: string; entries: CpioEntry[]; modules: readonly ResolvedModule[] },
  log: Log,
): Promise<GuestImage> {
  const out = `${dir}.tmp`;
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const boot = await bootKernel(runner, join(built.root, 'boot', `vmlinuz-${built.release}`), out, log);
  const initrd = gzipSync(writeCpio(built.entries), { level: 6 });
  await writeFile(join(out, 'initrd.img'), initrd);
  const image: GuestImage = {
    dir,
    kernel: { name: boot.name, localPath: join(dir, boot.name), sha256: sha256(boot.data) },
    initrd: { name: 'initrd.img', localPath: join(dir, 'initrd.img'), sha256: sha256(initrd) },
    kernelPackage: `${kernel.name} ${kernel.version}`,
    kernelVersion: built.release,
    modules: built.modules.map((m) => m.name),
  };
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify({ ...image, inputs }, null, 2)}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(out, dir);
  return image;
}

/** The image built for this migbench's agent and init (any kernel), or null: what `migbench doctor` checks. */
export async function builtGuestImage(): Promise<GuestImage | null> {
  return findBuiltImage(await inputsHash());
}

async function findBuiltImage(inputs: string): Promise<GuestImage | null> {
  const base = join(cacheDir(), 'guest');
  const names = await readdir(base).catch(() => [] as string[]);
  for (const name of names
    .filter((n) => n.startsWith(inputs.slice(0, 12)))
    .sort()
    .reverse()) {
    const image = await readManifest(join(base, name));
    if (image) return image;
  }
  return null;
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
/** Xen's ELF note type for the 32-bit PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY), which QEMU's -kernel boots. */
const PVH_NOTE_TYPE = 18;

/** The kernel file put in the image: its name, and its bytes (hashed for the manifest). */
interface BootKernel {
  readonly name: 'vmlinux' | 'vmlinuz';
  readonly data: Buffer;
}

/**
 * Puts the kernel to boot in `out`: the bzImage's payload, uncompressed (vmlinux), when it
 * is XZ (Debian's) and the ELF has a PVH entry; else the bzImage itself (vmlinuz), with the
 * reason logged. QEMU boots either with -kernel.
 */
async function bootKernel(runner: CommandRunner, bzImage: string, out: string, log: Log): Promise<BootKernel> {
  const data = await readFile(bzImage);
  const at = data.indexOf(XZ_MAGIC);
  const extracted = at < 0 ? 'its payload is not XZ' : await extractXz(runner, data.subarray(at), out);
  if (typeof extracted !== 'string') return { name: 'vmlinux', data: extracted };
  log(`setup: booting the compressed kernel (slower under TCG): ${extracted}`);
  await writeFile(join(out, 'vmlinuz'), data);
  return { name: 'vmlinuz', data };
}

/** Decompresses the payload to out/vmlinux: its bytes when it is a bootable ELF, else why not. */
async function extractXz(runner: CommandRunner, payload: Buffer, out: string): Promise<Buffer | string> {
  const compressed = join(out, 'vmlinux.xz');
  await writeFile(compressed, payload);
  // --single-stream: the bzImage's trailer after the XZ stream is not an error.
  const xz = await runner
    .run(['xz', '--decompress', '--single-stream', '--force', compressed], { check: false, timeoutMs: 120_000 })
    .catch((error: unknown) => ({ ok: false, exitCode: null, stderr: error instanceof Error ? error.message : String(error) }));
  await rm(compressed, { force: true });
  const elf = xz.ok ? await readFile(join(out, 'vmlinux')) : null;
  if (elf && hasPvhEntry(elf)) return elf;
  await rm(join(out, 'vmlinux'), { force: true });
  return elf ? 'the kernel has no PVH entry (CONFIG_PVH)' : `xz could not decompress it: ${xz.stderr.trim() || `exit ${xz.exitCode}`}`;
}

/** Whether a 64-bit little-endian ELF carries Xen's PVH entry note, which QEMU needs to boot it. */
export function hasPvhEntry(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return false;
  const phoff = Number(elf.readBigUInt64LE(32));
  const [phentsize, phnum] = [elf.readUInt16LE(54), elf.readUInt16LE(56)];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 56 > elf.length || elf.readUInt32LE(ph) !== 4) continue; // PT_NOTE
    const [offset, size] = [Number(elf.readBigUInt64LE(ph + 8)), Number(elf.readBigUInt64LE(ph + 32))];
    const end = Math.min(offset + size, elf.length);
    for (let n = offset; n + 12 <= end;) {
      const [nameSize, descSize, type] = [elf.readUInt32LE(n), elf.readUInt32LE(n + 4), elf.readUInt32LE(n + 8)];
      // A size past the segment's end is a broken note: stop rather than read or loop on it.
      const next = n + 12 + align4(nameSize) + align4(descSize);
      if (next > end) return false;
      const name = elf.toString('latin1', n + 12, n + 12 + nameSize).replace(/\0+$/, '');
      if (name === 'Xen' && type === PVH_NOTE_TYPE) return true;
      n = next;
    }
  }
  return false;
}

/** Rounded up to 4, in plain arithmetic: sizes are 32-bit unsigned, beyond what bitwise operators keep. */
const align4 = (n: number) => Math.ceil(n / 4) * 4;
