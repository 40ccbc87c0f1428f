// Loads a config file (YAML or JSON), validates it against schemas/config.schema.json
// and resolves scenarios and targets with their defaults. Every problem is reported
// with the file, the JSON path, the line, what was expected and what was found.
import { createHash } from 'node:crypto';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { LineCounter, parseDocument, isCollection, isNode, isSeq, visit, type Document } from 'yaml';
import { InputFileError, type InputIssue } from './errors.js';
import { autoLabel, expandMatrix, type MatrixPoint } from './comparison.js';
import type { Matrix, MigbenchConfig, Scenario as ScenarioConfig, Target as TargetConfig, Thresholds } from './generated/config.js';
import { DEFAULT_DISK_DATA_MIB, DEFAULT_DISK_MIB, GUEST_OVERHEAD_MIB, PATTERN_MIB } from './hardware.js';
import { METRICS } from './metrics.js';
import { DEFAULT_PROBE, type Scenario, type WorkloadSpec } from './scenario.js';
import { displayPath, pointerSegments, schemaIssues, validateConfigSchema, validateScenarioSchema } from './schema.js';

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
    const code = (error as NodeJS.ErrnoException).code;
    const found = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : code === 'EACCES' ? 'a file this user may not read (EACCES)' : (error as Error).message;
    // The errno says it all; any other failure keeps its cause.
    throw new InputFileError('MB_CONFIG_READ', path, [{ path: '', message: `cannot read config: expected a YAML or JSON file, found ${found}` }], code ? undefined : error);
  }
  return { path, sha256: createHash('sha256').update(text).digest('hex'), config: parseConfig(text, path) };
}

type Segments = ReadonlyArray<string | number>;
type Locate = (segments: Segments) => string;

/** Where each parsed config's parts are in its file, for checks made after parsing (credentials). */
const positions = new WeakMap<MigbenchConfig, Locate>();

function located(segments: Segments, message: string, locate: Locate): InputIssue {
  const display = displayPath(segments) || '(root)';
  const where = locate(segments);
  return { path: where ? `${display} (${where})` : display, message };
}

/** Parses and validates config text; `file` is only used in messages. */
export function parseConfig(text: string, file: string): MigbenchConfig {
  const lineCounter = new LineCounter();
  // logLevel error: what yaml would warn about on stderr is reported here as a problem instead.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
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
  const complexKeys: InputIssue[] = [];
  visit(doc, {
    Pair(_, pair) {
      if (isCollection(pair.key) && complexKeys.length < 10) {
        const pos = pair.key.range ? lineCounter.linePos(pair.key.range[0]) : undefined;
        complexKeys.push({ path: pos ? `(line ${pos.line}, column ${pos.col})` : '', message: `expected a plain key (a name), found a ${isSeq(pair.key) ? 'list' : 'map'} used as a key` });
      }
    },
  });
  if (complexKeys.length) throw new InputFileError('MB_CONFIG_INVALID', file, complexKeys);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new InputFileError('MB_CONFIG_INVALID', file, [aliasIssue(doc, lineCounter, error)]);
  }
  const locate: Locate = (segments) => {
    // The deepest node that exists: a missing key is reported at its parent.
    for (let n = segments.length; n >= 0; n--) {
      const node = doc.getIn(segments.slice(0, n), true);
      if (isNode(node) && node.range) return `line ${lineCounter.linePos(node.range[0]).line}`;
    }
    return '';
  };
  if (data === null || data === undefined) {
    throw new InputFileError('MB_CONFIG_INVALID', file, [{ path: '(root)', message: `expected a config (a map with at least "suites"), found ${doc.contents === null ? 'an empty file' : 'null'}` }]);
  }
  // YAML can say more than JSON: tags (!!binary, !!set, !!timestamp), .inf, aliases that contain themselves.
  const notJson = nonJsonValues(data);
  if (notJson.length) throw new InputFileError('MB_CONFIG_INVALID', file, notJson.map((i) => located(i.segments, i.message, locate)));
  if (!validateConfigSchema(data)) {
    throw new InputFileError('MB_CONFIG_INVALID', file, schemaProblems(validateConfigSchema.errors, data, configSchema).map((i) => located(i.segments, i.message, locate)));
  }
  const config = data as MigbenchConfig;
  const issues = semanticIssues(config).map((i) => located(i.segments, i.message, locate));
  if (issues.length) throw new InputFileError('MB_CONFIG_INVALID', file, issues);
  positions.set(config, locate);
  return config;
}

