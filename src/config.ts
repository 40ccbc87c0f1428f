// Loads a config file (YAML or JSON), validates it against schemas/config.schema.json
// and resolves scenarios and targets with their defaults. Every problem is reported
// with the file, the JSON path, the line, what was expected and what was found.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { InputFileError, type InputIssue } from './errors.js';
import { expandMatrix, type MatrixPoint } from './comparison.js';
import type { MigbenchConfig, Scenario as ScenarioConfig, Target as TargetConfig } from './generated/config.js';
import { DEFAULT_DISK_DATA_MIB, DEFAULT_DISK_MIB, GUEST_OVERHEAD_MIB, PATTERN_MIB } from './hardware.js';
import { DEFAULT_PROBE, type Scenario, type WorkloadSpec } from './scenario.js';
import { displayPath, schemaIssues, validateConfigSchema, validateScenarioSchema } from './schema.js';

export const LAB_TARGET = 'lab';
/** The embedded lab's hosts, with a libvirtd each: the same guest migrated the way `virsh migrate` does it. */
export const LAB_LIBVIRT_TARGET = 'lab-libvirt';
/** Targets every config has: the embedded lab, driven by QEMU directly and through libvirt. */
export const BUILTIN_TARGETS: Readonly<Record<string, TargetConfig>> = {
  [LAB_TARGET]: { hypervisor: 'qemu', lab: true },
  [LAB_LIBVIRT_TARGET]: { hypervisor: 'libvirt', lab: true },
};
export const DEFAULT_MIGRATION_TIMEOUT_MS = 120_000;
export const DEFAULT_BOOT_TIMEOUT_MS = 90_000;

export interface LoadedConfig {
  readonly path: string;
  readonly sha256: string;
  readonly config: MigbenchConfig;
}

export async function loadConfig(path: string): Promise<LoadedConfig> {
  const absolute = isAbsolute(path) ? path : resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new InputFileError('MB_CONFIG_READ', path, [{ path: '', message: `cannot read config: ${reason}` }], error);
  }
  return { path, sha256: createHash('sha256').update(text).digest('hex'), config: parseConfig(text, path) };
}

/** Parses and validates config text; `file` is only used in messages. */
export function parseConfig(text: string, file: string): MigbenchConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    throw new InputFileError(
      'MB_CONFIG_INVALID',
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: `(line ${pos.line}, column ${pos.col})`, message: e.message.split('\n')[0]! };
      }),
    );
  }
  const data: unknown = doc.toJS();
  const locate = (segments: ReadonlyArray<string | number>): string => {
    // The deepest node that exists: a missing key is reported at its parent.
    for (let n = segments.length; n >= 0; n--) {
      const node = doc.getIn(segments.slice(0, n), true);
      if (isNode(node) && node.range) return `line ${lineCounter.linePos(node.range[0]).line}`;
    }
    return '';
  };
  if (!validateConfigSchema(data)) {
    throw new InputFileError('MB_CONFIG_INVALID', file, schemaIssues(validateConfigSchema.errors, data, locate));
  }
  const config = data as MigbenchConfig;
  const issues = semanticIssues(config).map((i) => {
    const where = locate(i.segments);
    return { path: where ? `${displayPath(i.segments)} (${where})` : displayPath(i.segments), message: i.message };
  });
  if (issues.length) throw new InputFileError('MB_CONFIG_INVALID', file, issues);
  return config;
}

interface SemanticIssue {
  readonly segments: ReadonlyArray<string | number>;
  readonly message: string;
}

function targetNames(config: MigbenchConfig): string[] {
  return [...new Set([...Object.keys(BUILTIN_TARGETS), ...Object.keys(config.targets ?? {})])];
}

