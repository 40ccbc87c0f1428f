// Loads a config file (YAML or JSON) and validates it against schemas/config.schema.json
// and the checks a schema cannot make. Every problem is reported with the file, the JSON
// path, the line, what was expected and what was found.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isCollection, isNode, isSeq, visit, type Document } from 'yaml';
import type { MigbenchConfig } from '../generated/config.js';
import { InputFileError, type InputIssue } from '../model/errors.js';
import { displayPath, validateConfigSchema } from '../model/schema.js';
import { semanticIssues } from './checks.js';
import { configSchema, schemaProblems, type ConfigIssue, type Segments } from './issues.js';

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

/** Parses and validates config text; `file` is only used in messages. */
export function parseConfig(text: string, file: string): MigbenchConfig {
  return validatedConfig(readConfigText(text, file), file);
}

/** A config file's data and where each part of it is, before the schema has seen it. */
export interface ConfigText {
  readonly data: unknown;
  readonly lineOf: (segments: Segments) => number | null;
}

/**
 * YAML or JSON text as plain data (syntax checked, aliases expanded), not yet validated:
 * the gate fills a pull request's config in with trusted fields before validating it.
 */
export function readConfigText(text: string, file: string): ConfigText {
  const lineCounter = new LineCounter();
  // logLevel error: what yaml would warn about on stderr is reported here as a problem instead.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const syntax = syntaxIssues(doc, lineCounter);
  if (syntax.length) throw new InputFileError('MB_CONFIG_INVALID', file, syntax);
  return { data: plainData(doc, lineCounter, file), lineOf: lineFinder(doc, lineCounter) };
}

/** Data as a valid config, each problem at its line of the text it came from. */
export function validatedConfig(text: ConfigText, file: string): MigbenchConfig {
  const config = validConfig(text.data, file, locatorOf(text.lineOf));
  positions.set(config, text.lineOf);
  return config;
}

/** Issues found in a config's text before validation, each at its line. */
export function configTextError(file: string, text: ConfigText, issues: readonly ConfigIssue[]): InputFileError {
  return invalid(file, issues, locatorOf(text.lineOf));
}

/** The issues of a config parsed earlier (credentials), each at its line in the file. */
export function invalidConfigError(file: string, config: MigbenchConfig, issues: readonly ConfigIssue[]): InputFileError {
  const lineOf = positions.get(config);
  return invalid(file, issues, lineOf ? locatorOf(lineOf) : () => '');
}

// ── Positions: where each part of the config is in its file ──

type Locate = (segments: Segments) => string;
type LineOf = (segments: Segments) => number | null;

/** Where each parsed config's parts are in its file, for checks made after parsing (credentials, annotations). */
const positions = new WeakMap<MigbenchConfig, LineOf>();

function lineFinder(doc: Document, lineCounter: LineCounter): LineOf {
  return (segments) => {
    // The deepest node that exists: a missing key is reported at its parent.
    for (let n = segments.length; n >= 0; n--) {
      const node = doc.getIn(segments.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return null;
  };
}

function locatorOf(lineOf: LineOf): Locate {
  return (segments) => {
    const line = lineOf(segments);
    return line === null ? '' : `line ${line}`;
  };
}

/** The line of a part of a config parsed by this module (its deepest existing parent's), or null. */
export function configLine(config: MigbenchConfig, segments: Segments): number | null {
  return positions.get(config)?.(segments) ?? null;
}

function lineAndColumn(lineCounter: LineCounter, offset: number): string {
  const pos = lineCounter.linePos(offset);
  return `(line ${pos.line}, column ${pos.col})`;
}

function located(segments: Segments, message: string, locate: Locate): InputIssue {
  const display = displayPath(segments) || '(root)';
  const where = locate(segments);
  return { path: where ? `${display} (${where})` : display, message };
}

function invalid(file: string, issues: readonly ConfigIssue[], locate: Locate): InputFileError {
  return new InputFileError(
    'MB_CONFIG_INVALID',
    file,
    issues.map((i) => located(i.segments, i.message, locate)),
  );
}

// ── From text to data: YAML that parses, with plain keys, into values JSON could hold ──

/** YAML's own errors; else keys that are lists or maps. */
function syntaxIssues(doc: Document, lineCounter: LineCounter): InputIssue[] {
  if (doc.errors.length) return doc.errors.map((e) => ({ path: lineAndColumn(lineCounter, e.pos[0]), message: e.message.split('\n')[0]! }));
  const complexKeys: InputIssue[] = [];
  visit(doc, {
    Pair(_, pair) {
      if (isCollection(pair.key) && complexKeys.length < 10) {
        const where = pair.key.range ? lineAndColumn(lineCounter, pair.key.range[0]) : '';
        complexKeys.push({ path: where, message: `expected a plain key (a name), found a ${isSeq(pair.key) ? 'list' : 'map'} used as a key` });
      }
    },
  });
  return complexKeys;
}

/** The document as plain values, aliases expanded; refuses an empty document. */
function plainData(doc: Document, lineCounter: LineCounter, file: string): unknown {
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new InputFileError('MB_CONFIG_INVALID', file, [aliasIssue(doc, lineCounter, error)]);
  }
  if (data === null || data === undefined) {
    throw new InputFileError('MB_CONFIG_INVALID', file, [
      { path: '(root)', message: `expected a config (a map with at least "suites"), found ${doc.contents === null ? 'an empty file' : 'null'}` },
    ]);
  }
  return data;
}

function validConfig(data: unknown, file: string, locate: Locate): MigbenchConfig {
  // YAML can say more than JSON: tags (!!binary, !!set, !!timestamp), .inf, aliases that contain themselves.
  const notJson = nonJsonValues(data);
  if (notJson.length) throw invalid(file, notJson, locate);
  if (!validateConfigSchema(data)) throw invalid(file, schemaProblems(validateConfigSchema.errors, data, configSchema), locate);
  const config = data as MigbenchConfig;
  const issues = semanticIssues(config);
  if (issues.length) throw invalid(file, issues, locate);
  return config;
}

/** toJS failed: an alias without its anchor, or so many aliases that expanding them is an attack. */
function aliasIssue(doc: Document, lineCounter: LineCounter, error: unknown): InputIssue {
  let where = '';
  let unresolved: string | undefined;
  visit(doc, {
    Alias(_, node) {
      if (!where && node.range) where = lineAndColumn(lineCounter, node.range[0]);
      if (node.resolve(doc) === undefined) {
        unresolved = node.source;
        if (node.range) where = lineAndColumn(lineCounter, node.range[0]);
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
function nonJsonValues(data: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
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
