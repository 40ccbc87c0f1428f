// The results file: written after every finished migration (atomically, so a crash or
// a kill leaves a valid file holding every record measured so far), and read back
// with its schema version and content checked.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputFileError, MigbenchError } from './errors.js';
import type { MigrationRecord, ResultsFile } from '../generated/results.js';
import { schemaIssues, validateRecordSchema, validateResultsSchema } from './schema.js';
import { gitSha, MIGBENCH_VERSION } from './version.js';

export const SCHEMA_VERSION = 1;
export const RESULTS_FILE = 'results.json';

export class ResultsWriter {
  private results: ResultsFile;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    config: ResultsFile['config'],
  ) {
    const now = new Date().toISOString();
    this.results = { schemaVersion: SCHEMA_VERSION, migbenchVersion: MIGBENCH_VERSION, gitSha: gitSha(), startedAt: now, updatedAt: now, config, records: [] };
  }

  /** Starts a new results file in `dir` (replacing an older one there). */
  static async create(dir: string, config: ResultsFile['config']): Promise<ResultsWriter> {
    await mkdir(dir, { recursive: true });
    const writer = new ResultsWriter(join(dir, RESULTS_FILE), config);
    await writer.flush();
    return writer;
  }

  get records(): readonly MigrationRecord[] {
    return this.results.records;
  }

  /** Adds one record; appends are serialised, each one leaves a complete valid file. */
  append(record: MigrationRecord): Promise<void> {
    if (!validateRecordSchema(record)) {
      const issues = schemaIssues(validateRecordSchema.errors, record);
      return Promise.reject(
        new MigbenchError('MB_RESULTS_INVALID', `record ${record.id} does not match the results schema: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`),
      );
    }
    const next = this.queue.then(async () => {
      this.results = { ...this.results, updatedAt: new Date().toISOString(), records: [...this.results.records, record] };
      await this.flush();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async flush(): Promise<void> {
    const tmp = `${this.path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, `${JSON.stringify(this.results, null, 2)}\n`);
    await rename(tmp, this.path);
  }
}

/** Validates parsed JSON as a results file; `file` names it in errors. */
export function parseResults(data: unknown, file: string): ResultsFile {
  const version = typeof data === 'object' && data !== null ? (data as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (version !== SCHEMA_VERSION) {
    const found = version === undefined ? 'no schemaVersion' : `schemaVersion ${JSON.stringify(version)}`;
    const hint = typeof version === 'number' && version > SCHEMA_VERSION ? ' (written by a newer migbench: upgrade to read it)' : '';
    throw new InputFileError('MB_RESULTS_INVALID', file, [{ path: 'schemaVersion', message: `expected ${SCHEMA_VERSION}, found ${found}${hint}` }]);
  }
  if (!validateResultsSchema(data)) throw new InputFileError('MB_RESULTS_INVALID', file, schemaIssues(validateResultsSchema.errors, data));
  return data as ResultsFile;
}

export async function readResults(path: string): Promise<ResultsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputFileError('MB_RESULTS_INVALID', path, [{ path: '', message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }], error);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InputFileError('MB_RESULTS_INVALID', path, [{ path: '', message: `not JSON: ${(error as Error).message}` }], error);
  }
  return parseResults(data, path);
}

/**
 * Combines results files of one config (shards of a job matrix) into one; refuses files
 * from different configs or schema versions, naming them.
 */
export async function mergeResults(outDir: string, paths: readonly string[]): Promise<ResultsWriter> {
  const files = await Promise.all(paths.map(async (p) => ({ path: p, results: await readResults(p) })));
  const first = files[0]!;
  for (const f of files) {
    if (f.results.config.sha256 !== first.results.config.sha256) {
      throw new InputFileError('MB_RESULTS_INVALID', f.path, [
        {
          path: 'config.sha256',
          message: `measured with another config than ${first.path} (${f.results.config.sha256.slice(0, 12)} vs ${first.results.config.sha256.slice(0, 12)}): shards must share one config`,
        },
      ]);
    }
  }
  const writer = await ResultsWriter.create(outDir, first.results.config);
  for (const f of files) for (const record of f.results.records) await writer.append(record);
  return writer;
}

/** A results file, or a folder holding results.json (how every command takes results). */
export async function resultsPath(path: string): Promise<string> {
  const info = await stat(path).catch(() => null);
  return info?.isDirectory() ? join(path, RESULTS_FILE) : path;
}
