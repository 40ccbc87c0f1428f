import { describe, expect, test } from 'vitest';
import { kernelCommandLine, qemuArgv } from '../../../src/hypervisors/qemu/cmdline.js';

const launch = {
  vmId: 'mbabc123',
  guest: { memoryMiB: 256, vcpus: 2, diskMiB: 256, diskDataMiB: 64 },
  network: { address: '10.77.0.100/24', mac: '52:54:00:aa:bb:cc' },
  agent: { hb_ms: '1', ws_mib: '64' },
  storage: 'shared' as const,
};
const cmd = {
  binary: 'qemu-system-x86_64',
  machine: 'q35',
  accel: 'tcg' as const,
  kernelPath: '/k/vmlinuz',
  initrdPath: '/k/initrd.img',
  vmDir: '/run/migbench/vms/mbabc123-source',
  tap: 'mbtabc123',
  incoming: false,
};

describe(qemuArgv, () => {
  test('source and destination differ only in -incoming', () => {
    const source = qemuArgv(launch, cmd);
    const destination = qemuArgv(launch, { ...cmd, incoming: true });
    expect(destination).toEqual([...source, '-incoming', 'defer']);
  });

  test('the guest gets its size, NIC, agent channel and panic device; QMP and console go to the VM directory', () => {
    const argv = qemuArgv(launch, cmd).join(' ');
    expect(argv).toContain('-machine q35,accel=tcg -m 256 -smp 2');
    expect(argv).toContain('-netdev tap,id=net0,ifname=mbtabc123,script=no,downscript=no -device virtio-net-pci,netdev=net0,mac=52:54:00:aa:bb:cc');
    expect(argv).toContain('-qmp unix:/run/migbench/vms/mbabc123-source/qmp.sock,server=on,wait=off');
    expect(argv).toContain('-chardev socket,id=agent,path=/run/migbench/vms/mbabc123-source/agent.sock,server=on,wait=off');
    expect(argv).toContain('name=org.migbench.agent');
    expect(argv).toContain('-device pvpanic-pci -action panic=pause');
    expect(argv).not.toContain('-cpu');
    expect(qemuArgv(launch, { ...cmd, accel: 'kvm' })).toEqual(expect.arrayContaining(['-cpu', 'host']));
  });

  test('a disk is a qcow2 node the mirror and the NBD export can name; -S holds a storage destination', () => {
    const argv = qemuArgv(launch, { ...cmd, diskPath: '/run/migbench/shared/mbabc123.qcow2' }).join(' ');
    expect(argv).toContain(
      '-blockdev driver=file,filename=/run/migbench/shared/mbabc123.qcow2,node-name=disk0-file -blockdev driver=qcow2,file=disk0-file,node-name=disk0 -device virtio-blk-pci,drive=disk0',
    );
    expect(qemuArgv(launch, cmd).join(' ')).not.toContain('virtio-blk');
    expect(qemuArgv(launch, { ...cmd, incoming: true, startPaused: true }).slice(-3)).toEqual(['-S', '-incoming', 'defer']);
    expect(() => qemuArgv(launch, { ...cmd, diskPath: '/a,b.qcow2' })).toThrow(/comma/);
  });

  test("the target's extra options come after migbench's own (a -cpu there wins), on both sides; none off the allow-list", () => {
    const argv = qemuArgv(launch, { ...cmd, accel: 'kvm', extraArgs: ['-cpu', 'qemu64,+ssse3', '-overcommit', 'mem-lock=off'] });
    expect(argv.join(' ')).toMatch(/-cpu host .* -cpu qemu64,\+ssse3 -overcommit mem-lock=off$/);
    expect(qemuArgv(launch, { ...cmd, incoming: true, extraArgs: ['-rtc', 'clock=vm'] }).slice(-4)).toEqual(['-rtc', 'clock=vm', '-incoming', 'defer']);
    expect(() => qemuArgv(launch, { ...cmd, extraArgs: ['-chardev', 'socket,id=x,path=/tmp/s'] })).toThrow(/qemu\.extraArgs\[0\]: QEMU option "-chardev" is not allowed/);
  });

  test('the machine type is a name only: a comma would add machine properties (firmware=, dumpdtb=)', () => {
    expect(() => qemuArgv(launch, { ...cmd, machine: 'q35,firmware=/etc/shadow' })).toThrow(/qemu.machine "q35,firmware=\/etc\/shadow" is not a machine type's name/);
    expect(qemuArgv(launch, { ...cmd, machine: 'pc-q35-7.2' }).join(' ')).toContain('-machine pc-q35-7.2,accel=tcg');
  });

  test('refuses values QEMU would split on commas', () => {
    expect(() => qemuArgv(launch, { ...cmd, vmDir: '/run/a,b' })).toThrow(/comma/);
    expect(() => qemuArgv(launch, { ...cmd, kernelPath: '/k,x' })).toThrow(/comma/);
  });
});

describe(kernelCommandLine, () => {
  test('carries the agent parameters and never reboots on panic', () => {
    const line = kernelCommandLine(launch);
    expect(line).toBe('console=ttyS0 quiet mitigations=off migbench.ip=10.77.0.100/24 migbench.hb_ms=1 migbench.ws_mib=64');
    expect(line).not.toMatch(/panic=/);
    expect(() => kernelCommandLine({ ...launch, agent: { x: 'a b' } })).toThrow(/whitespace/);
  });
});

describe('TCG dirty-bitmap workaround', () => {
  test('pads RAM so it is not a multiple of 64 pages', () => {
    expect(qemuArgv(launch, { ...cmd, ramPaddingKiB: 8 })).toEqual(expect.arrayContaining(['-m', '262152K']));
    expect((256 * 1024 + 8) % 256).not.toBe(0);
  });
});
