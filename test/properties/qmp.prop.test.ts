// QMP reply parsing (src/hypervisors/qemu/qmp.ts parseQmpLine, src/hypervisors/qemu/translate.ts) on generated
// input: any line, any JSON object, mutations of the replies and events recorded from QEMU
// 7.2 (fixtures/qmp/). A message of the documented shape, or a MigbenchError
// (MB_QMP_PROTOCOL); every number in a translation finite or null.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseQmpLine, type QmpMessage } from '../../src/hypervisors/qemu/qmp.js';
import { formatQemuVersion, parseBlockJob, parseEnabledCapabilities, parseMigrationParameters, parseQueryMigrate, toQmpParameters } from '../../src/hypervisors/qemu/translate.js';
import { projectPath } from '../../src/model/paths.js';
import { loadTranscript } from '../fakes/qmp-replay.js';
import { expectFiniteOrNull, mutatedJson, mutatedText, oddJson, oddString, RUNS, TIMEOUT, valueOrTypedError } from './arbitraries.js';

const FILES = [
  'migrate-completed.source.txt',
  'migrate-completed.destination.txt',
  'migrate-failed.source.txt',
  'migrate-cancelled.source.txt',
  'migrate-cancelled.destination.txt',
  'migrate-completed-early.source.txt',
];
const received = FILES.flatMap((f) => loadTranscript(f).filter((l) => l.direction === '<'));
const lines = received.map((l) => l.text);
const messages = received.map((l) => l.json);
/** The `return` of every recorded reply, by what it answers (matched on the reply's id). */
const repliesTo = (command: string): unknown[] =>
  FILES.flatMap((f) => {
    const t = loadTranscript(f);
    const ids = new Set(t.filter((l) => l.direction === '>' && l.json.execute === command).map((l) => l.json.id));
    return t.filter((l) => l.direction === '<' && ids.has(l.json.id) && 'return' in l.json).map((l) => l.json.return);
  });
const queryMigrate = repliesTo('query-migrate');
const parameters = repliesTo('query-migrate-parameters');
const capabilities = repliesTo('query-migrate-capabilities');
/** Block jobs as QEMU reported them in the lab (relayed by libvirt: the QMP transcripts have no storage migration). */
const blockJobs = readFileSync(projectPath('fixtures/libvirt/qemu-monitor-event-storage.source.txt'), 'utf8')
  .split('\n')
  .filter((l) => /^event BLOCK_JOB/.test(l))
  .map((l) => JSON.parse(l.slice(l.indexOf("': {") + 3)) as unknown);

const isPlainObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The shape QmpMessage documents. */
function expectMessage(m: QmpMessage): void {
  switch (m.kind) {
    case 'greeting':
      for (const part of ['major', 'minor', 'micro'] as const) {
        expect(typeof m.greeting.version.qemu[part], part).toBe('number');
        expect(Number.isFinite(m.greeting.version.qemu[part]), part).toBe(true);
      }
      expect(typeof m.greeting.version.package).toBe('string');
      expect(Array.isArray(m.greeting.capabilities)).toBe(true);
      for (const c of m.greeting.capabilities) expect(typeof c).toBe('string');
      return;
    case 'return':
      expect(m.id === undefined || typeof m.id === 'string').toBe(true);
      expect('value' in m).toBe(true);
      return;
    case 'error':
      expect(m.id === undefined || typeof m.id === 'string').toBe(true);
      expect(typeof m.errorClass).toBe('string');
      expect(typeof m.desc).toBe('string');
      return;
    case 'event':
      expect(typeof m.event.event).toBe('string');
      expect(isPlainObject(m.event.data)).toBe(true);
      expect(Number.isFinite(m.event.epochMs), `epochMs ${m.event.epochMs}`).toBe(true);
      return;
    default:
      throw new Error(`unknown kind ${JSON.stringify(m)}`);
  }
}

