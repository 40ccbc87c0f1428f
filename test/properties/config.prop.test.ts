// Config validation (src/config/load.ts parseConfig) on generated input: any text, any JSON
// value, mutations of the shipped configs. Either a config comes back (and resolves), or an
// InputFileError that names the file; never a TypeError, a RangeError or a plain Error.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { matrixNames, resolveMatrix, resolveScenarios, suiteNames } from '../../src/config/scenarios.js';
import { InputFileError } from '../../src/model/errors.js';
import { projectPath } from '../../src/model/paths.js';
import { mutatedJson, mutatedText, oddString, RUNS, TIMEOUT, valueOrTypedError } from './arbitraries.js';

const MATRIX = `schemaVersion: 1
matrices:
  sizes:
    base: { guest: { memoryMiB: 256 }, migration: { kind: memory } }
    axes:
      - { path: guest.memoryMiB, values: [256, 320] }
      - { path: migration.kind, values: [memory, storage], labels: [mem, sto] }
suites:
  s:
    targets: [lab, lab-libvirt]
    scenarios:
      - { name: a, guest: { memoryMiB: 256 }, migration: { kind: memory, downtimeLimitMs: 30 } }
`;

/** The configs migbench ships and documents, as text. */
const shipped = [
  readFileSync(projectPath('suites/migbench.config.yaml'), 'utf8'),
  readFileSync(projectPath('examples/downtime-limit-30.yaml'), 'utf8'),
  readFileSync(projectPath('examples/downtime-limit-300.yaml'), 'utf8'),
  MATRIX,
];
/**
 * What the generators start from: the examples, the matrix, and the shipped config cut to one
 * suite of one scenario each (YAML parsing dominates the run time: ~5 ms for the
 * whole shipped file on the CI machine, 0.3 ms for one suite).
 */
const values: unknown[] = shipped.slice(1).map((t) => parseYaml(t) as unknown);
{
  const full = parseYaml(shipped[0]!) as { suites: Record<string, { scenarios: unknown[] }> };
  for (const [name, suite] of Object.entries(full.suites)) values.push({ ...full, suites: { [name]: { ...suite, scenarios: suite.scenarios.slice(0, 1) } } });
  // Descriptions are free text: the schema only asks for a string, so they only add parse time.
  values.splice(0, values.length, ...values.map((v) => JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'description' ? undefined : x))) as unknown));
}
const texts = [...shipped.slice(1), ...values.slice(3).map((v) => stringifyYaml(v))];

const fileName = fc.oneof(fc.constantFrom('migbench.config.yaml', 'c.json', 'dir with space/c.yml'), fc.string({ minLength: 1, maxLength: 20 }));

/** The property: a config that resolves, or an InputFileError about this file. */
function check(text: string, file: string): void {
  const { value, error } = valueOrTypedError(() => parseConfig(text, file));
  if (error) {
    expect(error).toBeInstanceOf(InputFileError);
    const e = error as InputFileError;
    expect(e.code).toBe('MB_CONFIG_INVALID');
    expect(e.file).toBe(file);
    expect(e.message.startsWith(`${file}: `)).toBe(true);
    expect(e.issues.length).toBeGreaterThan(0);
    for (const issue of e.issues) {
      expect(typeof issue.path).toBe('string');
      expect(issue.message).toMatch(/\S/);
    }
    return;
  }
  // Accepted: every suite and matrix resolves into scenarios without throwing.
  for (const suite of suiteNames(value)) expect(resolveScenarios(value, suite).length).toBeGreaterThan(0);
  for (const matrix of matrixNames(value)) for (const point of resolveMatrix(value, matrix)) expect(point.resolved.guest.memoryMiB).toBeGreaterThan(0);
}

const asText = (value: unknown, yaml: boolean) => (yaml ? stringifyYaml(value) : JSON.stringify(value));

/** Characters that make YAML anchors, aliases and tags: see the skipped property below. */
const noAliasOrTag = (s: string) => s.replace(/[*&!]/g, '');

describe('parseConfig on generated input', () => {
  test('the shipped configs pass (the generators start from valid input)', () => {
    for (const text of [...shipped, ...texts]) expect(() => parseConfig(text, 'c.yaml')).not.toThrow();
  });

  test(
    'any JSON value, written as JSON or as YAML',
    () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 3 }), fc.boolean(), fileName, (value, yaml, file) => check(asText(value, yaml), file)),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'structural mutations of the shipped configs (keys dropped, added, retyped, values odd)',
    () => {
      fc.assert(
        fc.property(
          fc.nat({ max: values.length - 1 }).chain((i) => mutatedJson(values[i]!, 4)),
          fc.boolean(),
          fileName,
          (value, yaml, file) => check(asText(value, yaml), file),
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'character-level edits of the shipped YAML, and random text (no anchors, aliases or tags)',
    () => {
      const edited = fc
        .nat({ max: texts.length - 1 })
        .chain((i) => mutatedText(noAliasOrTag(texts[i]!), { max: 5 }))
        .map(noAliasOrTag);
      fc.assert(
        fc.property(fc.oneof(edited, oddString.map(noAliasOrTag)), fileName, (text, file) => check(text, file)),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  // Found by this property (then fixed in parseConfig): "*a" (unresolved alias), 101
  // aliases of one anchor, "- &a [*a, *a]" (circular), "!!binary x" (a Buffer) all threw
  // untyped errors.
  test(
    'YAML anchors, aliases and tags in the shipped configs and alone',
    () => {
      const yamlSyntax = fc.constantFrom(
        '*a',
        '&a ',
        '&a [*a]',
        '!!binary ',
        '!!binary AAAA',
        '!!set ',
        '!!omap ',
        '!!timestamp ',
        '!!str ',
        '!!int ',
        '<<: *a\n',
        '%YAML 1.1\n---\n',
      );
      const edited = fc.nat({ max: texts.length - 1 }).chain((i) => mutatedText(texts[i]!, { max: 3, alphabet: yamlSyntax }));
      const alone = fc.array(yamlSyntax, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));
      const bomb = fc.integer({ min: 1, max: 200 }).map((n) => `a: &a [1]\nb: [${Array(n).fill('*a').join(', ')}]\n`);
      fc.assert(
        fc.property(fc.oneof(edited, alone, bomb), fileName, (text, file) => check(text, file)),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
