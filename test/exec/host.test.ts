import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { describeHost, guestImageSetting, installFile, processAlive, readFileTail, readTail } from '../../src/exec/host.js';
import { LocalRunner } from '../../src/exec/local.js';
import type { MigrationRecord } from '../../src/generated/results.js';
import { environmentDescription, environmentFingerprint } from '../../src/model/fingerprint.js';
import { FakeRunner } from '../fakes/runner.js';

describe('host', () => {
  test('a zombie is not alive; a running process is; a missing one is not', async () => {
    // The command name may hold spaces and parentheses: the state is read after the last ")".
    const stat = (state: string) => `4242 (qemu (x) y) ${state} 1 4242 4242 0 -1`;
    expect(await processAlive(new FakeRunner('h', () => ({ stdout: stat('S') })), 4242)).toBe(true);
    expect(await processAlive(new FakeRunner('h', () => ({ stdout: stat('Z') })), 4242)).toBe(false);
    expect(await processAlive(new FakeRunner('h', () => ({ exitCode: 1, stderr: 'No such file' })), 4242)).toBe(false);
  });

  test('describeHost reads the name, kernel, CPU model and count', async () => {
    const runner = new FakeRunner('h', (argv) =>
      argv[0] === 'uname' ? { stdout: 'src 6.1.0-18-amd64\n' } : { stdout: 'processor\t: 0\nmodel name\t: AMD EPYC\nprocessor\t: 1\nmodel name\t: AMD EPYC\n' },
    );
    expect(await describeHost(runner, 'QEMU 7.2', 'tcg', 'no /dev/kvm')).toEqual({
      host: 'src',
      kernel: '6.1.0-18-amd64',
      cpuModel: 'AMD EPYC',
      cpuCount: 2,
      hypervisorVersion: 'QEMU 7.2',
      accel: 'tcg',
      accelReason: 'no /dev/kvm',
    });
  });

  test('the guest image is a setting of the environment: another kernel or initrd is another environment', async () => {
    const file = (name: string, sha: string) => ({ name, localPath: `/x/${name}`, sha256: sha.repeat(64) });
    const image = guestImageSetting({ kernel: file('vmlinux', 'a'), initrd: file('initrd.img', 'b') });
    expect(image).toEqual({ 'guest image': expect.stringMatching(/^sha256:[0-9a-f]{12}$/) });
    expect(guestImageSetting({ kernel: file('vmlinuz', 'c'), initrd: file('initrd.img', 'b') })).not.toEqual(image);
    expect(guestImageSetting({ kernel: file('vmlinux', 'a'), initrd: file('initrd.img', 'd') })).not.toEqual(image);
    const runner = new FakeRunner('h', (argv) => (argv[0] === 'uname' ? { stdout: 'src 6.1.0-18-amd64\n' } : { stdout: 'processor\t: 0\nmodel name\t: AMD EPYC\n' }));
    const host = await describeHost(runner, 'QEMU 7.2', 'tcg', undefined, { known: image });
    expect(host.settings).toEqual(image);
    // The comparison names it like any other setting when two runs differ in it.
    const record = (h: typeof host) => ({ environment: { source: h, destination: h }, status: 'completed' }) as unknown as MigrationRecord;
    const other = { ...host, settings: guestImageSetting({ kernel: file('vmlinuz', 'c'), initrd: file('initrd.img', 'b') }) };
    expect(environmentDescription([record(host)])['guest image']).toBe(image['guest image']);
    expect(environmentFingerprint([record(host)])).not.toBe(environmentFingerprint([record(other)]));
  });

  test('installFile uses an identical copy in place, else copies it under its hash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-host-'));
    const localPath = join(dir, 'probe');
    await writeFile(localPath, 'binary');
    const file = { name: 'probe', localPath, sha256: 'ab'.repeat(32) };
    const shared = new FakeRunner('lab', (argv) => (argv[0] === 'sha256sum' && argv[1] === localPath ? { stdout: `${file.sha256}  ${localPath}\n` } : { exitCode: 1 }));
    expect(await installFile(shared, file)).toBe(localPath);
    expect(shared.calls.map((c) => c[0])).toEqual(['sha256sum']);
    const remote = new FakeRunner('far', (argv) => (argv[0] === 'sha256sum' ? { exitCode: 1 } : {}));
    const target = `/var/tmp/migbench/files/${file.sha256.slice(0, 16)}-probe`;
    expect(await installFile(remote, file)).toBe(target);
    expect(remote.calls.slice(2)).toEqual([
      ['mkdir', '-p', '/var/tmp/migbench/files'],
      ['dd', `of=${target}.tmp`, 'bs=1M', 'status=none'],
      ['mv', '-f', `${target}.tmp`, target],
    ]);
  });
});

describe(readFileTail, () => {
  test('whole lines only: a tail cut at a byte count drops its cut first line; a file that fits is whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-tail-'));
    const file = join(dir, 'console.log');
    await writeFile(file, '[    7.053427] BUG: scheduling while atomic\nmigbench-agent: ready\n');
    const runner = new LocalRunner();
    // 30 bytes from the end start inside the first line: "atomic" alone must not be read as a line.
    expect(await readFileTail(runner, file, { bytes: 30 })).toBe('migbench-agent: ready');
    expect(await readFileTail(runner, file, { bytes: 4096 })).toBe('[    7.053427] BUG: scheduling while atomic\nmigbench-agent: ready');
    expect(await readFileTail(runner, file, { lines: 1 })).toBe('migbench-agent: ready');
  });

  test('a file that cannot be read is an error naming the command; readTail, for error messages, says nothing instead', async () => {
    const missing = join(await mkdtemp(join(tmpdir(), 'migbench-tail-')), 'absent.log');
    await expect(readFileTail(new LocalRunner(), missing, { bytes: 4096 })).rejects.toThrow(/tail -c 4096 .*absent\.log/);
    expect(await readTail(new LocalRunner(), missing, { lines: 8 })).toBe('');
  });
});
