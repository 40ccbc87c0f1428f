// The scenarios a config's suites and matrices stand for, with every default applied.
import type { MigbenchConfig, Scenario as ScenarioConfig } from '../generated/config.js';
import { DEFAULT_DISK_DATA_MIB, DEFAULT_DISK_MIB } from '../model/hardware.js';
import { DEFAULT_PROBE, DEFAULT_SAMPLES_PER_BOOT, type MigrationSpec, type Scenario, type WorkloadSpec } from '../model/scenario.js';
import { expandMatrix, type MatrixPoint } from './matrix.js';
import { BUILTIN_TARGETS, defaultTargetName, resolveTargetConfig } from './targets.js';
import { shortHash } from '../model/fingerprint.js';

export const DEFAULT_MIGRATION_TIMEOUT_MS = 120_000;
export const DEFAULT_BOOT_TIMEOUT_MS = 90_000;

export function suiteNames(config: MigbenchConfig): string[] {
  return Object.keys(config.suites);
}

export function matrixNames(config: MigbenchConfig): string[] {
  return Object.keys(config.matrices ?? {});
}

/**
 * The suite's scenarios with every default applied; a suite with `targets` runs each
 * scenario that names no target on every one of them (NAME@TARGET off the default target).
 */
export function resolveScenarios(config: MigbenchConfig, suite: string): Scenario[] {
  const entry = config.suites[suite];
  const defaultTarget = defaultTargetName(config);
  return (entry?.scenarios ?? []).flatMap((raw) =>
    raw.target === undefined && entry?.targets
      ? entry.targets.map((target) => resolveScenario(config, suite, { ...raw, target, name: targetScenarioName(raw.name, target, defaultTarget) }))
      : [resolveScenario(config, suite, raw)],
  );
}

/** A scenario's name on a target: its own on the default target, NAME@TARGET elsewhere. */
export function targetScenarioName(name: string, target: string, defaultTarget: string): string {
  return target === defaultTarget ? name : `${name}@${target}`;
}

export interface MatrixScenario extends MatrixPoint {
  readonly resolved: Scenario;
}

/** A matrix's scenarios (its name is their suite), with the axis values each stands for. */
export function resolveMatrix(config: MigbenchConfig, name: string): MatrixScenario[] {
  const matrix = config.matrices?.[name];
  if (!matrix) return [];
  return expandMatrix(matrix).points.map((point) => ({ ...point, resolved: resolveScenario(config, name, { ...point.scenario, repeat: point.scenario.repeat ?? matrix.repeat }) }));
}

function resolveScenario(config: MigbenchConfig, suite: string, raw: ScenarioConfig): Scenario {
  const defaults = config.defaults ?? {};
  const scenario: Omit<Scenario, 'fingerprint'> = {
    suite,
    name: raw.name,
    description: raw.description,
    target: raw.target ?? defaultTargetName(config),
    guest: {
      memoryMiB: raw.guest.memoryMiB,
      vcpus: raw.guest.vcpus ?? 1,
      diskMiB: raw.guest.diskMiB ?? DEFAULT_DISK_MIB,
      diskDataMiB: raw.guest.diskDataMiB ?? DEFAULT_DISK_DATA_MIB,
    },
    workload: resolveWorkload(raw.workload),
    migration: resolveMigration(raw.migration, defaults.migrationTimeoutMs),
    link: raw.link && (raw.link.bandwidthMbps !== undefined || raw.link.delayMs !== undefined) ? { ...raw.link } : null,
    probe: { ...DEFAULT_PROBE, ...defaults.probe, ...raw.probe },
    thresholds: raw.thresholds ?? {},
    repeat: raw.repeat ?? 1,
    fresh: raw.fresh ?? false,
    samplesPerBoot: raw.samplesPerBoot ?? DEFAULT_SAMPLES_PER_BOOT,
    bootTimeoutMs: defaults.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS,
  };
  return { ...scenario, fingerprint: scenarioFingerprint(config, scenario) };
}

/**
 * What a scenario's measurements depend on, as a key (stored baselines are looked up by
 * it): the guest, its workload, the migration's knobs, the link, the probe, and the target's
 * name, hypervisor and knobs (QEMU arguments, machine, domain XML), and whether every sample
 * boots a fresh guest. Not its name, thresholds,
 * repeat, description or timeouts, which judge or bound a migration without changing it; not
 * the hosts' addresses or credentials, whose software the environment fingerprint keys.
 */
export function scenarioFingerprint(config: MigbenchConfig, scenario: Omit<Scenario, 'fingerprint'>): string {
  const target = BUILTIN_TARGETS[scenario.target] || config.targets?.[scenario.target] ? resolveTargetConfig(config, scenario.target) : undefined;
  const { timeoutMs: _timeout, ...migration } = scenario.migration;
  return shortHash('scenario', {
    target: {
      name: scenario.target,
      hypervisor: target?.hypervisor,
      qemu: { extraArgs: target?.qemu?.extraArgs, machine: target?.qemu?.machine, ...(target?.qemu?.cpus && { cpus: target.qemu.cpus }) },
      domainXml: target?.libvirt?.domainXml,
    },
    guest: scenario.guest,
    workload: scenario.workload,
    migration,
    link: scenario.link,
    probe: scenario.probe,
    // Only when set, so the keys of scenarios that never said it stay as they were.
    ...(scenario.fresh && { fresh: true }),
    ...(scenario.samplesPerBoot !== DEFAULT_SAMPLES_PER_BOOT && { samplesPerBoot: scenario.samplesPerBoot }),
  });
}

/** The knobs a scenario sets, and only those: unset ones keep the hypervisor's defaults. */
function resolveMigration(raw: ScenarioConfig['migration'], defaultTimeoutMs: number | undefined): MigrationSpec {
  return {
    kind: raw.kind,
    timeoutMs: raw.timeoutMs ?? defaultTimeoutMs ?? DEFAULT_MIGRATION_TIMEOUT_MS,
    ...(raw.downtimeLimitMs !== undefined && { downtimeLimitMs: raw.downtimeLimitMs }),
    ...(raw.maxBandwidthMiBps !== undefined && { maxBandwidthMiBps: raw.maxBandwidthMiBps }),
    ...(raw.multifdChannels !== undefined && { multifdChannels: raw.multifdChannels }),
    ...(raw.autoConverge !== undefined && { autoConverge: raw.autoConverge }),
    ...(raw.xbzrleCacheMiB !== undefined && { xbzrleCacheMiB: raw.xbzrleCacheMiB }),
    ...(raw.postcopyAfterMs !== undefined && { postcopyAfterMs: raw.postcopyAfterMs }),
  };
}

function resolveWorkload(raw: ScenarioConfig['workload']): WorkloadSpec {
  return {
    memory: raw?.memory ? { workingSetMiB: raw.memory.workingSetMiB, dirtyRateMBps: raw.memory.dirtyRateMBps, pattern: raw.memory.pattern ?? 'sequential' } : null,
    disk: raw?.disk ? { workingSetMiB: raw.disk.workingSetMiB, writeRateMBps: raw.disk.writeRateMBps } : null,
    cpu: raw?.cpu ? { threads: raw.cpu.threads } : null,
  };
}
