// virsh output parsing (src/hypervisors/libvirt/translate.ts) on generated input: any text, and
// mutations of the real virsh 9.0 output in fixtures/libvirt/. Nothing throws; every figure
// is finite or null; times and statistics that virsh prints round-trip.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  jobType,
  parseDomState,
  parseQemuMonitorEvent,
  parseRawJobStats,
  parseVirshTimestamp,
  parseVirshVersion,
  toFigures,
  toProgress,
  VirshEventReader,
  virshError,
} from '../../src/hypervisors/libvirt/translate.js';
import { projectPath } from '../../src/model/paths.js';
import { check, expectFiniteOrNull, mutatedText, oddJson, oddNumber, oddString, RUNS, TIMEOUT } from './arbitraries.js';

const fixture = (name: string) => readFileSync(projectPath('fixtures/libvirt', name), 'utf8');
const domjobinfo = fixture('domjobinfo-completed-rawstats.destination.txt');
const eventFiles = [fixture('event-storage.source.txt'), fixture('event-storage.destination.txt')];
const monitorEvents = fixture('qemu-monitor-event-storage.source.txt').split('\n').filter(Boolean);
const VERSION = 'Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.22\n';
const STDERR = 'error: Failed to create domain from /tmp/x.xml\nerror: internal error: Failed to reserve port 49300\n';
const DOMSTATES = ['running (migrated)\n\n', 'shut off (destroyed)', 'paused', 'paused (migrating)'];

/** Any text, weighted to edits of real output. */
const textFrom = (real: readonly string[]) =>
  fc.oneof({ arbitrary: fc.nat({ max: real.length - 1 }).chain((i) => mutatedText(real[i]!, { max: 4 })), weight: 3 }, oddString, fc.string({ unit: 'binary' }));

function expectStats(stats: Readonly<Record<string, number>>): void {
  for (const [key, value] of Object.entries(stats)) {
    check(/^[a-z_]+$/.test(key), () => `statistic name ${JSON.stringify(key)}`);
    check(typeof value === 'number' && !Number.isNaN(value), () => `${key} = ${value}: expected a number`);
  }
}

const FIGURES = [
  'totalTimeMs',
  'totalTimeNetMs',
  'downtimeMs',
  'downtimeNetMs',
  'setupTimeMs',
  'transferredBytes',
  'dataBytes',
  'iterations',
  'dirtyRatePagesPerSec',
  'diskBytes',
] as const;
const SAMPLE = ['tMs', 'transferredBytes', 'remainingBytes', 'totalBytes', 'dirtyRatePagesPerSec', 'bandwidthMbps', 'iteration', 'expectedDowntimeMs'] as const;

