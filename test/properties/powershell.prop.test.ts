// PowerShell for Hyper-V on generated input: psQuote's literals read back, by PowerShell's
// own rules, as exactly the value quoted; the script's trip through -EncodedCommand is
// lossless; and the translations of what the scripts print (src/hypervisors/hyperv/driver.ts) take any
// JSON (HypervHypervisor.ps returns whatever ConvertTo-Json printed, unchecked) and give
// well-formed figures or a MigbenchError.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { blackoutMs, toInterfaceCounters, toJobStatus, toLiveMigrationCounters } from '../../src/hypervisors/hyperv/driver.js';
import { decodeEncodedCommand, powershellArgv, psQuote } from '../../src/exec/quote.js';
import { expectFiniteOrNull, mutatedJson, oddJson, oddString, RUNS, TIMEOUT, valueOrTypedError } from './arbitraries.js';

/** PowerShell's single quotes: the ASCII one and the typographic U+2018..U+201B. */
const QUOTES = new Set(["'", '\u2018', '\u2019', '\u201A', '\u201B']);

/**
 * How PowerShell's tokenizer reads a single-quoted literal (ScanStringLiteral): after the
 * opening quote, any quote character followed by any quote character is one literal quote
 * (the second), any other quote character ends the string. Returns the value and how many
 * characters the literal took.
 */
function readSingleQuoted(text: string): { value: string; length: number } {
  if (!QUOTES.has(text[0]!)) throw new Error('not a single-quoted literal');
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (QUOTES.has(c)) {
      if (i + 1 < text.length && QUOTES.has(text[i + 1]!)) {
        value += text[i + 1];
        i++;
        continue;
      }
      return { value, length: i + 1 };
    }
    value += c;
  }
  throw new Error('unterminated literal');
}

/** Text with PowerShell's quote characters and what else a shell might trip on. */
const hostile = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc
    .array(fc.constantFrom("'", '\u2018', '\u2019', '\u201A', '\u201B', '"', '`', '$', '(', ')', ';', '\n', ' ', 'a', '\u201C', '\u201D', '\uD800'), { maxLength: 20 })
    .map((cs) => cs.join('')),
);

