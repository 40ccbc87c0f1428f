// Shared pieces of the property tests (issue 8): the run count, the "typed error or a
// value" check, and generators that mutate real inputs (recorded outputs, shipped configs,
// results files) at the structure level (JSON) and at the character level (text).
import fc from 'fast-check';
import { MigbenchError } from '../../src/model/errors.js';

/**
 * Every property runs at least this many generated cases. CI draws a new seed each run, so a
 * rare counterexample can surface there first; MIGBENCH_PROPERTY_RUNS raises the count for a
 * soak on demand (docs/contributing.md) to find those before a change lands.
 */
export const RUNS = propertyRuns(process.env.MIGBENCH_PROPERTY_RUNS);

function propertyRuns(value: string | undefined): number {
  if (value === undefined || value === '') return 1000;
  const runs = Number(value);
  // Fewer than CI's count would make a run look checked that was not.
  if (!Number.isSafeInteger(runs) || runs < 1000) throw new Error(`MIGBENCH_PROPERTY_RUNS=${JSON.stringify(value)}: expected a whole number of runs, at least 1000 (CI's count)`);
  return runs;
}
/** Per property test; each takes well under a second or two per 1,000 cases, this is for slow machines. */
export const TIMEOUT = 30_000 * Math.max(1, RUNS / 1000);

/**
 * Runs `f`: its value, or the MigbenchError it threw. Anything else thrown (TypeError,
 * RangeError, a plain Error) fails the property, with fast-check's counterexample.
 */
export function valueOrTypedError<T>(f: () => T): { value: T; error: null } | { value: null; error: MigbenchError } {
  try {
    return { value: f(), error: null };
  } catch (error) {
    if (!(error instanceof MigbenchError)) {
      throw new Error(`untyped error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
    }
    return { value: null, error };
  }
}

export async function valueOrTypedErrorAsync<T>(f: () => Promise<T>): Promise<{ value: T; error: null } | { value: null; error: MigbenchError }> {
  try {
    return { value: await f(), error: null };
  } catch (error) {
    if (!(error instanceof MigbenchError)) {
      throw new Error(`untyped error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
    }
    return { value: null, error };
  }
}

/**
 * A cheap assertion for the hot loops of properties (vitest's expect costs microseconds,
 * and some properties check hundreds of values per case): throws only when `ok` is false.
 */
export function check(ok: boolean, message: string | (() => string)): asserts ok {
  if (!ok) throw new Error(typeof message === 'string' ? message : message());
}

/** A number migbench may report: finite, or null for "not measured". */
export function expectFiniteOrNull(value: unknown, what: string): void {
  check(value === null || (typeof value === 'number' && Number.isFinite(value)), () => `${what} = ${String(value)}: expected a finite number or null`);
}

// ── Odd values ─────────────────────────────────────────────────────────────────────────

/** Numbers that break naive code: zero and minus zero, huge, tiny, negative, 2^53, JSON's Infinity (1e400). */
export const oddNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e300, -1e300, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity),
  fc.double({ noNaN: true }),
  fc.integer(),
);

/** Strings that break naive code: empty, numeric-looking, huge digit runs, JSON-looking, control characters. */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '0', '-1', '1e400', 'NaN', 'Infinity', 'null', 'true', '[]', '{}', '\n', '\t', '\0', "'", '"', '__proto__', 'constructor', '9'.repeat(400)),
  fc.string(),
  fc.string({ unit: 'binary' }),
);

/** Any value JSON.parse can give (including Infinity, which it gives for 1e400), biased to odd ones. */
export const oddJson: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 3 },
  { arbitrary: oddNumber, weight: 2 },
  { arbitrary: oddString, weight: 2 },
  // Objects that JSON can carry and that make Number() and String() throw.
  { arbitrary: fc.constantFrom(null, true, false, [], {}, [null], [{}], { '': null }, { toString: 1 }, { valueOf: null, toString: null }, [{ toString: 1 }]), weight: 1 },
);

// ── Structural mutation of JSON values ─────────────────────────────────────────────────

type Path = ReadonlyArray<string | number>;

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === 'object' && v !== null;
}

/** Every path in the value, the root ([]) first. */
export function allPaths(value: unknown): Path[] {
  const out: Path[] = [];
  const walk = (v: unknown, path: Path) => {
    out.push(path);
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...path, i]));
    else if (isContainer(v)) for (const [k, item] of Object.entries(v)) walk(item, [...path, k]);
  };
  walk(value, []);
  return out;
}

function getAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const s of path) v = (v as Record<string | number, unknown>)[s];
  return v;
}

export interface JsonMutation {
  readonly at: number;
  readonly kind: 'replace' | 'delete' | 'insert' | 'duplicate' | 'retype';
  readonly key: string;
  readonly value: unknown;
}

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('replace', 'replace', 'delete', 'insert', 'duplicate', 'retype'),
  key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'status', 'name', 'schemaVersion', 'records', 'metrics')),
  value: oddJson,
});

