import { describe, expect, test } from 'vitest';
import { kernelCommandLine, qemuArgv } from '../../src/qemu/cmdline.js';

const launch = { vmId: 'mbabc123', guest: { memoryMiB: 256, vcpus: 2 }, network: { address: '10.77.0.100/24', mac: '52:54:00:aa:bb:cc' }, agent: { hb_ms: '1', ws_mib: '64' } };
const cmd = { binary: 'qemu-system-x86_64', machine: 'q35', accel: 'tcg' as const, kernelPath: '/k/vmlinuz', initrdPath: '/k/initrd.img', vmDir: '/run/migbench/vms/mbabc123-source', tap: 'mbtabc123', incoming: false };

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
