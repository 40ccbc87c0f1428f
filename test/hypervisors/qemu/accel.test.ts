import { describe, expect, test } from 'vitest';
import { chooseAccel, kvmBootSucceeded } from '../../../src/hypervisors/qemu/accel.js';
import { FakeRunner } from '../../fakes/runner.js';

const base = { binary: 'qemu-system-x86_64', machine: 'q35', kernelPath: '/k/vmlinuz', cacheDir: '/tmp/mb-accel-test' };

describe(kvmBootSucceeded, () => {
  test('a kernel banner means KVM works; the real-mode stub alone does not', () => {
    expect(kvmBootSucceeded('Probing EDD (edd=off to disable)... ok\n[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@...)')).toBe(true);
    // What a broken nested KVM printed on the machine migbench was developed on.
    expect(kvmBootSucceeded('Probing EDD (edd=off to disable)... ok\n\n\nInvalid physical address chosen!\n\nPhysical KASLR disabled')).toBe(false);
  });
});

describe(chooseAccel, () => {
  test('no /dev/kvm: TCG without booting anything', async () => {
    const runner = new FakeRunner('h', (argv) => (argv[0] === 'test' ? { exitCode: 1 } : {}));
    expect(await chooseAccel(runner, { ...base, requested: 'auto' })).toEqual({ accel: 'tcg', reason: 'no /dev/kvm' });
    expect(runner.calls).toHaveLength(1);
  });

  test('/dev/kvm that cannot boot a guest: TCG, and the verdict is cached on the host', async () => {
    const runner = new FakeRunner('h', (argv) => {
      if (argv[0] === 'cat' && argv[1]?.startsWith('/tmp/mb-accel-test/')) return { exitCode: 1 };
      if (argv[0] === 'timeout') return { exitCode: 137, stdout: 'Probing EDD (edd=off to disable)... ok' };
      if (argv[1] === '--version') return { stdout: 'QEMU emulator version 7.2.22\n' };
      return {};
    });
    const choice = await chooseAccel(runner, { ...base, requested: 'auto', checkTimeoutMs: 100 });
    expect(choice.accel).toBe('tcg');
    expect(choice.reason).toMatch(/did not boot under KVM/);
    const cached = runner.calls.find((c) => c[0] === 'dd');
    expect(cached?.[1]).toMatch(/^of=\/tmp\/mb-accel-test\/accel-[0-9a-f]{16}$/);
  });

  test('a working KVM, and a configured choice that skips the check', async () => {
    const runner = new FakeRunner('h', (argv) => {
      if (argv[0] === 'cat' && argv[1]?.startsWith('/tmp/')) return { exitCode: 1 };
      if (argv[0] === 'timeout') return { stdout: 'Linux version 6.1.0-56-amd64' };
      return {};
    });
    expect((await chooseAccel(runner, { ...base, requested: 'auto' })).accel).toBe('kvm');
    expect(await chooseAccel(new FakeRunner('h'), { ...base, requested: 'tcg' })).toEqual({ accel: 'tcg', reason: 'configured' });
  });
});
