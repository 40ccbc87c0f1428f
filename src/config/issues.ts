// Problems in a config as JSON paths and messages that say what was expected and what was
// found: ajv's schema errors rewritten, unknown keys with the known ones and the closest
// (did you mean), the schema walked by path to know which keys an object takes.
import type { ErrorObject } from 'ajv';
import { METRICS } from '../model/metrics.js';
import { displayPath, pointerSegments, schemaIssues, validateConfigSchema } from '../model/schema.js';

export type Segments = ReadonlyArray<string | number>;

/** A problem at a JSON path of the config; the file's line is added when it is reported. */
export interface ConfigIssue {
  readonly segments: Segments;
  readonly message: string;
}

/** The issues without repeats (same path, same message), first occurrence kept. */
export function withoutRepeats(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${displayPath(i.segments)}|${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ── The schema, walked by JSON path: which keys an object takes, for "unknown key" messages and matrix axes ──

export interface JsonSchema {
  readonly $ref?: string;
  readonly title?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly definitions?: Readonly<Record<string, JsonSchema>>;
}

export const configSchema = validateConfigSchema.schema as JsonSchema;
export const scenarioSchema = configSchema.definitions!.Scenario!;

export function deref(schema: JsonSchema | undefined): JsonSchema | undefined {
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

// ── Names: the closest known one to a typo ──

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

export function didYouMean(name: string, known: readonly string[]): string {
  const close = closestName(name, known);
  return close ? `: did you mean "${close}"?` : '';
}

/** A reference to a target the config does not have. */
export function noSuchTarget(name: string, known: readonly string[]): string {
  return `no target named "${name}"${didYouMean(name, known)} (known: ${known.join(', ')})`;
}

const METRIC_KEYED = new Set(['Thresholds', 'MetricThresholds']);

/** `key` is not a property of the object whose schema is `parent`: what it is, what was meant, what is allowed. */
export function unknownKeyMessage(key: string, parent: JsonSchema | undefined): string {
  const known = Object.keys(parent?.properties ?? {});
  const expected = known.length ? ` (expected one of: ${known.join(', ')})` : '';
  if (parent?.title && METRIC_KEYED.has(parent.title)) {
    const what = parent.title === 'Thresholds' ? 'a threshold' : 'a compare threshold';
    if (key in METRICS) return `${key} is measured but cannot take ${what}${expected}`;
    return `unknown metric "${key}"${didYouMean(key, known)}${expected}`;
  }
  return `unknown key "${key}"${didYouMean(key, known)}${expected}`;
}

// ── ajv's errors, rewritten ──

const BOUNDS: Readonly<Record<string, string>> = { minimum: '>=', maximum: '<=', exclusiveMinimum: '>', exclusiveMaximum: '<' };

/**
 * ajv's errors as JSON paths (segments) and messages that say what was expected and what
 * was found; unknown keys list the known ones (and the closest), names that break a
 * pattern are reported at the name.
 */
export function schemaProblems(errors: readonly ErrorObject[] | null | undefined, data: unknown, root: JsonSchema): ConfigIssue[] {
  return withoutRepeats((errors ?? []).flatMap((error) => schemaProblem(error, data, root)));
}

function schemaProblem(error: ErrorObject, data: unknown, root: JsonSchema): ConfigIssue[] {
  const segments = pointerSegments(error.instancePath, data);
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
  if (error.keyword === 'propertyNames') return []; // reported by the error about the name itself
  if (propertyName !== undefined) {
    const rule = error.keyword === 'pattern' ? `a name matching ${String(error.params.pattern)}` : (error.message ?? 'another name');
    return [{ segments: [...segments, propertyName], message: `expected ${rule}, found the name ${JSON.stringify(propertyName)}` }];
  }
  if (error.keyword === 'additionalProperties') {
    const key = String(error.params.additionalProperty);
    return [{ segments: [...segments, key], message: unknownKeyMessage(key, schemaAt(root, segments)) }];
  }
  if (BOUNDS[error.keyword] && typeof error.params.limit === 'number') {
    // "expected an integer >= 1, found 0" rather than ajv's "must be >= 1".
    const found = valueAt(data, segments);
    const kind = schemaAt(root, segments)?.type === 'integer' ? 'an integer' : 'a number';
    return [{ segments, message: `expected ${kind} ${BOUNDS[error.keyword]} ${error.params.limit}, found ${JSON.stringify(found)}` }];
  }
  const path = error.keyword === 'required' ? [...segments, String(error.params.missingProperty)] : segments;
  return schemaIssues([error], data).map((issue) => ({ segments: path, message: issue.message }));
}

function valueAt(data: unknown, segments: Segments): unknown {
  let node = data;
  for (const s of segments) node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[s] : undefined;
  return node;
}
