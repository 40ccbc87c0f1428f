// The one table of what each hypervisor kind supports. qemu and libvirt run guests migbench
// starts itself, so they take every knob, workload and threshold and have no entry here;
// each vendor kind migrates a VM it already has, through its own API, and reports fewer
// figures. The config layer checks targets and scenarios against this table. It is data:
// it imports types from src/generated and src/model only, never config or a driver.
import type { Thresholds } from '../generated/config.js';

export interface VendorHypervisor {
  /** The product's name in messages. */
  readonly product: string;
  /** What its source and destination are. */
  readonly hosts: string;
  /** The settings its block in a target must have. */
  readonly required: string;
  /** Whose password the target logs in with; null: it logs in over SSH only. */
  readonly password: string | null;
  /** What migbench migrates through. */
  readonly api: string;
  /** Threshold metrics its driver leaves null (src/hypervisors/xen, vsphere, hyperv; docs/hypervisors.md, "Which hypervisors are validated how"). */
  readonly unreported: ReadonlyArray<keyof Thresholds>;
}

export type VendorKind = 'xenserver' | 'vsphere' | 'hyperv';

export const VENDOR_HYPERVISORS: Readonly<Record<VendorKind, VendorHypervisor>> = {
  xenserver: {
    product: 'XenServer',
    hosts: 'pool hosts',
    required: 'url, user, vm, sourceHost, destinationHost',
    password: 'XenAPI',
    api: 'XenAPI',
    unreported: ['downtimeMs', 'stopToResumeMs', 'setupTimeMs', 'transferredBytes', 'iterations', 'guestPauseMs'],
  },
  vsphere: {
    product: 'vSphere',
    hosts: 'ESXi hosts',
    required: 'url, user, vm, sourceHost, destinationHost',
    password: 'vCenter',
    api: 'vCenter',
    unreported: ['stopToResumeMs', 'setupTimeMs', 'transferredBytes', 'iterations', 'guestPauseMs'],
  },
  hyperv: {
    product: 'Hyper-V',
    hosts: 'Windows hosts',
    required: 'vm, sourceHost, destinationHost',
    password: null,
    api: 'Move-VM',
    unreported: ['stopToResumeMs', 'setupTimeMs', 'guestPauseMs'],
  },
};