/** The property for parseQmpLine: a well-formed message or a protocol error. */
function checkLine(line: string): void {
  const { value, error } = valueOrTypedError(() => parseQmpLine(line));
  if (error) {
    expect(error.code).toBe('MB_QMP_PROTOCOL');
    return;
  }
  expectMessage(value);
}

/** An object with QMP's keys, each present or not, each of any JSON type. */
const qmpish = fc.record(
  {
    QMP: fc.oneof(
      oddJson,
      fc.record({
        version: fc.oneof(oddJson, fc.record({ qemu: fc.oneof(oddJson, fc.record({ major: oddJson, minor: oddJson, micro: oddJson })), package: oddJson })),
        capabilities: oddJson,
      }),
    ),
    return: oddJson,
    error: fc.oneof(oddJson, fc.record({ class: oddJson, desc: oddJson }, { requiredKeys: [] })),
    event: fc.oneof(oddString, oddJson),
    timestamp: fc.oneof(oddJson, fc.record({ seconds: oddJson, microseconds: oddJson }, { requiredKeys: [] })),
    data: oddJson,
    id: oddJson,
  },
  { requiredKeys: [] },
);

/** JSON text as QEMU would not write it: numbers beyond double range come back as Infinity. */
const toLine = (v: unknown) => JSON.stringify(v).replace(/"__inf__"/g, '1e400');

