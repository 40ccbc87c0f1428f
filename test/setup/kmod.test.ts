import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { LocalRunner } from '../../src/exec/local.js';
import { readModinfo, resolveModules } from '../../src/setup/kmod.js';

// Real ELF objects with a .modinfo section, built by gcc the way the kernel's build does it.
let dir: string;
async function fakeModule(name: string, depends: string): Promise<void> {
  const source = join(dir, `${name}.c`);
  await writeFile(source, `__attribute__((section(".modinfo"), used)) static const char info[] = "license=GPL\\0depends=${depends}\\0name=${name}";\n`);
  const sub = join(dir, 'kernel', name.startsWith('virtio') ? 'drivers/virtio' : 'net');
  await mkdir(sub, { recursive: true });
  await new LocalRunner().run(['gcc', '-c', '-o', join(sub, `${name.replaceAll('_', '-')}.ko`), source]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'migbench-kmod-'));
  await fakeModule('virtio_ring', '');
  await fakeModule('virtio', 'virtio_ring');
  await fakeModule('virtio_pci', 'virtio_ring,virtio');
  await fakeModule('failover', '');
  await fakeModule('net_failover', 'failover');
  await fakeModule('virtio_net', 'virtio_ring,virtio,net_failover');
});

describe(readModinfo, () => {
  test('reads key=value pairs from the .modinfo ELF section', async () => {
    const { readFile } = await import('node:fs/promises');
    const info = readModinfo(await readFile(join(dir, 'kernel/drivers/virtio/virtio-net.ko')));
    expect(info.get('depends')).toEqual(['virtio_ring,virtio,net_failover']);
    expect(info.get('license')).toEqual(['GPL']);
    expect(() => readModinfo(Buffer.from('not an elf at all, not at all, not at all, not at all, not at all'))).toThrow(/not an ELF/);
  });
});

describe(resolveModules, () => {
  test('the wanted modules and their dependencies, dependencies first (- and _ are the same name)', async () => {
    const order = (await resolveModules(join(dir, 'kernel'), ['virtio_net', 'virtio_pci'])).map((m) => m.name);
    expect(order).toEqual(['virtio_ring', 'virtio', 'failover', 'net_failover', 'virtio_net', 'virtio_pci']);
  });

  test('a missing module names who needed it', async () => {
    await fakeModule('needs_ghost', 'ghost');
    await expect(resolveModules(join(dir, 'kernel'), ['needs_ghost'])).rejects.toThrow(/kernel module ghost not found .*\(needed by needs_ghost\)/);
  });
});
