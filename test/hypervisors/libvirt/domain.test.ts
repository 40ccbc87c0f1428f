import { describe, expect, test } from 'vitest';
import { domainXml, xmlEscape } from '../../../src/hypervisors/libvirt/domain.js';
import type { GuestLaunch } from '../../../src/hypervisors/hypervisor.js';
import { parseDomainFragment } from '../../../src/model/tuning.js';

const launch: GuestLaunch = {
  vmId: 'mb0a1b2c',
  guest: { memoryMiB: 256, vcpus: 2, diskMiB: 256, diskDataMiB: 64 },
  network: { address: '10.77.0.100/24', mac: '52:54:00:12:34:56' },
  agent: { hb_ms: '1' },
  storage: 'local',
};
const options = {
  accel: 'tcg' as const,
  machine: 'q35',
  emulator: '/usr/bin/qemu-system-x86_64',
  kernelPath: '/k',
  initrdPath: '/i',
  bridge: 'br0',
  tap: 'mbt0a1b2c',
  consolePath: '/var/log/libvirt/qemu/migbench-mb0a1b2c.console.log',
  agentSocketPath: '/var/lib/libvirt/qemu/migbench-channels/migbench-mb0a1b2c.agent',
};

describe(domainXml, () => {
  test('the QEMU driver machine: kernel and agent parameters, virtio net on the bridge, the agent port, a qcow2 disk', () => {
    const xml = domainXml(launch, { ...options, diskPath: '/var/lib/libvirt/images/migbench/mb0a1b2c.qcow2' });
    expect(xml).toContain("<domain type='qemu'>");
    expect(xml).toContain('<name>migbench-mb0a1b2c</name>');
    expect(xml).toContain("<memory unit='KiB'>262144</memory>");
    expect(xml).toContain('<vcpu>2</vcpu>');
    expect(xml).toMatch(/<cmdline>console=ttyS0 .*migbench\.ip=10\.77\.0\.100\/24 migbench\.hb_ms=1<\/cmdline>/);
    expect(xml).toContain("<source bridge='br0'/>");
    expect(xml).toContain("<mac address='52:54:00:12:34:56'/>");
    expect(xml).toContain("<source mode='bind' path='/var/lib/libvirt/qemu/migbench-channels/migbench-mb0a1b2c.agent'/>");
    expect(xml).toContain("<target type='virtio' name='org.migbench.agent'/>");
    expect(xml).toContain("<driver name='qemu' type='qcow2' cache='none' discard='unmap'/>");
    expect(xml).toContain('<on_reboot>destroy</on_reboot>');
    expect(xml).not.toContain('host-passthrough');
  });

  test('KVM: domain type kvm and the host CPU; no disk element without a disk', () => {
    const xml = domainXml({ ...launch, guest: { ...launch.guest, diskMiB: 0 } }, { ...options, accel: 'kvm' });
    expect(xml).toContain("<domain type='kvm'>");
    expect(xml).toContain("<cpu mode='host-passthrough' migratable='on'/>");
    expect(xml).not.toContain('<disk');
  });

  test("the target's own elements: one of migbench's names replaces migbench's, the others are added", () => {
    const extraElements = parseDomainFragment(`<cpu mode="custom"><model>qemu64</model></cpu><memoryBacking><nosharepages/></memoryBacking>`);
    const xml = domainXml(launch, { ...options, accel: 'kvm', extraElements });
    expect(xml).not.toContain('host-passthrough');
    expect(xml).toContain("  <cpu mode='custom'>\n    <model>qemu64</model>\n  </cpu>");
    expect(xml).toContain('  <memoryBacking>\n    <nosharepages/>\n  </memoryBacking>');
    expect(xml).toContain("<clock offset='utc'/>");
    expect(xml.match(/<cpu/g)).toHaveLength(1);
  });

  test('every value is escaped in one place', () => {
    expect(xmlEscape(`a&b<c>'d"`)).toBe('a&amp;b&lt;c&gt;&apos;d&quot;');
    expect(domainXml(launch, { ...options, bridge: "br'0" })).toContain("<source bridge='br&apos;0'/>");
  });
});
