import { readFileSync } from 'node:fs';
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
} from '../../../src/hypervisors/libvirt/translate.js';
import { projectPath } from '../../../src/model/paths.js';

const fixture = (name: string) => readFileSync(projectPath('fixtures/libvirt', name), 'utf8');

describe('job statistics', () => {
  const text = fixture('domjobinfo-completed-rawstats.destination.txt');

  test('domjobinfo --rawstats: job type and every raw field', () => {
    expect(jobType(text)).toBe('completed');
    const stats = parseRawJobStats(text);
    expect(stats).toMatchObject({ time_elapsed: 1549, downtime: 237, downtime_net: 235, memory_processed: 95930212, memory_iteration: 3, disk_total: 0 });
  });

  test("translated once into migbench's names", () => {
    expect(toFigures(parseRawJobStats(text))).toEqual({
      totalTimeMs: 1549,
      totalTimeNetMs: 1547,
      downtimeMs: 237,
      downtimeNetMs: 235,
      setupTimeMs: 2,
      transferredBytes: 95930212,
      dataBytes: 95930212,
      iterations: 3,
      dirtyRatePagesPerSec: 0,
      // No disk in a memory migration: not 0 bytes copied, nothing copied at all.
      diskBytes: null,
    });
  });

  test('missing fields are not measured, never zero', () => {
    expect(toFigures({})).toMatchObject({ totalTimeMs: null, downtimeMs: null, transferredBytes: null, diskBytes: null });
    expect(jobType('Job type: 0')).toBe('none');
    expect(jobType('garbage')).toBe('unknown');
  });

  test('a progress sample: bandwidth in 10^6 bit/s', () => {
    expect(toProgress({ memory_processed: 10, memory_remaining: 5, memory_total: 15, memory_bps: 135960298, memory_iteration: 2 }, 12.3456, 'active')).toEqual({
      tMs: 12.346,
      status: 'active',
      transferredBytes: 10,
      remainingBytes: 5,
      totalBytes: 15,
      dirtyRatePagesPerSec: null,
      bandwidthMbps: 1087.682,
      iteration: 2,
      expectedDowntimeMs: null,
    });
  });
});

// Found by test/properties/virsh.prop.test.ts: 308 digits of memory_bps gave Infinity.
test('a bandwidth too large for a double is not measured, never Infinity', () => {
  expect(toProgress({ memory_bps: 3e307 }, 0, 'active').bandwidthMbps).toBeNull();
  expect(toProgress(parseRawJobStats(`memory_bps: 3${'0'.repeat(307)}`), 0, 'active').bandwidthMbps).toBeNull();
  expect(toProgress({ memory_bps: 1e300 }, 0, 'active').bandwidthMbps).toBe(8e294);
});

describe('virsh event --loop --timestamp', () => {
  test('lifecycle, iteration and block-job events, and the job-completed statistics that follow their event', () => {
    const reader = new VirshEventReader();
    for (const line of fixture('event-storage.source.txt').split('\n')) reader.push(line);
    const kinds = reader.events.map((e) => e.kind);
    expect(kinds).toContain('block-job');
    expect(kinds).toContain('migration-iteration');
    const completed = reader.events.filter((e) => e.kind === 'job-completed');
    expect(completed).toHaveLength(2);
    expect(completed[0]!.stats).toMatchObject({ time_elapsed: 2263, downtime: 119, disk_total: 268435456, disk_processed: 268435456 });
    expect(toFigures(completed[0]!.stats)).toMatchObject({ totalTimeMs: 2263, downtimeMs: 119, diskBytes: 268435456, transferredBytes: 96130954 });
    const suspended = reader.events.find((e) => e.detail === 'Suspended Migrated')!;
    expect(suspended).toMatchObject({ kind: 'lifecycle', domain: 'migbench-t4', epochMs: Date.UTC(2026, 11, 4, 14, 6, 6, 399) });
  });

  test('the destination: started, then resumed', () => {
    const reader = new VirshEventReader();
    for (const line of fixture('event-storage.destination.txt').split('\n')) reader.push(line);
    expect(reader.events.slice(0, 2).map((e) => e.detail)).toEqual(['Started Migrated', 'Resumed Migrated']);
  });

  test('timestamps with any offset; nonsense is not a time', () => {
    expect(parseVirshTimestamp('2026-12-04 15:06:06.399+0100')).toBe(Date.UTC(2026, 11, 4, 14, 6, 6, 399));
    expect(parseVirshTimestamp('yesterday')).toBeNull();
  });
});

