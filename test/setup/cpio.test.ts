import { mkdtemp, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { LocalRunner } from '../../src/exec/local.js';
import { writeCpio } from '../../src/setup/cpio.js';

describe(writeCpio, () => {
  test('busybox cpio extracts exactly what was written (files, modes, dirs, links, device nodes)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-cpio-'));
    const binary = Buffer.from(Array.from({ length: 1001 }, (_, i) => i % 251));
    const archive = writeCpio([
      { type: 'dir', path: 'bin' },
      { type: 'dir', path: 'etc' },
      { type: 'file', path: 'init', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { type: 'file', path: 'bin/blob', data: binary },
      { type: 'file', path: 'etc/empty', data: Buffer.alloc(0) },
      { type: 'symlink', path: 'bin/sh', target: 'busybox' },
      { type: 'chardev', path: 'console', major: 5, minor: 1 },
    ]);
    expect(archive.length % 4).toBe(0);
    await writeFile(join(dir, 'a.cpio'), archive);
    const out = join(dir, 'out');
    await new LocalRunner({ cwd: dir }).run(['sh', '-c', 'mkdir out && cd out && busybox cpio -i -d < ../a.cpio']);
    expect(await readFile(join(out, 'init'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect((await stat(join(out, 'init'))).mode & 0o777).toBe(0o755);
    expect((await readFile(join(out, 'bin/blob'))).equals(binary)).toBe(true);
    expect((await readFile(join(out, 'etc/empty'))).length).toBe(0);
    expect(await readlink(join(out, 'bin/sh'))).toBe('busybox');
    const console = await stat(join(out, 'console'));
    expect(console.isCharacterDevice()).toBe(true);
    expect(console.rdev).toBe((5 << 8) | 1);
  });

  test('deterministic, and refuses paths that escape the archive', () => {
    const entries = [{ type: 'file' as const, path: 'a', data: Buffer.from('x') }];
    expect(writeCpio(entries).equals(writeCpio(entries))).toBe(true);
    expect(() => writeCpio([{ type: 'file', path: '../etc/passwd', data: Buffer.alloc(1) }])).toThrow(/bad path/);
    expect(() => writeCpio([{ type: 'dir', path: '/' }])).toThrow(/bad path/);
  });
});
