// The domain XML of a migbench guest: the same machine the QEMU driver starts by hand
// (kernel + initrd, virtio net on the host's bridge, the agent's virtio-serial port,
// a qcow2 disk on virtio-blk), described the way libvirt wants it. Paths that differ
// per host are left to libvirt (the agent socket) or live under libvirt's own folders,
// so the same XML is valid on both hosts of a migration.
import type { GuestLaunch } from '../hypervisor.js';
import { AGENT_PORT, kernelCommandLine, type Accel } from '../qemu/cmdline.js';
import type { DomainElement } from '../../model/tuning.js';

export interface DomainOptions {
  readonly accel: Accel;
  readonly machine: string;
  readonly emulator: string;
  readonly kernelPath: string;
  readonly initrdPath: string;
  readonly bridge: string;
  /** The host-side tap's name (libvirt creates it). */
  readonly tap: string;
  readonly diskPath?: string;
  /** The agent channel's socket: a path that is each host's own (never one both hosts see). */
  readonly agentSocketPath: string;
  /** Where the serial console is written (a folder that exists on both hosts). */
  readonly consolePath: string;
  /** The target's own domain-level elements (libvirt.domainXml, checked and rewritten by parseDomainFragment). */
  readonly extraElements?: readonly DomainElement[];
}

/** The libvirt name of a migbench guest. */
export function domainName(vmId: string): string {
  return `migbench-${vmId}`;
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', "'": '&apos;', '"': '&quot;' };

/** Escapes text for an XML attribute or element; the one place domain XML is quoted. */
export function xmlEscape(value: string): string {
  return value.replace(/[&<>'"]/g, (c) => XML_ESCAPES[c]!);
}

/**
 * migbench's own CPU and clock, then the target's elements: one of the same name replaces
 * migbench's (a <cpu> of the target's own), the others are added. libvirt does not mind
 * the order of a domain's top-level elements.
 */
function tunables(o: DomainOptions): string[] {
  const own: DomainElement[] = [
    ...(o.accel === 'kvm' ? [{ name: 'cpu', xml: `  <cpu mode='host-passthrough' migratable='on'/>` }] : []),
    { name: 'clock', xml: `  <clock offset='utc'/>` },
  ];
  const extra = o.extraElements ?? [];
  return [...own.filter((e) => !extra.some((x) => x.name === e.name)), ...extra].map((e) => e.xml);
}

export function domainXml(launch: GuestLaunch, o: DomainOptions): string {
  const e = xmlEscape;
  const memoryKiB = launch.guest.memoryMiB * 1024;
  const disk = o.diskPath
    ? [
        `    <disk type='file' device='disk'>`,
        // cache=none: libvirt refuses to live-migrate a disk with a host page cache as unsafe.
        `      <driver name='qemu' type='qcow2' cache='none' discard='unmap'/>`,
        `      <source file='${e(o.diskPath)}'/>`,
        `      <target dev='vda' bus='virtio'/>`,
        `    </disk>`,
      ]
    : [];
  return [
    `<domain type='${o.accel === 'kvm' ? 'kvm' : 'qemu'}'>`,
    `  <name>${e(domainName(launch.vmId))}</name>`,
    `  <memory unit='KiB'>${memoryKiB}</memory>`,
    `  <vcpu>${launch.guest.vcpus}</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64' machine='${e(o.machine)}'>hvm</type>`,
    `    <kernel>${e(o.kernelPath)}</kernel>`,
    `    <initrd>${e(o.initrdPath)}</initrd>`,
    `    <cmdline>${e(kernelCommandLine(launch))}</cmdline>`,
    `  </os>`,
    ...tunables(o),
    // A guest that dies must stay visibly dead, not come back as a fresh boot.
    `  <on_poweroff>destroy</on_poweroff>`,
    `  <on_reboot>destroy</on_reboot>`,
    `  <on_crash>preserve</on_crash>`,
    `  <devices>`,
    `    <emulator>${e(o.emulator)}</emulator>`,
    ...disk,
    `    <interface type='bridge'>`,
    `      <source bridge='${e(o.bridge)}'/>`,
    `      <target dev='${e(o.tap)}'/>`,
    `      <mac address='${e(launch.network.mac)}'/>`,
    `      <model type='virtio'/>`,
    `    </interface>`,
    `    <serial type='file'>`,
    `      <source path='${e(o.consolePath)}'/>`,
    `      <target port='0'/>`,
    `    </serial>`,
    `    <channel type='unix'>`,
    `      <source mode='bind' path='${e(o.agentSocketPath)}'/>`,
    `      <target type='virtio' name='${AGENT_PORT}'/>`,
    `    </channel>`,
    `    <controller type='usb' model='none'/>`,
    `    <memballoon model='none'/>`,
    `  </devices>`,
    `</domain>`,
    '',
  ].join('\n');
}
