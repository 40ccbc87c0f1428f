// The targets a config can name: the embedded lab's, built in, and the config's own; what
// each is (the lab or real hosts, which hypervisor) and how large a guest the lab takes.
import { totalmem } from 'node:os';
import type { MigbenchConfig, Target as TargetConfig } from '../generated/config.js';
import { VENDOR_HYPERVISORS, type VendorHypervisor, type VendorKind } from '../hypervisors/registry.js';
import { InputFileError } from '../model/errors.js';

export const LAB_TARGET = 'lab';
/** The embedded lab's hosts, with a libvirtd each: the same guest migrated the way `virsh migrate` does it. */
export const LAB_LIBVIRT_TARGET = 'lab-libvirt';
/** Targets every config has: the embedded lab, driven by QEMU directly and through libvirt. */
export const BUILTIN_TARGETS: Readonly<Record<string, TargetConfig>> = {
  [LAB_TARGET]: { hypervisor: 'qemu', lab: true },
  [LAB_LIBVIRT_TARGET]: { hypervisor: 'libvirt', lab: true },
};

/** The embedded lab runs source and destination guests side by side on this machine: both must fit in this share of its RAM. */
export const LAB_MEMORY_SHARE = 0.8;

/** Every target name a config may use: the built-in ones, then its own. */
export function targetNames(config: MigbenchConfig): string[] {
  return [...new Set([...Object.keys(BUILTIN_TARGETS), ...Object.keys(config.targets ?? {})])];
}

/** The target of scenarios that name none. */
export function defaultTargetName(config: MigbenchConfig): string {
  return config.defaults?.target ?? LAB_TARGET;
}

export function resolveTargetConfig(config: MigbenchConfig, name: string): TargetConfig {
  const target = config.targets?.[name];
  const builtin = BUILTIN_TARGETS[name];
  if (builtin) return { ...builtin, ...target };
  if (!target) throw new InputFileError('MB_CONFIG_INVALID', '(config)', [{ path: `targets.${name}`, message: 'no such target' }]);
  return target;
}

/** Whether a target runs on the embedded lab's hosts. */
export function isLabTarget(config: MigbenchConfig, name: string): boolean {
  return Boolean(BUILTIN_TARGETS[name] || config.targets?.[name]?.lab);
}

/** Whether a target needs the lab's libvirtds. */
export function needsLabLibvirt(config: MigbenchConfig, name: string): boolean {
  return isLabTarget(config, name) && resolveTargetConfig(config, name).hypervisor === 'libvirt';
}

/** The registry's entry for a vendor hypervisor; undefined for qemu and libvirt (and no hypervisor). */
export function vendorHypervisor(hypervisor: string | undefined): VendorHypervisor | undefined {
  return hypervisor !== undefined && hypervisor in VENDOR_HYPERVISORS ? VENDOR_HYPERVISORS[hypervisor as VendorKind] : undefined;
}

/** This machine's RAM (MiB). */
export function machineMemoryMiB(): number {
  return Math.floor(totalmem() / (1024 * 1024));
}

/** The largest guest the embedded lab takes on a machine with this much RAM (MiB). */
export function labGuestMemoryLimitMiB(machineMiB: number = machineMemoryMiB()): number {
  return Math.floor((machineMiB * LAB_MEMORY_SHARE) / 2);
}
