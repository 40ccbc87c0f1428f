// Performance assertions on a migration record, registered with expect.extend.
// Each failure says what was measured, what the threshold was, and where it came from.
import type { Thresholds } from '../generated/config.js';
import type { MigrationRecord } from '../generated/results.js';
import { describeMetricValue, METRICS, type MetricName } from '../model/metrics.js';

interface MatcherResult {
  pass: boolean;
  message: () => string;
  actual?: unknown;
  expected?: unknown;
}

function isRecord(value: unknown): value is MigrationRecord {
  return typeof value === 'object' && value !== null && 'metrics' in value && 'integrity' in value && 'scenario' in value;
}

function notARecord(value: unknown): MatcherResult {
  return { pass: false, message: () => `expected a migbench migration record, got ${typeof value}` };
}

function label(record: MigrationRecord): string {
  return `${record.scenario} #${record.repetition} (${record.id})`;
}

/** `metric <= limit`, failing clearly when the metric was not measured. */
function atMost(received: unknown, metric: MetricName, limit: number, isNot: boolean): MatcherResult {
  if (!isRecord(received)) return notARecord(received);
  if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0) {
    return { pass: false, message: () => `threshold for ${metric} must be a positive number, got ${String(limit)}` };
  }
  const value = received.metrics[metric];
  const source = received.metricSources[metric];
  if (value === null) {
    const why = received.status !== 'completed' ? ` (migration ${received.status}: ${received.error?.message.split('\n')[0] ?? 'no error recorded'})` : '';
    return { pass: false, message: () => `${label(received)}: ${metric} was not measured${why}; threshold ${describeMetricValue(metric, limit)}` };
  }
  return {
    pass: value <= limit,
    actual: value,
    expected: limit,
    message: () =>
      `${label(received)}: ${METRICS[metric].label} (${metric}, from ${source ?? 'unknown source'}) measured ${describeMetricValue(metric, value)}, ` +
      `expected ${isNot ? 'above' : 'at most'} ${describeMetricValue(metric, limit)}`,
  };
}

const THRESHOLD_METRICS: ReadonlyArray<keyof Thresholds & MetricName> = [
  'totalTimeMs',
  'wallTimeMs',
  'downtimeMs',
  'observedDowntimeMs',
  'guestPauseMs',
  'setupTimeMs',
  'transferredBytes',
  'wireBytes',
  'iterations',
  'stopToResumeMs',
];

export const migbenchMatchers = {
  toCompleteMigration(this: { isNot: boolean }, received: unknown): MatcherResult {
    if (!isRecord(received)) return notARecord(received);
    return {
      pass: received.status === 'completed',
      actual: received.status,
      expected: 'completed',
      message: () =>
        received.status === 'completed'
          ? `${label(received)}: expected the migration not to complete, but it did`
          : `${label(received)}: migration ${received.status} in phase ${received.error?.phase ?? '?'}: ${received.error?.message ?? 'no error recorded'}`,
    };
  },

  /** The migrated guest runs, was not restarted, and its memory pattern verified clean. */
  toKeepGuestIntact(this: { isNot: boolean }, received: unknown): MatcherResult {
    if (!isRecord(received)) return notARecord(received);
    const i = received.integrity;
    // A disk the guest was given data on must read back intact too.
    const pass = i.guestAlive && !i.restarted && i.memoryIntact === true && i.diskIntact !== false && !(received.guest.diskDataMiB > 0 && i.diskIntact === null);
    return {
      pass,
      actual: i,
      message: () =>
        pass
          ? `${label(received)}: expected the guest not to stay intact, but it did (${i.pagesChecked} pages${i.blocksChecked !== null ? ` and ${i.blocksChecked} disk blocks` : ''} verified on the ${i.location})`
          : `${label(received)}: guest on the ${i.location} is not intact: ${i.problem ?? (i.memoryIntact === null ? 'memory could not be verified (no agent report)' : i.diskIntact === null ? 'disk could not be verified (no agent report)' : 'unknown problem')}`,
    };
  },

  toCompleteWithin(this: { isNot: boolean }, received: unknown, ms: number): MatcherResult {
    return atMost(received, 'totalTimeMs', ms, this.isNot);
  },
  toHaveDowntimeBelow(this: { isNot: boolean }, received: unknown, ms: number): MatcherResult {
    return atMost(received, 'downtimeMs', ms, this.isNot);
  },
  toHaveObservedDowntimeBelow(this: { isNot: boolean }, received: unknown, ms: number): MatcherResult {
    return atMost(received, 'observedDowntimeMs', ms, this.isNot);
  },
  toHaveGuestPauseBelow(this: { isNot: boolean }, received: unknown, ms: number): MatcherResult {
    return atMost(received, 'guestPauseMs', ms, this.isNot);
  },
  toTransferAtMost(this: { isNot: boolean }, received: unknown, bytes: number): MatcherResult {
    return atMost(received, 'transferredBytes', bytes, this.isNot);
  },
  toPutOnWireAtMost(this: { isNot: boolean }, received: unknown, bytes: number): MatcherResult {
    return atMost(received, 'wireBytes', bytes, this.isNot);
  },

  /** Every threshold the config sets for the scenario; lists each one exceeded. */
  toMeetThresholds(this: { isNot: boolean }, received: unknown, thresholds: Thresholds): MatcherResult {
    if (!isRecord(received)) return notARecord(received);
    const checks = THRESHOLD_METRICS.filter((m) => thresholds[m] !== undefined).map((m) => atMost(received, m, thresholds[m]!, false));
    if (checks.length === 0) return { pass: false, message: () => `${label(received)}: the scenario sets no thresholds, so nothing can be asserted` };
    const failed = checks.filter((c) => !c.pass);
    return {
      pass: failed.length === 0,
      message: () =>
        failed.length === 0
          ? `${label(received)}: expected some threshold to be exceeded, but all ${checks.length} held`
          : `${label(received)}: ${failed.length} of ${checks.length} thresholds exceeded:\n${failed.map((c) => `  - ${c.message()}`).join('\n')}`,
    };
  },
};

interface MigbenchMatchers<R = unknown> {
  /** The migration completed (not failed, not cancelled). */
  toCompleteMigration(): R;
  /** The guest runs on its new host, was not restarted, and its memory verified clean. */
  toKeepGuestIntact(): R;
  /** Hypervisor-reported total time at most `ms`. */
  toCompleteWithin(ms: number): R;
  /** Hypervisor-reported downtime at most `ms`. */
  toHaveDowntimeBelow(ms: number): R;
  /** Largest probe gap seen from the observer at most `ms`. */
  toHaveObservedDowntimeBelow(ms: number): R;
  /** Largest heartbeat gap at most `ms`. */
  toHaveGuestPauseBelow(ms: number): R;
  /** Hypervisor-reported bytes at most `bytes`. */
  toTransferAtMost(bytes: number): R;
  /** Bytes counted on the migration link at most `bytes`. */
  toPutOnWireAtMost(bytes: number): R;
  /** Every configured threshold holds. */
  toMeetThresholds(thresholds: Thresholds): R;
}

declare module 'vitest' {
  // An empty interface is how vitest's Matchers are extended (declaration merging).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-empty-object-type
  interface Matchers<T = any> extends MigbenchMatchers<T> {}
}