/** What a schema cannot say: references between parts, sizes that must fit together. */
function semanticIssues(config: MigbenchConfig): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const names = targetNames(config);
  const defaultTarget = config.defaults?.target ?? LAB_TARGET;
  if (!names.includes(defaultTarget)) {
    issues.push({ segments: ['defaults', 'target'], message: `no target named "${defaultTarget}" (known: ${names.join(', ')})` });
  }
  for (const [name, target] of Object.entries(config.targets ?? {})) {
    issues.push(...targetIssues(name, target));
  }
  for (const [suite, { scenarios, targets }] of Object.entries(config.suites)) {
    const seen = new Set<string>();
    (targets ?? []).forEach((t, index) => {
      if (!names.includes(t)) issues.push({ segments: ['suites', suite, 'targets', index], message: `no target named "${t}" (known: ${names.join(', ')})` });
    });
    scenarios.forEach((scenario, index) => {
      const at = (...rest: Array<string | number>) => ['suites', suite, 'scenarios', index, ...rest];
      if (seen.has(scenario.name)) issues.push({ segments: at('name'), message: `duplicate scenario name "${scenario.name}" in suite ${suite}` });
      seen.add(scenario.name);
      // A scenario run on several targets must suit each of them.
      const on = scenario.target === undefined && targets ? targets.filter((t) => names.includes(t)) : [undefined];
      for (const t of on) issues.push(...scenarioIssues(config, t === undefined ? scenario : { ...scenario, target: t }, at));
    });
  }
  for (const [name, matrix] of Object.entries(config.matrices ?? {})) {
    const at = (...rest: Array<string | number>) => ['matrices', name, ...rest];
    if (config.suites[name]) issues.push({ segments: at(), message: `a suite is called ${name} too; results would mix` });
    const { points, issues: matrixIssues } = expandMatrix(matrix);
    issues.push(...matrixIssues.map((i) => ({ segments: at(...i.segments), message: i.message })));
    for (const point of points) {
      // Expanded scenarios are checked like written ones; problems point at the matrix.
      const label = `scenario ${point.scenario.name}`;
      if (!validateScenarioSchema(point.scenario)) {
        for (const issue of schemaIssues(validateScenarioSchema.errors, point.scenario)) {
          issues.push({ segments: at(), message: `${label}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}` });
        }
        continue;
      }
      for (const issue of scenarioIssues(config, point.scenario, (...rest) => rest)) {
        issues.push({ segments: at(), message: `${label}: ${displayPath(issue.segments) ? `${displayPath(issue.segments)}: ` : ''}${issue.message}` });
      }
    }
  }
  return issues;
}

/** Checks of one scenario; `at` turns a path inside the scenario into a path in the file. */
function scenarioIssues(config: MigbenchConfig, scenario: ScenarioConfig, at: (...rest: Array<string | number>) => Array<string | number>): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const names = targetNames(config);
  const target = scenario.target ?? config.defaults?.target ?? LAB_TARGET;
  if (scenario.target !== undefined && !names.includes(scenario.target)) {
    issues.push({ segments: at('target'), message: `no target named "${scenario.target}" (known: ${names.join(', ')})` });
  }
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
    issues.push({ segments: at('workload', 'disk', 'workingSetMiB'), message: `the disk workload rewrites data the guest wrote at boot: ${disk.workingSetMiB} MiB exceeds guest.diskDataMiB (${diskDataMiB} MiB)` });
  }
  const isLab = isLabTarget(config, target);
  const labMemoryMiB = Math.floor(totalmem() / (1024 * 1024));
  // The lab runs source and destination guests side by side on this machine.
  if (isLab && scenario.guest.memoryMiB * 2 > labMemoryMiB * 0.8) {
    issues.push({
      segments: at('guest', 'memoryMiB'),
      message: `${scenario.guest.memoryMiB} MiB is too large for the embedded lab on this machine (two guests must fit in 80% of ${labMemoryMiB} MiB)`,
    });
  }
  if (scenario.link && !isLab) {
    issues.push({ segments: at('link'), message: `link shaping changes the network it runs on, so migbench only does it in the embedded lab (target ${target} is not the lab)` });
  }
  if (!isLab && scenario.migration.kind === 'memory' && (scenario.guest.diskMiB ?? DEFAULT_DISK_MIB) > 0 && !config.targets?.[target]?.sharedStorageDir) {
    issues.push({ segments: at('migration', 'kind'), message: `memory migration keeps the guest's disk on storage both hosts see: set targets.${target}.sharedStorageDir` });
  }
  const postcopyAfterMs = scenario.migration.postcopyAfterMs;
  if (postcopyAfterMs !== undefined && scenario.migration.kind === 'storage') {
    issues.push({ segments: at('migration', 'postcopyAfterMs'), message: 'postcopy with storage migration is not supported by migbench yet' });
  }
  if (postcopyAfterMs !== undefined && scenario.migration.multifdChannels !== undefined) {
    issues.push({ segments: at('migration', 'postcopyAfterMs'), message: 'QEMU cannot combine postcopy with multifd' });
  }
  return issues;
}