describe('parseQmpLine on generated input', () => {
  test('every recorded line parses (the generators start from valid input)', () => {
    for (const line of lines) expectMessage(parseQmpLine(line));
  });

  test(
    'any text: random strings and character-level edits of recorded lines',
    () => {
      const edited = fc.nat({ max: lines.length - 1 }).chain((i) => mutatedText(lines[i]!, { max: 3 }));
      fc.assert(
        fc.property(fc.oneof(edited, oddString, fc.string({ unit: 'binary' })), (line) => checkLine(line)),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "objects with QMP's keys in any combination and of any type",
    () => {
      fc.assert(
        fc.property(qmpish, fc.boolean(), (message, infinite) =>
          checkLine(infinite ? toLine({ ...message, timestamp: { seconds: '__inf__', microseconds: 0 } }) : toLine(message)),
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'structural mutations of recorded replies and events',
    () => {
      fc.assert(
        fc.property(
          fc.nat({ max: messages.length - 1 }).chain((i) => mutatedJson(messages[i], 3)),
          (message) => checkLine(toLine(message)),
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'keys QMP does not define are ignored, as the protocol asks of clients',
    () => {
      const known = new Set(['QMP', 'return', 'error', 'event', 'timestamp', 'data', 'id']);
      const extra = fc.dictionary(
        fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !known.has(k) && k !== '__proto__'),
        fc.jsonValue({ maxDepth: 2 }),
        { minKeys: 1, maxKeys: 4 },
      );
      fc.assert(
        fc.property(fc.nat({ max: messages.length - 1 }), extra, (i, more) => {
          const original = messages[i]!;
          expect(parseQmpLine(JSON.stringify({ ...more, ...original }))).toEqual(parseQmpLine(lines[i]!));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

const MIGRATION_NUMBERS = [
  'totalTimeMs',
  'downtimeMs',
  'expectedDowntimeMs',
  'setupTimeMs',
  'transferredBytes',
  'remainingBytes',
  'totalBytes',
  'duplicatePages',
  'normalPages',
  'normalBytes',
  'dirtyRatePagesPerSec',
  'bandwidthMbps',
  'iteration',
  'pageSizeBytes',
  'precopyBytes',
  'downtimeBytes',
  'postcopyBytes',
  'multifdBytes',
  'cpuThrottlePercent',
] as const;
const PARAMETER_KEYS = new Set([
  'downtimeLimitMs',
  'maxBandwidthMiBps',
  'multifdChannels',
  'xbzrleCacheMiB',
  'cpuThrottleInitialPercent',
  'cpuThrottleIncrementPercent',
  'maxCpuThrottlePercent',
  'announceInitialMs',
  'announceMaxMs',
  'announceRounds',
  'announceStepMs',
]);

/** A recorded reply, mutated, or any value at all (what QMP returns is not checked before translation). */
const replyFrom = (recorded: readonly unknown[]) =>
  fc.oneof(
    fc.nat({ max: recorded.length - 1 }).chain((i) => mutatedJson(recorded[i], 3)),
    oddJson,
    fc.anything({ maxDepth: 2 }),
  );

describe('QMP translations on generated replies', () => {
  test(
    'query-migrate: a status, every figure finite or null, the error a string or null',
    () => {
      fc.assert(
        fc.property(replyFrom(queryMigrate), (reply) => {
          const p = valueOrTypedError(() => parseQueryMigrate(reply)).value!;
          expect(typeof p.status).toBe('string');
          for (const key of MIGRATION_NUMBERS) expectFiniteOrNull(p[key], key);
          expect(p.errorDescription === null || typeof p.errorDescription === 'string').toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "query-migrate: QEMU's finite figures are passed through unchanged, whatever else the reply holds",
    () => {
      const figure = fc.oneof(fc.nat(), fc.double({ noNaN: true, noDefaultInfinity: true, min: 0 }));
      fc.assert(
        fc.property(fc.nat({ max: queryMigrate.length - 1 }), figure, figure, fc.string(), (i, total, transferred, status) => {
          const reply = structuredClone(queryMigrate[i]) as Record<string, unknown>;
          reply['total-time'] = total;
          reply.status = status;
          reply.ram = { ...(reply.ram as object), transferred };
          const p = parseQueryMigrate(reply);
          expect(p).toMatchObject({ totalTimeMs: total, transferredBytes: transferred, status });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'query-migrate-parameters: known keys only, finite numbers; knobs round-trip through migrate-set-parameters',
    () => {
      fc.assert(
        fc.property(replyFrom(parameters), (reply) => {
          const p = valueOrTypedError(() => parseMigrationParameters(reply)).value!;
          for (const [key, value] of Object.entries(p)) {
            expect(PARAMETER_KEYS.has(key), key).toBe(true);
            expect(Number.isFinite(value), `${key} = ${value}`).toBe(true);
          }
        }),
        { numRuns: RUNS },
      );
      const knobs = fc.record(
        {
          downtimeLimitMs: fc.integer({ min: 1, max: 2 ** 31 }),
          maxBandwidthMiBps: fc.integer({ min: 1, max: 2 ** 20 }),
          multifdChannels: fc.integer({ min: 1, max: 255 }),
          xbzrleCacheMiB: fc.integer({ min: 1, max: 2 ** 20 }),
        },
        { requiredKeys: [] },
      );
      fc.assert(
        fc.property(knobs, (k) => {
          expect(parseMigrationParameters(toQmpParameters(k))).toEqual(k);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'capabilities, block jobs and the version: well-formed whatever the reply',
    () => {
      fc.assert(
        fc.property(replyFrom(capabilities), replyFrom(blockJobs), oddJson, (caps, job, version) => {
          const enabled = parseEnabledCapabilities(caps);
          expect(enabled).toEqual([...enabled].sort());
          for (const c of enabled) expect(typeof c).toBe('string');
          const b = parseBlockJob(job);
          expectFiniteOrNull(b.lenBytes, 'lenBytes');
          expectFiniteOrNull(b.offsetBytes, 'offsetBytes');
          expect(b.jobId === null || typeof b.jobId === 'string').toBe(true);
          expect(b.ready === null || typeof b.ready === 'boolean').toBe(true);
          expect(formatQemuVersion(version)).toMatch(/^QEMU (\d[\d.e+-]*|\?)\.(\d[\d.e+-]*|\?)\.(\d[\d.e+-]*|\?)( \(.*\))?$/s);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