/** Applies one mutation to (a copy of) `root`; the result replaces root. */
export function applyJsonMutation(root: unknown, m: JsonMutation): unknown {
  const paths = allPaths(root);
  const path = paths[m.at % paths.length]!;
  const setAt = (value: unknown): unknown => {
    if (path.length === 0) return value;
    const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
    parent[path.at(-1)!] = value;
    return root;
  };
  const current = getAt(root, path);
  switch (m.kind) {
    case 'replace':
      return setAt(structuredClone(m.value));
    case 'retype':
      // The same content in another JSON type: 5 → "5", "5" → 5, [x] → x, x → [x].
      if (typeof current === 'number') return setAt(String(current));
      if (typeof current === 'string') return setAt(Number.isNaN(Number(current)) ? null : Number(current));
      if (Array.isArray(current)) return setAt(current[0] ?? null);
      return setAt([current]);
    case 'delete': {
      if (path.length === 0) return null;
      const parent = getAt(root, path.slice(0, -1));
      if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
      else delete (parent as Record<string, unknown>)[path.at(-1) as string];
      return root;
    }
    case 'insert':
      if (Array.isArray(current)) current.splice(m.at % (current.length + 1), 0, structuredClone(m.value));
      // defineProperty: a "__proto__" key stays an own key, as JSON.parse makes it.
      else if (isContainer(current)) Object.defineProperty(current, m.key, { value: structuredClone(m.value), enumerable: true, writable: true, configurable: true });
      else return setAt({ [m.key]: current });
      return root;
    case 'duplicate':
      if (Array.isArray(current) && current.length) current.push(structuredClone(current[m.at % current.length]));
      else return setAt(structuredClone(current));
      return root;
  }
}

/** `base` with one to `max` structural mutations. */
export function mutatedJson(base: unknown, max = 3): fc.Arbitrary<unknown> {
  return fc.array(jsonMutation, { minLength: 1, maxLength: max }).map((mutations) => {
    let value = structuredClone(base);
    for (const m of mutations) value = applyJsonMutation(value, m);
    return value;
  });
}

// ── Character-level mutation of text ───────────────────────────────────────────────────

export interface TextMutation {
  readonly at: number;
  readonly length: number;
  readonly kind: 'insert' | 'delete' | 'replace' | 'digits' | 'dropLine' | 'duplicateLine' | 'truncate';
  readonly text: string;
}

/** Tokens of the formats read here, so edits make near-misses rather than only noise. */
const TOKENS = [
  ':',
  ': ',
  '-',
  '\n',
  '\r\n',
  '\t',
  ' ',
  '"',
  "'",
  '{',
  '}',
  '[',
  ']',
  ',',
  '#',
  '.',
  '+0000',
  '-1',
  '0',
  '1e400',
  '18446744073709551615',
  '9'.repeat(400),
  'null',
  '<null>',
  'error:',
];

export function textMutation(alphabet?: fc.Arbitrary<string>): fc.Arbitrary<TextMutation> {
  const text = alphabet ?? fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 }));
  return fc.record({
    at: fc.nat(),
    length: fc.nat({ max: 40 }),
    kind: fc.constantFrom('insert', 'insert', 'delete', 'replace', 'replace', 'digits', 'dropLine', 'duplicateLine', 'truncate'),
    text,
  });
}

export function applyTextMutation(base: string, m: TextMutation): string {
  const at = base.length ? m.at % (base.length + 1) : 0;
  switch (m.kind) {
    case 'insert':
      return base.slice(0, at) + m.text + base.slice(at);
    case 'delete':
      return base.slice(0, at) + base.slice(at + m.length);
    case 'replace':
      return base.slice(0, at) + m.text + base.slice(at + Math.max(1, m.text.length));
    case 'digits': {
      // A number in the text becomes a huge, negative, fractional or empty one.
      const runs = [...base.matchAll(/\d+/g)];
      if (!runs.length) return base + m.text;
      const run = runs[m.at % runs.length]!;
      const replacement = ['9'.repeat(1 + ((m.length * 37 + m.at) % 400)), `-${run[0]}`, `${run[0]}.5`, '', '0', '18446744073709551616', '1e400', `3${'0'.repeat(307)}`][
        m.length % 8
      ]!;
      return base.slice(0, run.index) + replacement + base.slice(run.index + run[0].length);
    }
    case 'dropLine':
    case 'duplicateLine': {
      const lines = base.split('\n');
      const i = m.at % lines.length;
      if (m.kind === 'dropLine') lines.splice(i, 1);
      else lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 'truncate':
      return base.slice(0, at);
  }
}

/** `base` with one to `max` character-level edits. */
export function mutatedText(base: string, options: { max?: number; alphabet?: fc.Arbitrary<string> } = {}): fc.Arbitrary<string> {
  return fc.array(textMutation(options.alphabet), { minLength: 1, maxLength: options.max ?? 4 }).map((mutations) => mutations.reduce(applyTextMutation, base));
}
