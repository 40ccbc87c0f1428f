// JSON Schema validation for config and results files, with errors that name the file,
// the JSON path (and the line, for YAML), what was expected and what was found.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { InputIssue } from './errors.js';
import { projectPath } from './paths.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsImport as unknown as { default?: typeof addFormatsImport }).default ?? addFormatsImport) as unknown as (ajv: Ajv) => Ajv;

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);

function load(name: string): ValidateFunction {
  return ajv.compile(JSON.parse(readFileSync(projectPath('schemas', name), 'utf8')) as object);
}

export const validateConfigSchema = load('config.schema.json');
export const validateResultsSchema = load('results.schema.json');
/** One scenario, for scenarios a matrix expands to. */
export const validateScenarioSchema = ajv.getSchema('https://migbench.dev/schemas/config.schema.json#/definitions/Scenario')!;
export const validateRecordSchema = ajv.getSchema('https://migbench.dev/schemas/results.schema.json#/definitions/MigrationRecord')!;

/** `/suites/memory-migration/scenarios/0/guest` → `suites.memory-migration.scenarios[0].guest` */
export function displayPath(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out ? `.${s}` : s;
  }
  return out;
}

export function pointerSegments(pointer: string, data: unknown): Array<string | number> {
  if (!pointer) return [];
  const segments: Array<string | number> = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      segments.push(Number(key));
      node = node[Number(key)];
    } else {
      segments.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

function valueAt(data: unknown, segments: ReadonlyArray<string | number>): unknown {
  let node = data;
  for (const s of segments) node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[s] : undefined;
  return node;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * ajv's errors as issues a person can act on. `locate` may add a position (a YAML line)
 * to the path. Errors from oneOf branches that did not apply are dropped in favour of
 * the branch that did.
 */
export function schemaIssues(
  errors: readonly ErrorObject[] | null | undefined,
  data: unknown,
  locate: (segments: ReadonlyArray<string | number>) => string = () => '',
): InputIssue[] {
  const issues: InputIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    if (error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const segments = pointerSegments(error.instancePath, data);
    const found = valueAt(data, segments);
    let message: string;
    let path = segments;
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String(error.params.additionalProperty);
        path = [...segments, key];
        message = `unknown key "${key}"`;
        break;
      }
      case 'required':
        path = [...segments, String(error.params.missingProperty)];
        message = 'is required but missing';
        break;
      case 'type':
        message = `expected ${String(error.params.type).replace(',', ' or ')}, found ${describeValue(found)}`;
        break;
      case 'enum':
        message = `expected one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, found ${describeValue(found)}`;
        break;
      case 'const':
        message = `expected ${JSON.stringify(error.params.allowedValue)}, found ${describeValue(found)}`;
        break;
      case 'propertyNames':
        message = `has a key that is not allowed: ${String(error.params.propertyName)}`;
        break;
      default:
        message = `${error.message ?? error.keyword}, found ${describeValue(found)}`;
    }
    const display = displayPath(path);
    const where = locate(path);
    const key = `${display}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path: where ? `${display} (${where})` : display, message });
  }
  return issues;
}