const VENDOR_TARGETS = {
  xenserver: { product: 'XenServer', hosts: 'pool hosts', required: 'url, user, vm, sourceHost, destinationHost', password: 'XenAPI' },
  vsphere: { product: 'vSphere', hosts: 'ESXi hosts', required: 'url, user, vm, sourceHost, destinationHost', password: 'vCenter' },
  hyperv: { product: 'Hyper-V', hosts: 'Windows hosts', required: 'vm, sourceHost, destinationHost', password: null },
} as const;

function targetIssues(name: string, target: TargetConfig): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const at = (...rest: string[]) => ['targets', name, ...rest];
  // The vendor drivers reach hosts migbench does not build, each through its own settings block.
  for (const [kind, v] of Object.entries(VENDOR_TARGETS) as Array<[keyof typeof VENDOR_TARGETS, (typeof VENDOR_TARGETS)[keyof typeof VENDOR_TARGETS]]>) {
    const settings = target[kind] as { passwordEnv?: string; passwordFile?: string } | undefined;
    if (target.hypervisor !== kind) {
      if (settings) issues.push({ segments: at(kind), message: `${kind} settings belong to a ${kind} target, not ${target.hypervisor}` });
      continue;
    }
    if (target.lab) issues.push({ segments: at('lab'), message: `${v.product} does not run in the embedded lab; give the ${v.hosts} instead` });
    if (!settings) issues.push({ segments: at(), message: `a ${kind} target needs its ${kind} settings (${v.required})` });
    else if (v.password && !settings.passwordEnv && !settings.passwordFile) issues.push({ segments: at(kind), message: `give the ${v.password} password as passwordEnv or passwordFile (never in the config itself)` });
  }
  if (BUILTIN_TARGETS[name] || target.lab) {
    for (const key of ['source', 'destination', 'observer', 'guestNetwork'] as const) {
      if (target[key] !== undefined) issues.push({ segments: at(key), message: `the embedded lab provides ${key}; remove it or set lab: false` });
    }
    return issues;
  }
  for (const key of ['source', 'destination', 'guestNetwork'] as const) {
    if (target[key] === undefined) issues.push({ segments: at(key), message: `a target on real hosts needs ${key}` });
  }
  for (const side of ['source', 'destination'] as const) {
    const host = target[side];
    if (host && !host.hostKeyFingerprints?.length && !host.knownHostsFile) {
      issues.push({ segments: at(side), message: 'pin the host key: set hostKeyFingerprints or knownHostsFile (unknown host keys are refused)' });
    }
    if (host?.workDir?.includes(',')) issues.push({ segments: at(side, 'workDir'), message: 'must not contain a comma (QEMU option syntax)' });
  }
  return issues;
}