interface SemanticIssue {
  readonly segments: Segments;
  readonly message: string;
}

/** toJS failed: an alias without its anchor, or so many aliases that expanding them is an attack. */
function aliasIssue(doc: Document, lineCounter: LineCounter, error: unknown): InputIssue {
  let where = '';
  let unresolved: string | undefined;
  visit(doc, {
    Alias(_, node) {
      if (!where && node.range) where = `(line ${lineCounter.linePos(node.range[0]).line}, column ${lineCounter.linePos(node.range[0]).col})`;
      if (node.resolve(doc) === undefined) {
        unresolved = node.source;
        if (node.range) where = `(line ${lineCounter.linePos(node.range[0]).line}, column ${lineCounter.linePos(node.range[0]).col})`;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  const message =
    unresolved !== undefined
      ? `the YAML alias *${unresolved} has no anchor &${unresolved} before it`
      : /alias count/i.test((error as Error).message)
        ? 'too many YAML aliases to expand (a guard against alias bombs): write the values out'
        : `cannot expand YAML aliases: ${(error as Error).message.split('\n')[0]}`;
  return { path: where, message };
}

/** Values a JSON file could not hold: a config must be a tree of maps, lists, strings, finite numbers, booleans and nulls. */
function nonJsonValues(data: unknown): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const ancestors = new Set<object>();
  const walk = (value: unknown, segments: Array<string | number>): void => {
    if (issues.length >= 10 || value === null || typeof value === 'string' || typeof value === 'boolean') return;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) issues.push({ segments, message: `expected a finite number, found ${String(value)}` });
      return;
    }
    if (typeof value !== 'object') {
      issues.push({ segments, message: `expected a map, a list or a plain value, found a ${typeof value}` });
      return;
    }
    if (ancestors.has(value)) {
      issues.push({ segments, message: 'found a YAML alias that contains itself: a config must be a tree' });
      return;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      issues.push({ segments, message: `expected a map, a list or a plain value, found a ${kind} (YAML tags such as !!binary, !!set, !!omap and !!timestamp are not supported)` });
      return;
    }
    ancestors.add(value);
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, [...segments, i]));
    else for (const [key, item] of Object.entries(value)) walk(item, [...segments, key]);
    ancestors.delete(value);
  };
  walk(data, []);
  return issues;
}

// ── The schema, walked by JSON path: which keys an object takes, for "unknown key" messages and matrix axes ──

interface JsonSchema {
  readonly $ref?: string;
  readonly title?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly definitions?: Readonly<Record<string, JsonSchema>>;
}

const configSchema = validateConfigSchema.schema as JsonSchema;
const scenarioSchema = configSchema.definitions!.Scenario!;

function deref(schema: JsonSchema | undefined): JsonSchema | undefined {
  let s = schema;
  for (let i = 0; s?.$ref && i < 10; i++) s = configSchema.definitions?.[s.$ref.replace('#/definitions/', '')];
  return s;
}

/** The schema of the value at `segments` below `root`, if the schema says. */
function schemaAt(root: JsonSchema, segments: Segments): JsonSchema | undefined {
  let s = deref(root);
  for (const segment of segments) {
    if (!s) return undefined;
    if (typeof segment === 'number') s = deref(s.items);
    else s = deref(s.properties?.[segment] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined));
  }
  return s;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `name`, if one is close enough to be a typo of it. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(name.length / 3)) ? best.name : undefined;
}

function didYouMean(name: string, known: readonly string[]): string {
  const close = closestName(name, known);
  return close ? `: did you mean "${close}"?` : '';
}

const METRIC_KEYED = new Set(['Thresholds', 'MetricThresholds']);