describe(psQuote, () => {
  test(
    'any string without NUL is one literal that PowerShell reads back as exactly that string',
    () => {
      fc.assert(
        fc.property(
          hostile.map((s) => s.replaceAll('\0', '')),
          (value) => {
            const literal = psQuote(value);
            expect(literal.startsWith("'") && literal.endsWith("'")).toBe(true);
            // The literal ends where psQuote says it does, so a script can go on after it.
            expect(readSingleQuoted(literal)).toEqual({ value, length: literal.length });
            expect(readSingleQuoted(`${literal} -AsJob`)).toEqual({ value, length: literal.length });
            // And the rule the brief states: strip the outer quotes, undouble the quote characters.
            expect(literal.slice(1, -1).replace(/(['\u2018\u2019\u201A\u201B])\1/g, '$1')).toBe(value);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'a string with NUL is refused',
    () => {
      fc.assert(
        fc.property(hostile, hostile, (before, after) => {
          expect(() => psQuote(`${before}\0${after}`)).toThrow(/NUL/);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    '-EncodedCommand carries any script unchanged, in one base64 argv element',
    () => {
      fc.assert(
        fc.property(hostile, (script) => {
          const argv = powershellArgv(script);
          expect(argv).toHaveLength(5);
          expect(argv[4]).toMatch(/^[A-Za-z0-9+/]*=*$/);
          expect(decodeEncodedCommand(argv[4]!)).toBe(script);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

// What the scripts print in the stand-in (fixtures/hyperv/answers.json, constructed), as parsed JSON.
const running = {
  state: 'Running',
  begin: '2026-12-04T14:00:00.2000000Z',
  end: null,
  reason: null,
  percent: 60,
  migrationJobState: 4,
  liveMigration: [
    { Name: 'other-vm', MemoryWalkerUncompressedBytesSent: 5, CompressorCompressedBytesSent: 0, SMBTransportBytesSent: 0, TransferPassNumber: 1 },
    { Name: 'web-01', MemoryWalkerUncompressedBytesSent: 2147483648, CompressorCompressedBytesSent: 52428800, SMBTransportBytesSent: 0, TransferPassNumber: 4 },
  ],
};
const completed = {
  state: 'Completed',
  begin: '2026-12-04T14:00:00.2000000Z',
  end: '2026-12-04T14:00:06.7000000Z',
  reason: null,
  percent: 100,
  migrationJobState: 7,
  liveMigration: [],
};
const failed = { state: 'Failed', begin: '2026-12-04T14:00:00.2000000Z', end: '2026-12-04T14:00:01.0000000Z', reason: 'The operation failed.', percent: 3, liveMigration: null };
const adapter = { ReceivedBytes: 1048576, SentBytes: 2300000000, ReceivedUnicastPackets: 900, SentUnicastPackets: 1600000 };
const blackout = [
  { id: 20415, time: '2026-12-04T14:00:06.6000000Z', blackoutSeconds: 0.318 },
  { id: 20417, time: '2026-12-04T14:00:06.7000000Z', blackoutSeconds: 0.1 },
];

/** What ps() can hand over: a recorded answer mutated, or any JSON value at all. */
const from = (...recorded: unknown[]) => fc.oneof({ arbitrary: fc.nat({ max: recorded.length - 1 }).chain((i) => mutatedJson(recorded[i], 3)), weight: 3 }, oddJson);
const vmName = fc.oneof(fc.constantFrom('web-01', 'other-vm', ''), oddString);

function expectCounters(c: ReturnType<typeof toLiveMigrationCounters>): void {
  if (c === null) return;
  for (const key of ['transferredBytes', 'passes'] as const) {
    expect(typeof c[key]).toBe('number');
    expect(Number.isFinite(c[key]), `${key} = ${c[key]}`).toBe(true);
  }
}

describe('translations of what the scripts print', () => {
  test(
    'the job status: a state of four, finite times and percent, counters or null; else a MigbenchError',
    () => {
      fc.assert(
        fc.property(from(running, completed, failed), vmName, (raw, vm) => {
          const { value, error } = valueOrTypedError(() => toJobStatus(raw as Record<string, unknown>, vm));
          if (error) {
            expect(error.code).toBe('MB_HYPERV');
            return;
          }
          expect(['running', 'completed', 'failed', 'cancelled']).toContain(value.state);
          expectFiniteOrNull(value.beganAtMs, 'beganAtMs');
          expectFiniteOrNull(value.endedAtMs, 'endedAtMs');
          expectFiniteOrNull(value.percent, 'percent');
          expect(value.reason === null || (typeof value.reason === 'string' && value.reason !== '')).toBe(true);
          expectCounters(value.liveMigration);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'live-migration counters: finite figures or null, whatever the counter set held',
    () => {
      fc.assert(
        fc.property(from(running.liveMigration, running.liveMigration[1], []), vmName, (raw, vm) => {
          expectCounters(valueOrTypedError(() => toLiveMigrationCounters(raw, vm)).value);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'the blackout: the longest, in finite ms, or null',
    () => {
      fc.assert(
        fc.property(from(blackout, blackout[0], []), (raw) => {
          expectFiniteOrNull(valueOrTypedError(() => blackoutMs(raw)).value, 'blackoutMs');
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'adapter statistics: four non-negative safe integers, or MB_PROBE naming the adapter',
    () => {
      fc.assert(
        fc.property(from(adapter), vmName, (raw, name) => {
          const { value, error } = valueOrTypedError(() => toInterfaceCounters(raw as Record<string, unknown>, name));
          if (error) {
            expect(error.code).toBe('MB_PROBE');
            expect(error.message).toContain(JSON.stringify(name));
            return;
          }
          for (const v of Object.values(value)) expect(Number.isSafeInteger(v) && v >= 0, String(v)).toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
