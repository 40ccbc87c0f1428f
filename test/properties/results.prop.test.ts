// Results parsing (src/model/results.ts parseResults, readResults) on generated input: any value,
// values that pass the schemaVersion gate, mutations of recorded results files, any text on
// disk. Either a results file comes back (and it is schema-valid), or an InputFileError
// (MB_RESULTS_INVALID) that names the file.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { InputFileError } from '../../src/model/errors.js';
import { projectPath } from '../../src/model/paths.js';
import { parseResults, readResults, SCHEMA_VERSION } from '../../src/model/results.js';
import { validateResultsSchema } from '../../src/model/schema.js';
import { mutatedJson, mutatedText, oddJson, RUNS, TIMEOUT, valueOrTypedError, valueOrTypedErrorAsync } from './arbitraries.js';

const FILES = ['fixtures/results/lab-tcg.json', 'fixtures/results/ab-downtime-limit/base.json', 'fixtures/results/ab-downtime-limit/head.json'];
const texts = FILES.map((f) => readFileSync(projectPath(f), 'utf8'));
const recorded = texts.map((t) => JSON.parse(t) as { records: unknown[] });
/** One recorded file cut to one record each: the same shapes, a tenth of the validation time. */
const small = recorded.flatMap((r) => r.records.map((record) => ({ ...r, records: [record] })));

const fileName = fc.oneof(fc.constantFrom('results.json', 'out/base.json', 'a b/ünï.json'), fc.string({ minLength: 1, maxLength: 20 }));

function expectRefusal(error: unknown, file: string): void {
  expect(error).toBeInstanceOf(InputFileError);
  const e = error as InputFileError;
  expect(e.code).toBe('MB_RESULTS_INVALID');
  expect(e.file).toBe(file);
  expect(e.message.startsWith(`${file}: `)).toBe(true);
  expect(e.issues.length).toBeGreaterThan(0);
  for (const issue of e.issues) expect(issue.message).toMatch(/\S/);
}

/** The property: a schema-valid results file, or a refusal that names the file. */
function check(data: unknown, file: string): void {
  const { value, error } = valueOrTypedError(() => parseResults(data, file));
  if (error) {
    expectRefusal(error, file);
    return;
  }
  expect(value).toBe(data);
  expect(value.schemaVersion).toBe(SCHEMA_VERSION);
  expect(validateResultsSchema(value)).toBe(true);
  expect(Array.isArray(value.records)).toBe(true);
}

describe('parseResults on generated input', () => {
  test('the recorded files pass (the generators start from valid input)', () => {
    for (const data of [...recorded, ...small]) expect(() => parseResults(structuredClone(data), 'r.json')).not.toThrow();
  });

  test(
    'any value at all (fc.anything: NaN, -0, sparse arrays, null prototypes, ...)',
    () => {
      fc.assert(
        fc.property(fc.anything({ maxDepth: 3 }), fileName, (data, file) => check(data, file)),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'objects that pass the schemaVersion gate, with anything else in them',
    () => {
      const gated = fc
        .dictionary(fc.oneof(fc.constantFrom('migbenchVersion', 'gitSha', 'startedAt', 'updatedAt', 'config', 'records'), fc.string()), oddJson)
        .map((d) => ({ ...d, schemaVersion: SCHEMA_VERSION }));
      fc.assert(
        fc.property(gated, fileName, (data, file) => check(data, file)),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'schemaVersion of any kind: only 1 is read, newer ones say to upgrade',
    () => {
      fc.assert(
        fc.property(oddJson, (version) => {
          const { error } = valueOrTypedError(() => parseResults({ ...small[0]!, schemaVersion: version }, 'r.json'));
          if (version === SCHEMA_VERSION) {
            expect(error).toBeNull();
            return;
          }
          expectRefusal(error, 'r.json');
          expect(error!.message).toContain('schemaVersion');
          if (typeof version === 'number' && version > SCHEMA_VERSION) expect(error!.message).toContain('upgrade');
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'structural mutations of recorded results files',
    () => {
      fc.assert(
        fc.property(
          fc.nat({ max: small.length - 1 }).chain((i) => mutatedJson(small[i], 4)),
          fileName,
          (data, file) => check(data, file),
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe('readResults on generated files', () => {
  // A thousand writes: on tmpfs where there is one (5× faster than /tmp on the CI machine's disk).
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'migbench-prop-results-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Records with their long lists cut to two entries: the text edits cost time per character.
  const trimmed = small
    .slice(0, 4)
    .map((d) => ({ ...d, records: d.records.map((r) => Object.fromEntries(Object.entries(r as object).map(([k, v]) => [k, Array.isArray(v) ? v.slice(0, 2) : v]))) }));
  const smallTexts = trimmed.map((d) => JSON.stringify(d, null, 1));

  test(
    'any text on disk: character-level edits of recorded files, random text',
    async () => {
      const path = join(dir, 'results.json');
      const text = fc.oneof(
        fc.nat({ max: smallTexts.length - 1 }).chain((i) => mutatedText(smallTexts[i]!, { max: 3 })),
        fc.string(),
        fc.string({ unit: 'binary' }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
      );
      await fc.assert(
        fc.asyncProperty(text, async (t) => {
          await writeFile(path, t);
          const { value, error } = await valueOrTypedErrorAsync(() => readResults(path));
          if (error) {
            expectRefusal(error, path);
            return;
          }
          expect(validateResultsSchema(value)).toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test('a missing file is a refusal that names it', async () => {
    const path = join(dir, 'nothing-here.json');
    await expect(readResults(path)).rejects.toMatchObject({ code: 'MB_RESULTS_INVALID', file: path });
  });
});
