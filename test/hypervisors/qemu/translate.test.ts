import { describe, expect, test } from 'vitest';
import {
  formatQemuVersion,
  parseEnabledCapabilities,
  parseMigrationParameters,
  parseQueryMigrate,
  toQmpCapabilities,
  toQmpParameters,
} from '../../../src/hypervisors/qemu/translate.js';
import { loadTranscript } from '../../fakes/qmp-replay.js';

function replyTo(file: string, command: string, which: 'first' | 'last' = 'last'): unknown {
  const lines = loadTranscript(file);
  const ids = lines.filter((l) => l.direction === '>' && l.json.execute === command).map((l) => l.json.id);
  const id = which === 'first' ? ids[0] : ids.at(-1);
  return lines.find((l) => l.direction === '<' && l.json.id === id)!.json.return;
}

describe(parseQueryMigrate, () => {
  test('a completed migration recorded from QEMU 7.2', () => {
    const p = parseQueryMigrate(replyTo('migrate-completed.source.txt', 'query-migrate'));
    expect(p.status).toBe('completed');
    for (const key of ['totalTimeMs', 'downtimeMs', 'setupTimeMs', 'transferredBytes', 'iteration', 'pageSizeBytes'] as const) expect(p[key], key).toBeTypeOf('number');
    expect(p.totalTimeMs!).toBeGreaterThan(p.downtimeMs!);
    // ram.transferred = precopy-bytes + downtime-bytes (+ postcopy-bytes): QEMU's own accounting.
    expect(p.transferredBytes).toBe(p.precopyBytes! + p.downtimeBytes! + (p.postcopyBytes ?? 0));
    expect(p.expectedDowntimeMs).toBeNull();
    expect(p.errorDescription).toBeNull();
  });

  test('an active migration has remaining bytes and an expected downtime, and no downtime yet', () => {
    const active = loadTranscript('migrate-cancelled.source.txt')
      .filter((l) => l.direction === '<' && (l.json.return as { status?: string } | undefined)?.status === 'active')
      .map((l) => parseQueryMigrate(l.json.return));
    expect(active.length).toBeGreaterThan(2);
    const last = active.at(-1)!;
    expect(last.remainingBytes!).toBeGreaterThan(0);
    expect(last.downtimeMs).toBeNull();
    expect(last.bandwidthMbps!).toBeGreaterThan(0);
  });

  test('a failed migration keeps QEMU’s reason', () => {
    const p = parseQueryMigrate(replyTo('migrate-failed.source.txt', 'query-migrate'));
    expect(p).toMatchObject({ status: 'failed', errorDescription: "Failed to connect to '10.78.0.12:1': Connection refused", transferredBytes: null });
  });

  test('tolerates missing or odd fields', () => {
    expect(parseQueryMigrate({})).toMatchObject({ status: 'none', totalTimeMs: null, transferredBytes: null });
    expect(parseQueryMigrate(null).status).toBe('none');
    expect(parseQueryMigrate({ status: 'active', ram: { transferred: 'x', 'dirty-pages-rate': Infinity } })).toMatchObject({ transferredBytes: null, dirtyRatePagesPerSec: null });
  });
});

describe('migration parameters and capabilities', () => {
  test('QEMU 7.2 defaults, in migbench units', () => {
    expect(parseMigrationParameters(replyTo('migrate-completed.source.txt', 'query-migrate-parameters'))).toEqual({
      downtimeLimitMs: 300,
      maxBandwidthMiBps: 128,
      multifdChannels: 2,
      xbzrleCacheMiB: 64,
      cpuThrottleInitialPercent: 20,
      cpuThrottleIncrementPercent: 10,
      maxCpuThrottlePercent: 99,
      announceInitialMs: 50,
      announceMaxMs: 550,
      announceRounds: 5,
      announceStepMs: 100,
    });
    expect(parseEnabledCapabilities(replyTo('migrate-completed.source.txt', 'query-migrate-capabilities'))).toEqual(['events']);
  });

  test('scenario knobs become QMP arguments; unset knobs keep QEMU defaults', () => {
    expect(toQmpParameters({})).toEqual({});
    expect(toQmpParameters({ downtimeLimitMs: 50, maxBandwidthMiBps: 1024, multifdChannels: 4, xbzrleCacheMiB: 32 })).toEqual({
      'downtime-limit': 50,
      'max-bandwidth': 1073741824,
      'multifd-channels': 4,
      'xbzrle-cache-size': 33554432,
    });
    expect(toQmpCapabilities({})).toEqual([{ capability: 'events', state: true }]);
    expect(toQmpCapabilities({ autoConverge: true, multifdChannels: 2, xbzrleCacheMiB: 8 }).map((c) => c.capability)).toEqual(['events', 'auto-converge', 'multifd', 'xbzrle']);
  });

  test('version string', () => {
    const greeting = loadTranscript('migrate-completed.source.txt')[0]!.json.QMP as { version: unknown };
    expect(formatQemuVersion(greeting.version)).toBe('QEMU 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)');
  });
});
