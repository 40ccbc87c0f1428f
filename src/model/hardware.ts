// The guest: its size, and how it is reached on the network.

export interface GuestSpec {
  readonly memoryMiB: number;
  readonly vcpus: number;
  /** Virtual disk size (qcow2 on virtio-blk). */
  readonly diskMiB: number;
  /** Written by the agent at boot and verified after the migration. */
  readonly diskDataMiB: number;
}

export const DEFAULT_DISK_MIB = 256;
export const DEFAULT_DISK_DATA_MIB = 64;

export interface GuestNetworkSpec {
  /** IPv4 address with prefix length, configured by the guest's init. */
  readonly address: string;
  readonly mac: string;
}

/**
 * Memory the guest kernel, initramfs and agent need besides the workload (MiB). Measured:
 * a 128 MiB guest's agent was OOM-killed at 49.5 MB resident, so Debian's kernel and the
 * initramfs take about 78 MiB; 88 leaves room for the disk workload's buffers.
 */
export const GUEST_OVERHEAD_MIB = 88;
/** Static pattern the agent writes once and verifies after every migration (MiB). */
export const PATTERN_MIB = 16;

/** Locally administered unicast MAC from QEMU's 52:54:00 range, fixed per VM id. */
export function guestMac(vmId: string): string {
  let hash = 0x811c9dc5;
  for (const c of vmId) hash = Math.imul(hash ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const bytes = [hash >>> 16, hash >>> 8, hash].map((b) => (b & 0xff).toString(16).padStart(2, '0'));
  return `52:54:00:${bytes.join(':')}`;
}

export function addressOnly(cidr: string): string {
  return cidr.split('/')[0]!;
}