/** `key` is not a property of the object whose schema is `parent`: what it is, what was meant, what is allowed. */
function unknownKeyMessage(key: string, parent: JsonSchema | undefined): string {
  const known = Object.keys(parent?.properties ?? {});
  const expected = known.length ? ` (expected one of: ${known.join(', ')})` : '';
  if (parent?.title && METRIC_KEYED.has(parent.title)) {
    const what = parent.title === 'Thresholds' ? 'a threshold' : 'a compare threshold';
    if (key in METRICS) return `${key} is measured but cannot take ${what}${expected}`;
    return `unknown metric "${key}"${didYouMean(key, known)}${expected}`;
  }
  return `unknown key "${key}"${didYouMean(key, known)}${expected}`;
}

/**
 * ajv's errors as JSON paths (segments) and messages that say what was expected and what
 * was found; unknown keys list the known ones (and the closest), names that break a
 * pattern are reported at the name.
 */
function schemaProblems(errors: readonly ErrorObject[] | null | undefined, data: unknown, root: JsonSchema): SemanticIssue[] {
  const problems: SemanticIssue[] = [];
  const seen = new Set<string>();
  const add = (segments: Segments, message: string) => {
    const key = `${displayPath(segments)}|${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push({ segments, message });
  };
  for (const error of errors ?? []) {
    const segments = pointerSegments(error.instancePath, data);
    const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
    if (error.keyword === 'propertyNames') continue; // reported by the error about the name itself
    if (propertyName !== undefined) {
      const rule = error.keyword === 'pattern' ? `a name matching ${String(error.params.pattern)}` : (error.message ?? 'another name');
      add([...segments, propertyName], `expected ${rule}, found the name ${JSON.stringify(propertyName)}`);
    } else if (error.keyword === 'additionalProperties') {
      const key = String(error.params.additionalProperty);
      add([...segments, key], unknownKeyMessage(key, schemaAt(root, segments)));
    } else if (BOUNDS[error.keyword] && typeof error.params.limit === 'number') {
      // "expected an integer >= 1, found 0" rather than ajv's "must be >= 1".
      const found = valueAt(data, segments);
      const kind = schemaAt(root, segments)?.type === 'integer' ? 'an integer' : 'a number';
      add(segments, `expected ${kind} ${BOUNDS[error.keyword]} ${error.params.limit}, found ${JSON.stringify(found)}`);
    } else {
      const path = error.keyword === 'required' ? [...segments, String(error.params.missingProperty)] : segments;
      for (const issue of schemaIssues([error], data)) add(path, issue.message);
    }
  }
  return problems;
}

const BOUNDS: Readonly<Record<string, string>> = { minimum: '>=', maximum: '<=', exclusiveMinimum: '>', exclusiveMaximum: '<' };

function valueAt(data: unknown, segments: Segments): unknown {
  let node = data;
  for (const s of segments) node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[s] : undefined;
  return node;
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
    issues.push({ segments: ['defaults', 'target'], message: `no target named "${defaultTarget}"${didYouMean(defaultTarget, names)} (known: ${names.join(', ')})` });
  }
  for (const [name, target] of Object.entries(config.targets ?? {})) {
    issues.push(...targetIssues(name, target));
  }
  for (const [suite, { scenarios, targets }] of Object.entries(config.suites)) {
    const seen = new Set<string>();
    (targets ?? []).forEach((t, index) => {
      if (!names.includes(t)) issues.push({ segments: ['suites', suite, 'targets', index], message: `no target named "${t}"${didYouMean(t, names)} (known: ${names.join(', ')})` });
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
  let allExpanded = true;
  for (const [name, matrix] of Object.entries(config.matrices ?? {})) {
    const before = issues.length;
    issues.push(...matrixIssues(config, name, matrix));
    if (issues.length > before) allExpanded = false;
  }
  issues.push(...compareIssues(config, allExpanded));
  // A scenario run on two targets of the same kind gets the same complaint twice.
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${displayPath(i.segments)}|${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A matrix's problems: axes that set fields scenarios do not have, then each expanded
 * scenario checked like a written one. A problem is reported once, at the axis value or
 * the part of `base` it comes from, naming the scenarios it affects.
 */
function matrixIssues(config: MigbenchConfig, name: string, matrix: Matrix): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const at = (...rest: Array<string | number>) => ['matrices', name, ...rest];
  if (config.suites[name]) issues.push({ segments: at(), message: `a suite is called ${name} too; results would mix` });
  const pathIssues = matrix.axes.flatMap((axis, a) => axisPathProblems(axis.path).map((message) => ({ segments: at('axes', a, 'path'), message })));
  if (pathIssues.length) return [...issues, ...pathIssues];
  const { points, issues: expansionIssues } = expandMatrix(matrix);
  issues.push(...expansionIssues.map((i) => ({ segments: at(...i.segments), message: i.message })));
  const grouped = new Map<string, { segments: Segments; inner: Segments; message: string; scenarios: string[] }>();
  const add = (point: MatrixPoint, inner: Segments, message: string) => {
    const segments = at(...matrixSource(matrix, point, inner));
    const key = `${displayPath(segments)}|${displayPath(inner)}|${message}`;
    const group = grouped.get(key) ?? { segments, inner, message, scenarios: [] };
    group.scenarios.push(point.scenario.name);
    grouped.set(key, group);
  };
  for (const point of points) {
    if (!validateScenarioSchema(point.scenario)) {
      for (const problem of schemaProblems(validateScenarioSchema.errors, point.scenario, scenarioSchema)) add(point, problem.segments, problem.message);
      continue;
    }
    for (const issue of scenarioIssues(config, point.scenario, (...rest) => rest)) add(point, issue.segments, issue.message);
  }
  for (const g of grouped.values()) {
    const shown = g.scenarios.length > 4 ? `${g.scenarios.slice(0, 4).join(', ')} and ${g.scenarios.length - 4} more` : g.scenarios.join(', ');
    const inner = displayPath(g.inner);
    issues.push({ segments: g.segments, message: `scenario${g.scenarios.length === 1 ? '' : 's'} ${shown}: ${inner ? `${inner}: ` : ''}${g.message}` });
  }
  return issues;
}

/** Where in the matrix a field of an expanded scenario came from: the axis value that set it, else `base`. */
function matrixSource(matrix: Matrix, point: MatrixPoint, inner: Segments): Array<string | number> {
  for (let a = matrix.axes.length - 1; a >= 0; a--) {
    const axis = matrix.axes[a]!;
    const path = axis.path.split('.');
    if (path.length > inner.length || path.some((p, i) => inner[i] !== p)) continue;
    const label = point.axes[axis.path]?.label;
    const v = axis.values.findIndex((value, i) => (axis.labels?.[i] ?? autoLabel(value)) === label);
    if (v >= 0) return ['axes', a, 'values', v, ...inner.slice(path.length)];
  }
  return ['base', ...inner];
}

/** An axis path must name a field a scenario has (guest.memoryMiB, not guest.memory). */
function axisPathProblems(path: string): string[] {
  let schema: JsonSchema | undefined = scenarioSchema;
  const parts = path.split('.');
  for (const [i, part] of parts.entries()) {
    schema = deref(schema);
    const here = parts.slice(0, i).join('.');
    if (!schema?.properties) return [`${here || 'a scenario'} has no fields, so the axis cannot set ${path}`];
    if (!(part in schema.properties)) return [`a scenario has no field ${path}: ${unknownKeyMessage(part, schema)}`];
    schema = schema.properties[part];
  }
  return [];
}

/** The compare section: thresholds that make sense together, for scenarios that exist. */
function compareIssues(config: MigbenchConfig, allExpanded: boolean): SemanticIssue[] {
  const compare = config.compare;
  if (!compare) return [];
  const issues: SemanticIssue[] = [];
  const check = (t: { warnPct: number; failPct: number } | undefined, segments: Array<string | number>) => {
    if (t && t.warnPct > t.failPct) {
      issues.push({ segments: [...segments, 'warnPct'], message: `expected at most failPct (${t.failPct}%): a change large enough to fail must also be large enough to warn, found ${t.warnPct}%` });
    }
  };
  check(compare.default, ['compare', 'default']);
  for (const [metric, t] of Object.entries(compare.metrics ?? {})) check(t, ['compare', 'metrics', metric]);
  const known = new Set<string>();
  if (allExpanded) {
    for (const suite of suiteNames(config)) for (const s of resolveScenarios(config, suite)) known.add(s.name);
    for (const matrix of matrixNames(config)) for (const p of resolveMatrix(config, matrix)) known.add(p.resolved.name);
  }
  for (const [scenario, metrics] of Object.entries(compare.scenarios ?? {})) {
    if (allExpanded && !known.has(scenario)) {
      const list = [...known];
      issues.push({
        segments: ['compare', 'scenarios', scenario],
        message: `no scenario named "${scenario}" in this config's suites or matrices${didYouMean(scenario, list)}${list.length <= 20 ? ` (known: ${list.join(', ') || 'none'})` : ''}`,
      });
    }
    for (const [metric, t] of Object.entries(metrics)) check(t, ['compare', 'scenarios', scenario, metric]);
  }
  return issues;
}