function resolveWorkload(raw: ScenarioConfig['workload']): WorkloadSpec {
  return {
    memory: raw?.memory ? { workingSetMiB: raw.memory.workingSetMiB, dirtyRateMBps: raw.memory.dirtyRateMBps, pattern: raw.memory.pattern ?? 'sequential' } : null,
    disk: raw?.disk ? { workingSetMiB: raw.disk.workingSetMiB, writeRateMBps: raw.disk.writeRateMBps } : null,
    cpu: raw?.cpu ? { threads: raw.cpu.threads } : null,
  };
}

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
  const defaultTarget = config.defaults?.target ?? LAB_TARGET;
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
  return {
    suite,
    name: raw.name,
    description: raw.description,
    target: raw.target ?? defaults.target ?? LAB_TARGET,
    guest: {
      memoryMiB: raw.guest.memoryMiB,
      vcpus: raw.guest.vcpus ?? 1,
      diskMiB: raw.guest.diskMiB ?? DEFAULT_DISK_MIB,
      diskDataMiB: raw.guest.diskDataMiB ?? DEFAULT_DISK_DATA_MIB,
    },
    workload: resolveWorkload(raw.workload),
    migration: {
      kind: raw.migration.kind,
      timeoutMs: raw.migration.timeoutMs ?? defaults.migrationTimeoutMs ?? DEFAULT_MIGRATION_TIMEOUT_MS,
      ...(raw.migration.downtimeLimitMs !== undefined && { downtimeLimitMs: raw.migration.downtimeLimitMs }),
      ...(raw.migration.maxBandwidthMiBps !== undefined && { maxBandwidthMiBps: raw.migration.maxBandwidthMiBps }),
      ...(raw.migration.multifdChannels !== undefined && { multifdChannels: raw.migration.multifdChannels }),
      ...(raw.migration.autoConverge !== undefined && { autoConverge: raw.migration.autoConverge }),
      ...(raw.migration.xbzrleCacheMiB !== undefined && { xbzrleCacheMiB: raw.migration.xbzrleCacheMiB }),
      ...(raw.migration.postcopyAfterMs !== undefined && { postcopyAfterMs: raw.migration.postcopyAfterMs }),
    },
    link: raw.link && (raw.link.bandwidthMbps !== undefined || raw.link.delayMs !== undefined) ? { ...raw.link } : null,
    probe: { ...DEFAULT_PROBE, ...defaults.probe, ...raw.probe },
    thresholds: raw.thresholds ?? {},
    repeat: raw.repeat ?? 1,
    bootTimeoutMs: defaults.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS,
  };
}

export function resolveTargetConfig(config: MigbenchConfig, name: string): TargetConfig {
  const target = config.targets?.[name];
  const builtin = BUILTIN_TARGETS[name];
  if (builtin) return { ...builtin, ...target };
  if (!target) throw new InputFileError('MB_CONFIG_INVALID', '(config)', [{ path: `targets.${name}`, message: 'no such target' }]);
  return target;
}

export type { InputIssue };

/** Change thresholds for `migbench compare`: scenario, then metric, then default, else migbench's own. */
export function compareThresholds(config: MigbenchConfig): (scenario: string, metric: string) => { warnPct: number; failPct: number } | undefined {
  const c = config.compare;
  return (scenario, metric) => {
    const pick = (t: Record<string, { warnPct: number; failPct: number } | undefined> | undefined) => t?.[metric];
    return pick(c?.scenarios?.[scenario] as never) ?? pick(c?.metrics as never) ?? c?.default;
  };
}

/** Whether a target runs on the embedded lab's hosts. */
export function isLabTarget(config: MigbenchConfig, name: string): boolean {
  return Boolean(BUILTIN_TARGETS[name] || config.targets?.[name]?.lab);
}

/** Whether a target needs the lab's libvirtds. */
export function needsLabLibvirt(config: MigbenchConfig, name: string): boolean {
  return isLabTarget(config, name) && resolveTargetConfig(config, name).hypervisor === 'libvirt';
}
