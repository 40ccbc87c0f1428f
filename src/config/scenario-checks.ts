// Checks of one scenario a schema cannot make: sizes that must fit together, and what its
// target can do (the lab's memory, link shaping, shared storage, a vendor's fewer knobs and figures).
import type { MigbenchConfig, Scenario as ScenarioConfig, Thresholds } from '../generated/config.js';
import type { VendorHypervisor } from '../hypervisors/registry.js';
import { DEFAULT_DISK_DATA_MIB, DEFAULT_DISK_MIB, GUEST_OVERHEAD_MIB, PATTERN_MIB } from '../model/hardware.js';
import { configSchema, noSuchTarget, type ConfigIssue } from './issues.js';
import { BUILTIN_TARGETS, defaultTargetName, isLabTarget, LAB_MEMORY_SHARE, labGuestMemoryLimitMiB, machineMemoryMiB, targetNames, vendorHypervisor } from './targets.js';

/** Turns a path inside the scenario into a path in the file. */
export type At = (...rest: Array<string | number>) => Array<string | number>;

export function scenarioIssues(config: MigbenchConfig, scenario: ScenarioConfig, at: At): ConfigIssue[] {
  const names = targetNames(config);
  const target = scenario.target ?? defaultTargetName(config);
  const unknownTarget = scenario.target !== undefined && !names.includes(scenario.target) ? [{ segments: at('target'), message: noSuchTarget(scenario.target, names) }] : [];
  return [...unknownTarget, ...sizeIssues(scenario, at), ...targetFitIssues(config, target, scenario, at), ...postcopyIssues(scenario, at)];
}

/** Memory, disk and caches that must hold what the scenario puts in them. */
function sizeIssues(scenario: ScenarioConfig, at: At): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const memory = scenario.workload?.memory;
  const needed = (memory?.workingSetMiB ?? 0) + PATTERN_MIB + GUEST_OVERHEAD_MIB;
  if (needed > scenario.guest.memoryMiB) {
    issues.push({
      segments: at('guest', 'memoryMiB'),
      message: `${scenario.guest.memoryMiB} MiB cannot hold the working set (${memory?.workingSetMiB ?? 0} MiB) plus the agent's pattern (${PATTERN_MIB} MiB) and the guest itself (${GUEST_OVERHEAD_MIB} MiB): needs at least ${needed} MiB`,
    });
  }
  const diskMiB = scenario.guest.diskMiB ?? DEFAULT_DISK_MIB;
  const diskDataMiB = scenario.guest.diskDataMiB ?? DEFAULT_DISK_DATA_MIB;
  if (scenario.migration.kind === 'storage' && diskMiB === 0) issues.push({ segments: at('guest', 'diskMiB'), message: 'storage migration needs a disk to copy' });
  if (diskDataMiB > diskMiB) issues.push({ segments: at('guest', 'diskDataMiB'), message: `${diskDataMiB} MiB of data does not fit a ${diskMiB} MiB disk` });
  const disk = scenario.workload?.disk;
  if (disk && disk.workingSetMiB > diskDataMiB) {
    issues.push({
      segments: at('workload', 'disk', 'workingSetMiB'),
      message: `the disk workload rewrites data the guest wrote at boot: ${disk.workingSetMiB} MiB exceeds guest.diskDataMiB (${diskDataMiB} MiB)`,
    });
  }
  const xbzrle = scenario.migration.xbzrleCacheMiB;
  if (xbzrle !== undefined && xbzrle > scenario.guest.memoryMiB) {
    issues.push({
      segments: at('migration', 'xbzrleCacheMiB'),
      message: `expected at most the guest's memory (${scenario.guest.memoryMiB} MiB; QEMU refuses a larger XBZRLE cache), found ${xbzrle} MiB`,
    });
  }
  return issues;
}

/** What the scenario asks of its target that the target cannot give. */
function targetFitIssues(config: MigbenchConfig, target: string, scenario: ScenarioConfig, at: At): ConfigIssue[] {
  const hypervisor = (config.targets?.[target] ?? BUILTIN_TARGETS[target])?.hypervisor;
  const issues = isLabTarget(config, target) ? labIssues(scenario, at) : realHostIssues(config, target, hypervisor, scenario, at);
  const vendor = vendorHypervisor(hypervisor);
  if (vendor) issues.push(...vendorIssues(vendor, target, scenario, at));
  return issues;
}