/** The embedded lab runs source and destination guests side by side on this machine: both must fit in this share of its RAM. */
export const LAB_MEMORY_SHARE = 0.8;

/** The largest guest the embedded lab takes on a machine with this much RAM (MiB). */
export function labGuestMemoryLimitMiB(machineMiB: number = Math.floor(totalmem() / (1024 * 1024))): number {
  return Math.floor((machineMiB * LAB_MEMORY_SHARE) / 2);
}

/** Checks of one scenario; `at` turns a path inside the scenario into a path in the file. */
function scenarioIssues(config: MigbenchConfig, scenario: ScenarioConfig, at: (...rest: Array<string | number>) => Array<string | number>): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const names = targetNames(config);
  const target = scenario.target ?? config.defaults?.target ?? LAB_TARGET;
  if (scenario.target !== undefined && !names.includes(scenario.target)) {
    issues.push({ segments: at('target'), message: `no target named "${scenario.target}"${didYouMean(scenario.target, names)} (known: ${names.join(', ')})` });
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
  const xbzrle = scenario.migration.xbzrleCacheMiB;
  if (xbzrle !== undefined && xbzrle > scenario.guest.memoryMiB) {
    issues.push({ segments: at('migration', 'xbzrleCacheMiB'), message: `expected at most the guest's memory (${scenario.guest.memoryMiB} MiB; QEMU refuses a larger XBZRLE cache), found ${xbzrle} MiB` });
  }
  const isLab = isLabTarget(config, target);
  if (isLab) {
    const machineMiB = Math.floor(totalmem() / (1024 * 1024));
    const limit = labGuestMemoryLimitMiB(machineMiB);
    if (scenario.guest.memoryMiB > limit) {
      issues.push({
        segments: at('guest', 'memoryMiB'),
        message: `expected at most ${limit} MiB on the embedded lab, found ${scenario.guest.memoryMiB} MiB: its source and destination guests run side by side on this machine, and both must fit in ${LAB_MEMORY_SHARE * 100}% of its ${machineMiB} MiB of RAM`,
      });
    }
  }
  if (scenario.link && !isLab) {
    issues.push({ segments: at('link'), message: `link shaping changes the network it runs on, so migbench only does it in the embedded lab (target ${target} is not the lab)` });
  }
  const hypervisor = (config.targets?.[target] ?? BUILTIN_TARGETS[target])?.hypervisor;
  // The disk of a VM migbench starts itself; a vendor target's VM has its own storage.
  if (!isLab && (hypervisor === 'qemu' || hypervisor === 'libvirt') && scenario.migration.kind === 'memory' && (scenario.guest.diskMiB ?? DEFAULT_DISK_MIB) > 0 && !config.targets?.[target]?.sharedStorageDir) {
    issues.push({ segments: at('migration', 'kind'), message: `memory migration keeps the guest's disk on storage both hosts see: set targets.${target}.sharedStorageDir` });
  }
  if (hypervisor && hypervisor in VENDOR_TARGETS) issues.push(...vendorScenarioIssues(VENDOR_TARGETS[hypervisor as keyof typeof VENDOR_TARGETS], target, scenario, at));
  const postcopyAfterMs = scenario.migration.postcopyAfterMs;
  if (postcopyAfterMs !== undefined && scenario.migration.kind === 'storage') {
    issues.push({ segments: at('migration', 'postcopyAfterMs'), message: 'postcopy with storage migration is not supported by migbench yet' });
  }
  if (postcopyAfterMs !== undefined && scenario.migration.multifdChannels !== undefined) {
    issues.push({ segments: at('migration', 'postcopyAfterMs'), message: 'QEMU cannot combine postcopy with multifd' });
  }
  return issues;
}

