// Which parts of a config a pull request may change. Everything that says where and how
// migbench executes (hosts, users, keys, known hosts, proxy commands, binaries, shells,
// API URLs, credential names, folders on the hosts) and how the gate decides (the compare
// section) is trusted: read from the base branch's config or a file on the runner. A pull
// request's config may change only the knobs: its scenarios, workloads, migration
// parameters, performance thresholds, matrices, defaults, and the allow-listed QEMU
// arguments and libvirt XML of a target the trusted config defines (src/model/tuning.ts).
// Anything else that differs is refused, naming the field and its line in the head's file.
import type { MigbenchConfig } from '../generated/config.js';
import { configTextError, validatedConfig, type ConfigText } from './load.js';
import type { ConfigIssue, Segments } from './issues.js';
import { BUILTIN_TARGETS } from './targets.js';
import { resolveScenarios } from './scenarios.js';

/** What a pull request may change: whole sections, and a few fields of a trusted target (`*`: any target). */
export const KNOB_PATHS: ReadonlyArray<readonly string[]> = [
  ['$schema'],
  ['schemaVersion'],
  ['defaults'],
  ['suites'],
  ['matrices'],
  ['targets', '*', 'qemu', 'extraArgs'],
  ['targets', '*', 'qemu', 'machine'],
  ['targets', '*', 'libvirt', 'domainXml'],
];

/** Whether a path is a knob or inside one. */
export function isKnob(segments: Segments): boolean {
  return KNOB_PATHS.some((knob) => knob.length <= segments.length && knob.every((k, i) => k === '*' || k === String(segments[i])));
}

/** Whether a path lies on the way to a knob (an object that holds knobs and trusted fields both). */
function holdsKnobs(segments: Segments): boolean {
  return KNOB_PATHS.some((knob) => knob.length > segments.length && segments.every((s, i) => knob[i] === '*' || knob[i] === String(s)));
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The trusted paths where head sets a value other than the trusted one, at the shallowest
 * point of difference. A trusted field head leaves out is no difference: it is filled in.
 */
function differences(trusted: unknown, head: unknown, at: Segments, out: Segments[]): void {
  if (isKnob(at) || head === undefined) return;
  if (isObject(head) && (isObject(trusted) || (trusted === undefined && holdsKnobs(at)))) {
    // A block the trusted side lacks is fine when head puts knobs only in it.
    for (const key of Object.keys(head)) {
      // Keys that reach an object's prototype are never data: refused where they stand.
      if (UNSAFE_KEYS.has(key)) out.push([...at, key]);
      else differences(isObject(trusted) ? trusted[key] : undefined, head[key], [...at, key], out);
    }
    return;
  }
  if (JSON.stringify(trusted) !== JSON.stringify(head)) out.push(at);
}

/** Head's knobs with every trusted field from the trusted side (head's own are equal, or were refused). */
function merged(trusted: unknown, head: unknown, at: Segments): unknown {
  if (isKnob(at)) return head;
  const objects = (isObject(trusted) || trusted === undefined) && (isObject(head) || head === undefined);
  if (objects && (isObject(trusted) || holdsKnobs(at)) && (isObject(head) || holdsKnobs(at))) {
    const t = (trusted ?? {}) as Record<string, unknown>;
    const h = (head ?? {}) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(t), ...Object.keys(h)])) {
      const value = merged(t[key], h[key], [...at, key]);
      if (value !== undefined) out[key] = value;
    }
    return Object.keys(out).length || trusted !== undefined ? out : undefined;
  }
  return trusted === undefined ? head : trusted;
}

/**
 * The config with the built-in lab targets it or `other` names spelled out, so a head that
 * tunes the lab (targets.lab.qemu.extraArgs) is compared with what the lab target is.
 */
function withBuiltins(config: MigbenchConfig, other: MigbenchConfig): Record<string, unknown> {
  const named = new Set([...Object.keys(config.targets ?? {}), ...Object.keys(other.targets ?? {})]);
  const targets = { ...config.targets };
  for (const [name, builtin] of Object.entries(BUILTIN_TARGETS)) if (named.has(name)) targets[name] = { ...builtin, ...config.targets?.[name] };
  return { ...config, ...(named.size && { targets }) };
}

export interface TrustedSource {
  readonly config: MigbenchConfig;
  /** In messages: "the base branch's migbench.yaml" or the runner file's path. */
  readonly description: string;
}

/**
 * The config to measure the head with: its knobs, and every trusted field from the trusted
 * source (a field it leaves out is filled in), validated as a whole. A trusted field it sets
 * to anything else is an error naming each such field at its line in the head's file.
 */
export function headConfig(trusted: TrustedSource, head: ConfigText, headFile: string): MigbenchConfig {
  if (!isObject(head.data)) return validatedConfig(head, headFile);
  const data = head.data as unknown as MigbenchConfig;
  const changed: Segments[] = [];
  const [t, h] = [withBuiltins(trusted.config, data), withBuiltins(data, trusted.config)];
  for (const key of Object.keys(h)) differences(t[key], h[key], [key], changed);
  if (!changed.length) return validatedConfig({ ...head, data: merged(trusted.config, data, []) }, headFile);
  const issues: ConfigIssue[] = changed.map((segments) => ({
    segments,
    message: `a pull request may not change this: where and how migbench runs, and how the gate judges, come from ${trusted.description} (a pull request may change scenarios, workloads, migration settings, thresholds, matrices, defaults, and a target's qemu.extraArgs, qemu.machine and libvirt.domainXml)`,
  }));
  throw configTextError(headFile, head, issues);
}

/** What decides how a scenario is measured, rather than what it migrates. */
const MEASUREMENT_FIELDS = ['probe', 'samplesPerBoot', 'fresh'] as const;

/**
 * A pull request may change what a scenario migrates, not how migbench measures it: a
 * scenario both configs have keeps the base's probe settings, samplesPerBoot and fresh, or
 * the head would be judged with another yardstick (a kept guest's observed downtime is a
 * third lower than a freshly booted one's, so turning reuse on would hide a regression of it).
 * Each such field is named at its line in the head's file (the scenario's, or defaults.probe).
 */
export function assertSameMeasurement(base: MigbenchConfig, head: MigbenchConfig, headText: ConfigText, headFile: string): void {
  const issues: ConfigIssue[] = [];
  for (const suite of Object.keys(head.suites ?? {})) {
    if (!base.suites?.[suite]) continue;
    const baseScenarios = new Map(resolveScenarios(base, suite).map((s) => [s.name, s]));
    for (const [index, scenario] of resolveScenarios(head, suite).entries()) {
      const before = baseScenarios.get(scenario.name);
      if (!before) continue;
      for (const field of MEASUREMENT_FIELDS) {
        if (JSON.stringify(before[field]) === JSON.stringify(scenario[field])) continue;
        const own = (head.suites![suite]!.scenarios[index] as unknown as Record<string, unknown>)[field] !== undefined;
        issues.push({
          segments: own || field !== 'probe' ? ['suites', suite, 'scenarios', index, ...(own ? [field] : [])] : ['defaults', 'probe'],
          message: `a pull request may not change how scenario ${scenario.name} is measured (${field}: ${JSON.stringify(scenario[field])}, the base has ${JSON.stringify(before[field])}): base and head are measured alike`,
        });
      }
    }
  }
  if (issues.length) throw configTextError(headFile, headText, issues);
}
