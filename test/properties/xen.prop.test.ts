// XenAPI translations (src/hypervisors/xen/client.ts toXenTask, parseXenDateTime) on generated input:
// a task record is whatever task.get_record's JSON-RPC result held (the client does not check
// it). A task of the documented shape or a MigbenchError; datetimes round-trip.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseXenDateTime, toXenTask } from '../../src/hypervisors/xen/client.js';
import { mutatedJson, oddJson, RUNS, TIMEOUT, valueOrTypedError } from './arbitraries.js';

// Records as test/hypervisors/xen/client.test.ts and the fake XAPI have them.
const RECORDS = [
  {
    status: 'failure',
    progress: 0.4,
    created: '20261204T14:00:00Z',
    finished: '19700101T00:00:00Z',
    result: '',
    error_info: ['VM_MIGRATE_FAILED', 'OpaqueRef:v', 'OpaqueRef:h', 'timeout'],
  },
  { status: 'success', progress: 1, created: '20261204T14:00:00Z', finished: '20261204T14:00:07Z', result: 'OpaqueRef:vm', error_info: [] },
  { status: 'pending', progress: 0.25, created: '2026-12-04T14:00:00.250Z', finished: '19700101T00:00:00Z', result: '', error_info: [] },
];
const STATUSES = ['pending', 'success', 'failure', 'cancelling', 'cancelled'];

describe(toXenTask, () => {
  test(
    'any record: a status of five, a finite progress, finite times or null, strings; or MB_XENAPI',
    () => {
      const record = fc.oneof({ arbitrary: fc.nat({ max: RECORDS.length - 1 }).chain((i) => mutatedJson(RECORDS[i], 3)), weight: 3 }, oddJson);
      fc.assert(
        fc.property(record, (r) => {
          const { value, error } = valueOrTypedError(() => toXenTask(r as Record<string, unknown>));
          if (error) {
            expect(error.code).toBe('MB_XENAPI');
            return;
          }
          expect(STATUSES).toContain(value.status);
          expect(Number.isFinite(value.progress), String(value.progress)).toBe(true);
          for (const t of [value.createdAtMs, value.finishedAtMs]) expect(t === null || (Number.isFinite(t) && t > 0)).toBe(true);
          expect(typeof value.result).toBe('string');
          for (const e of value.errorInfo) expect(typeof e).toBe('string');
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe(parseXenDateTime, () => {
  test(
    "any instant after the epoch reads back in XenAPI's basic form and in ISO form; anything else is a positive time or null",
    () => {
      const pad = (n: number, w = 2) => String(n).padStart(w, '0');
      fc.assert(
        fc.property(fc.integer({ min: 1000, max: Date.UTC(9999, 11, 31) }), oddJson, (ms, junk) => {
          const d = new Date(Math.floor(ms / 1000) * 1000);
          const basic = `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
          expect(parseXenDateTime(basic), basic).toBe(d.getTime());
          expect(parseXenDateTime(new Date(ms).toISOString())).toBe(ms);
          const t = parseXenDateTime(junk);
          expect(t === null || (Number.isFinite(t) && t > 0)).toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