/** Hypervisor knobs migbench sets on QEMU (directly or through libvirt) only. */
const KNOBS = ['downtimeLimitMs', 'maxBandwidthMiBps', 'multifdChannels', 'autoConverge', 'xbzrleCacheMiB', 'postcopyAfterMs'] as const;

/**
 * A vendor target migrates a VM it already has, with the vendor's own defaults, and
 * reports fewer figures: knobs, a workload, or a threshold on a figure it never gives
 * would be silently ignored or could never hold.
 */
function vendorScenarioIssues(v: VendorTarget, target: string, scenario: ScenarioConfig, at: (...rest: Array<string | number>) => Array<string | number>): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  for (const knob of KNOBS) {
    const value = scenario.migration[knob];
    if (value !== undefined) {
      issues.push({ segments: at('migration', knob), message: `expected no ${knob} on target ${target}: migbench sets no migration knobs through ${v.api} (the ${v.product} defaults apply), found ${JSON.stringify(value)}` });
    }
  }
  const parts = Object.entries(scenario.workload ?? {}).filter(([, part]) => part !== undefined).map(([part]) => part);
  if (parts.length) {
    issues.push({ segments: at('workload'), message: `expected no workload on target ${target}: its ${v.product} VM runs no migbench agent, found workload.${parts.join(', workload.')}` });
  }
  const reported = THRESHOLD_KEYS.filter((m) => !v.unreported.includes(m));
  for (const metric of Object.keys(scenario.thresholds ?? {}) as Array<keyof Thresholds>) {
    if (v.unreported.includes(metric)) {
      issues.push({ segments: at('thresholds', metric), message: `target ${target} (${v.product}) never reports ${metric}, so this threshold could never hold (thresholds it can meet: ${reported.join(', ')})` });
    }
  }
  return issues;
}