describe('job statistics (domjobinfo --rawstats, the job-completed event)', () => {
  test(
    'any text: statistics are named numbers, figures finite or null, the job type one of virDomainJobType',
    () => {
      fc.assert(
        fc.property(textFrom([domjobinfo, ...eventFiles]), fc.double({ min: 0, max: 1e9, noNaN: true }), (text, tMs) => {
          const stats = parseRawJobStats(text);
          expectStats(stats);
          expect(['none', 'bounded', 'unbounded', 'completed', 'failed', 'cancelled', 'unknown']).toContain(jobType(text));
          const figures = toFigures(stats);
          for (const key of FIGURES) expectFiniteOrNull(figures[key], key);
          if (!stats.disk_total) expect(figures.diskBytes).toBeNull();
          const sample = toProgress(stats, tMs, 'active');
          for (const key of SAMPLE) expectFiniteOrNull(sample[key], key);
          expect(sample.status).toBe('active');
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'any statistics at all (huge, negative, fractional, infinite): figures and progress finite or null',
    () => {
      const keys = [
        'time_elapsed',
        'time_elapsed_net',
        'downtime',
        'downtime_net',
        'setup_time',
        'memory_processed',
        'data_processed',
        'memory_iteration',
        'memory_dirty_rate',
        'disk_total',
        'disk_processed',
        'memory_bps',
        'memory_remaining',
        'memory_total',
      ];
      const number = fc.oneof(oddNumber, fc.nat());
      fc.assert(
        fc.property(fc.dictionary(fc.constantFrom(...keys), number), fc.double({ min: 0, max: 1e9, noNaN: true }), (stats, tMs) => {
          const figures = toFigures(stats);
          for (const key of FIGURES) expectFiniteOrNull(figures[key], key);
          const sample = toProgress(stats, tMs, 'active');
          for (const key of SAMPLE) expectFiniteOrNull(sample[key], key);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'statistics as virsh prints them round-trip, in either layout',
    () => {
      const name = fc.stringMatching(/^[a-z_]{1,24}$/).filter((k) => k !== '__proto__');
      const value = fc.oneof(
        fc.nat(),
        fc.maxSafeNat(),
        fc.integer({ min: -1000, max: -1 }),
        fc.integer({ min: 0, max: 1e6 }).map((n) => n / 1000),
      );
      fc.assert(
        fc.property(fc.dictionary(name, value, { maxKeys: 30 }), fc.integer({ min: 0, max: 5 }), fc.boolean(), (stats, type, event) => {
          const lines = Object.entries(stats).map(([k, v]) => (event ? `\t${k}: ${v}` : `${k}: ${v}`));
          const text = event ? lines.join('\n') : `Job type: ${type}\n\n${lines.join('\n')}\n`;
          expect(parseRawJobStats(text)).toEqual(stats);
          if (!event) expect(jobType(text)).toBe(['none', 'bounded', 'unbounded', 'completed', 'failed', 'cancelled'][type]);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe('events (virsh event, virsh qemu-monitor-event)', () => {
  test(
    'virsh event --loop --timestamp, line by line: events with finite times and numeric statistics',
    () => {
      const lines = eventFiles.flatMap((f) => f.split('\n'));
      const line = fc.oneof({ arbitrary: fc.nat({ max: lines.length - 1 }).chain((i) => mutatedText(lines[i]!, { max: 2 })), weight: 3 }, fc.constantFrom(...lines), oddString);
      fc.assert(
        fc.property(fc.array(line, { maxLength: 30 }), (pushed) => {
          const reader = new VirshEventReader();
          for (const l of pushed) reader.push(l);
          for (const e of reader.events) {
            check(Number.isFinite(e.epochMs), () => `epochMs ${e.epochMs}`);
            check(
              [e.kind, e.domain, e.detail].every((x) => typeof x === 'string'),
              () => `event ${JSON.stringify(e)}`,
            );
            expectStats(e.stats);
          }
          expect(reader.events.length).toBeLessThanOrEqual(pushed.length);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'virsh qemu-monitor-event: null, or an event with a finite time and an object of data',
    () => {
      const withPayload = fc
        .tuple(fc.nat({ max: monitorEvents.length - 1 }), oddJson)
        .map(([i, payload]) => `${monitorEvents[i]!.slice(0, monitorEvents[i]!.indexOf("': ") + 3)}${JSON.stringify(payload) ?? '<null>'}`);
      fc.assert(
        fc.property(fc.oneof(textFrom(monitorEvents), withPayload), (line) => {
          const e = parseQemuMonitorEvent(line);
          if (e === null) return;
          expect(Number.isFinite(e.epochMs)).toBe(true);
          expect(e.event).toMatch(/^\S+$/);
          expect(typeof e.domain).toBe('string');
          expect(typeof e.data === 'object' && e.data !== null && !Array.isArray(e.data), JSON.stringify(e.data)).toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'timestamps: any instant in any UTC offset reads back as that instant; anything else is a finite time or null',
    () => {
      const instant = fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9998, 11, 31) });
      const offsetMinutes = fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 });
      const pad = (n: number, w = 2) => String(n).padStart(w, '0');
      fc.assert(
        fc.property(instant, offsetMinutes, oddString, (ms, offset, junk) => {
          const local = new Date(ms + offset * 60_000);
          const sign = offset < 0 ? '-' : '+';
          const text = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}.${pad(local.getUTCMilliseconds(), 3)}${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
          expect(parseVirshTimestamp(text), text).toBe(ms);
          expectFiniteOrNull(parseVirshTimestamp(junk), junk);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe('other virsh output', () => {
  test(
    'version, stderr, domstate: strings, never a throw; an error message is never empty',
    () => {
      fc.assert(
        fc.property(textFrom([VERSION]), textFrom([STDERR, 'error: ', '']), textFrom(DOMSTATES), (version, stderr, domstate) => {
          const v = parseVirshVersion(version);
          expect(v.text).toBe([v.libvirt && `libvirt ${v.libvirt}`, v.hypervisor].filter(Boolean).join(', '));
          const message = virshError(stderr);
          expect(typeof message).toBe('string');
          expect(message.trim(), JSON.stringify(stderr)).not.toBe('');
          const s = parseDomState(domstate);
          expect(s.state).toMatch(/\S/);
          expect(s.reason === null || typeof s.reason === 'string').toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