describe('virsh qemu-monitor-event', () => {
  const events = (name: string) =>
    fixture(name)
      .split('\n')
      .map(parseQemuMonitorEvent)
      .filter((e) => e !== null);

  test("QMP events relayed by libvirt: the mirror job's states, STOP without data, migration states", () => {
    const source = events('qemu-monitor-event-storage.source.txt');
    expect(source.length).toBeGreaterThan(15);
    expect(source.find((e) => e.event === 'STOP')).toMatchObject({ data: {}, domain: 'migbench-mbac3f0b' });
    expect(source.filter((e) => e.event === 'JOB_STATUS_CHANGE').map((e) => e.data.status)).toEqual(expect.arrayContaining(['created', 'running', 'ready', 'concluded']));
    expect(source.at(-1)).toMatchObject({ event: 'MIGRATION', data: { status: 'completed' } });
    expect(parseQemuMonitorEvent('not an event')).toBeNull();
  });

  test("QEMU's own time, to the microsecond, not the time virsh read the event: the pause from the source's STOP to the destination's RESUME", () => {
    const stop = events('qemu-monitor-event-storage.source.txt').find((e) => e.event === 'STOP')!;
    const [resume] = events('qemu-monitor-event-resume.destination.txt');
    // Epoch milliseconds in a double keep about 0.2 µs.
    expect(stop.epochMs).toBeCloseTo(1796656907016.311, 3);
    expect(resume).toMatchObject({ event: 'RESUME', domain: 'migbench-mbac3f0b', data: {} });
    expect(resume!.epochMs).toBeCloseTo(1796656907088.388, 3);
    expect(resume!.epochMs - stop.epochMs).toBeCloseTo(72.077, 3);
    // What --timestamp prints is virsh's reading time: not this parser's input.
    expect(parseQemuMonitorEvent("2026-12-04 14:06:49.264+0000: event STOP for domain 'migbench-t4': <null>")).toBeNull();
  });

  // Found by test/properties/virsh.prop.test.ts.
  test('data that is not an object (an array) is no data', () => {
    expect(parseQemuMonitorEvent("event JOB_STATUS_CHANGE at 1796656905.627777 for domain 'migbench-t4': [{}]")).toMatchObject({ event: 'JOB_STATUS_CHANGE', data: {} });
  });

  // Found by test/properties/virsh.prop.test.ts (CI, stop 28), after the check was dropped as dead.
  test('a time too long to be a number is no event', () => {
    expect(parseQemuMonitorEvent(`event MIGRATION at ${'9'.repeat(400)}.028590 for domain 'migbench-t4': {"status":"pre-switchover"}`)).toBeNull();
  });
});

describe('other virsh output', () => {
  test('version', () => {
    expect(parseVirshVersion('Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.22\n')).toEqual({
      libvirt: '9.0.0',
      hypervisor: 'QEMU 7.2.22',
      text: 'libvirt 9.0.0, QEMU 7.2.22',
    });
  });

  test("libvirt's own message from stderr", () => {
    expect(virshError('error: Failed to create domain from /tmp/x.xml\nerror: internal error: Failed to reserve port 49300\n')).toBe(
      'Failed to create domain from /tmp/x.xml: internal error: Failed to reserve port 49300',
    );
    expect(virshError('')).toBe('no message');
    // Found by test/properties/virsh.prop.test.ts: a bare "error:" gave an empty message.
    expect(virshError('error: ')).toBe('error:');
    expect(virshError('error: \nerror: internal error: x\n')).toBe('internal error: x');
  });

  test('domstate --reason', () => {
    expect(parseDomState('running (migrated)\n\n')).toEqual({ state: 'running', reason: 'migrated' });
    expect(parseDomState('shut off (destroyed)')).toEqual({ state: 'shut off', reason: 'destroyed' });
    expect(parseDomState('paused')).toEqual({ state: 'paused', reason: null });
  });

  // Found by test/properties/virsh.prop.test.ts (a 100,000-case soak): a line of blanks was a state.
  test('domstate: a line of blanks is not a state', () => {
    expect(parseDomState(':running (migrated)\n \n:')).toEqual({ state: 'unknown', reason: null });
    expect(parseDomState('garbage\n  \n')).toEqual({ state: 'garbage', reason: null });
  });
});