const THRESHOLD_KEYS = Object.keys(configSchema.definitions!.Thresholds!.properties!) as Array<keyof Thresholds>;

interface VendorTarget {
  readonly product: string;
  readonly hosts: string;
  readonly required: string;
  readonly password: string | null;
  readonly api: string;
  /** Threshold metrics its driver leaves null (src/xen, src/vsphere, src/hyperv; README, "Which hypervisors are validated how"). */
  readonly unreported: ReadonlyArray<keyof Thresholds>;
}

const VENDOR_TARGETS: Readonly<Record<'xenserver' | 'vsphere' | 'hyperv', VendorTarget>> = {
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

function targetIssues(name: string, target: TargetConfig): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const at = (...rest: string[]) => ['targets', name, ...rest];
  // The vendor drivers reach hosts migbench does not build, each through its own settings block.
  for (const [kind, v] of Object.entries(VENDOR_TARGETS) as Array<[keyof typeof VENDOR_TARGETS, VendorTarget]>) {
    const settings = target[kind] as { passwordEnv?: string; passwordFile?: string } | undefined;
    if (target.hypervisor !== kind) {
      if (settings) issues.push({ segments: at(kind), message: `${kind} settings belong to a ${kind} target, not ${target.hypervisor}` });
      continue;
    }
    if (target.lab) issues.push({ segments: at('lab'), message: `${v.product} does not run in the embedded lab; give the ${v.hosts} instead` });
    if (!settings) issues.push({ segments: at(), message: `a ${kind} target needs its ${kind} settings (${v.required})` });
    else if (v.password && !settings.passwordEnv && !settings.passwordFile) issues.push({ segments: at(kind), message: `give the ${v.password} password as passwordEnv or passwordFile (never in the config itself)` });
  }
  // QEMU settings apply to the guests migbench starts (itself or through libvirt); libvirt's to libvirt only.
  if (target.qemu && target.hypervisor !== 'qemu' && target.hypervisor !== 'libvirt') issues.push({ segments: at('qemu'), message: `qemu settings belong to a qemu or libvirt target, not ${target.hypervisor}` });
  if (target.libvirt && target.hypervisor !== 'libvirt') issues.push({ segments: at('libvirt'), message: `libvirt settings belong to a libvirt target, not ${target.hypervisor}` });
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

// ── Credentials: whether what the targets need to log in is there, never what it is ──

/** The targets the config's suites and matrices run scenarios on. */
export function scenarioTargets(config: MigbenchConfig): string[] {
  const targets = new Set<string>();
  for (const suite of suiteNames(config)) for (const s of resolveScenarios(config, suite)) targets.add(s.target);
  for (const matrix of matrixNames(config)) for (const p of resolveMatrix(config, matrix)) targets.add(p.resolved.target);
  return [...targets];
}

/** Why a file cannot be read, or null if it can (its contents are never read). */
function unreadable(path: string): string | null {
  const absolute = isAbsolute(path) ? path : resolve(path);
  const shown = absolute === path ? path : `${path} (${absolute})`;
  try {
    if (statSync(absolute).isDirectory()) return `${shown}, a directory`;
    accessSync(absolute, fsConstants.R_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `${shown}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable by this user' : (error as Error).message} ${code ? `(${code})` : ''}`.trim();
  }
}

/**
 * Checks that every credential the named targets log in with is where the config says:
 * passwordEnv variables set (and not empty), password, identity and known_hosts files
 * readable. Names the target and the variable or file; never reads or prints a password.
 */
export function assertCredentials(loaded: Pick<LoadedConfig, 'path' | 'config'>, targets: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): void {
  const issues: SemanticIssue[] = [];
  const { config } = loaded;
  for (const name of new Set(targets)) {
    const target = config.targets?.[name];
    if (!target || isLabTarget(config, name)) continue;
    const at = (...rest: string[]) => ['targets', name, ...rest];
    const vendor = target.hypervisor in VENDOR_TARGETS ? VENDOR_TARGETS[target.hypervisor as keyof typeof VENDOR_TARGETS] : undefined;
    const settings = vendor?.password ? (target[target.hypervisor as 'xenserver' | 'vsphere'] as { passwordEnv?: string; passwordFile?: string } | undefined) : undefined;
    if (vendor?.password && settings?.passwordEnv) {
      const value = env[settings.passwordEnv];
      if (!value) {
        issues.push({
          segments: at(target.hypervisor, 'passwordEnv'),
          message: `expected the environment variable ${settings.passwordEnv} to hold the ${vendor.password} password of target ${name}, found it ${value === undefined ? 'unset' : 'empty'}`,
        });
      }
    } else if (vendor?.password && settings?.passwordFile) {
      const problem = unreadable(settings.passwordFile);
      if (problem) issues.push({ segments: at(target.hypervisor, 'passwordFile'), message: `expected a readable file holding the ${vendor.password} password of target ${name}, found ${problem}` });
    }
    for (const side of ['source', 'destination'] as const) {
      const host = target[side];
      if (!host) continue;
      const identity = unreadable(host.identityFile);
      if (identity) issues.push({ segments: at(side, 'identityFile'), message: `expected a readable SSH private key for the ${side} host of target ${name}, found ${identity}` });
      const knownHosts = host.knownHostsFile === undefined ? null : unreadable(host.knownHostsFile);
      if (knownHosts) issues.push({ segments: at(side, 'knownHostsFile'), message: `expected a readable known_hosts file for the ${side} host of target ${name}, found ${knownHosts}` });
    }
  }
  if (issues.length) {
    const locate = positions.get(config) ?? (() => '');
    throw new InputFileError('MB_CONFIG_INVALID', loaded.path, issues.map((i) => located(i.segments, i.message, locate)));
  }
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