function labIssues(scenario: ScenarioConfig, at: At): ConfigIssue[] {
  const machineMiB = machineMemoryMiB();
  const limit = labGuestMemoryLimitMiB(machineMiB);
  if (scenario.guest.memoryMiB <= limit) return [];
  return [
    {
      segments: at('guest', 'memoryMiB'),
      message: `expected at most ${limit} MiB on the embedded lab, found ${scenario.guest.memoryMiB} MiB: its source and destination guests run side by side on this machine, and both must fit in ${LAB_MEMORY_SHARE * 100}% of its ${machineMiB} MiB of RAM`,
    },
  ];
}

function realHostIssues(config: MigbenchConfig, target: string, hypervisor: string | undefined, scenario: ScenarioConfig, at: At): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (scenario.link) {
    issues.push({ segments: at('link'), message: `link shaping changes the network it runs on, so migbench only does it in the embedded lab (target ${target} is not the lab)` });
  }
  // The disk of a VM migbench starts itself; a vendor target's VM has its own storage.
  if (
    (hypervisor === 'qemu' || hypervisor === 'libvirt') &&
    scenario.migration.kind === 'memory' &&
    (scenario.guest.diskMiB ?? DEFAULT_DISK_MIB) > 0 &&
    !config.targets?.[target]?.sharedStorageDir
  ) {
    issues.push({ segments: at('migration', 'kind'), message: `memory migration keeps the guest's disk on storage both hosts see: set targets.${target}.sharedStorageDir` });
  }
  return issues;
}

/** Hypervisor knobs migbench sets on QEMU (directly or through libvirt) only. */
const KNOBS = ['downtimeLimitMs', 'maxBandwidthMiBps', 'multifdChannels', 'autoConverge', 'xbzrleCacheMiB', 'postcopyAfterMs'] as const;

const THRESHOLD_KEYS = Object.keys(configSchema.definitions!.Thresholds!.properties!) as Array<keyof Thresholds>;

/**
 * A vendor target migrates a VM it already has, with the vendor's own defaults, and
 * reports fewer figures: knobs, a workload, or a threshold on a figure it never gives
 * would be silently ignored or could never hold.
 */
function vendorIssues(v: VendorHypervisor, target: string, scenario: ScenarioConfig, at: At): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const knob of KNOBS) {
    const value = scenario.migration[knob];
    if (value !== undefined) {
      issues.push({
        segments: at('migration', knob),
        message: `expected no ${knob} on target ${target}: migbench sets no migration knobs through ${v.api} (the ${v.product} defaults apply), found ${JSON.stringify(value)}`,
      });
    }
  }
  const parts = Object.entries(scenario.workload ?? {})
    .filter(([, part]) => part !== undefined)
    .map(([part]) => part);
  if (parts.length) {
    issues.push({
      segments: at('workload'),
      message: `expected no workload on target ${target}: its ${v.product} VM runs no migbench agent, found workload.${parts.join(', workload.')}`,
    });
  }
  const reported = THRESHOLD_KEYS.filter((m) => !v.unreported.includes(m));
  for (const metric of Object.keys(scenario.thresholds ?? {}) as Array<keyof Thresholds>) {
    if (v.unreported.includes(metric)) {
      issues.push({
        segments: at('thresholds', metric),
        message: `target ${target} (${v.product}) never reports ${metric}, so this threshold could never hold (thresholds it can meet: ${reported.join(', ')})`,
      });
    }
  }
  return issues;
}

function postcopyIssues(scenario: ScenarioConfig, at: At): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (scenario.migration.postcopyAfterMs === undefined) return issues;
  if (scenario.migration.kind === 'storage')
    issues.push({ segments: at('migration', 'postcopyAfterMs'), message: 'postcopy with storage migration is not supported by migbench yet' });
  if (scenario.migration.multifdChannels !== undefined) issues.push({ segments: at('migration', 'postcopyAfterMs'), message: 'QEMU cannot combine postcopy with multifd' });
  return issues;
}
