// What each metric is, in which unit, and how it reads in a table or a failure message.
import type { Metrics } from '../generated/results.js';

export type MetricName = keyof Metrics;

export interface MetricInfo {
  /** Column heading. */
  readonly label: string;
  readonly unit: 'ms' | 'bytes' | 'count' | 'pages/s';
  /** Every migbench metric is smaller-is-better; kept explicit for comparisons. */
  readonly direction: 'smaller-is-better';
  /** Only some hypervisors report it: a table shows its column only where a record has it. */
  readonly optional?: boolean;
}

export const METRICS: Readonly<Record<MetricName, MetricInfo>> = {
  totalTimeMs: { label: 'total ms', unit: 'ms', direction: 'smaller-is-better' },
  wallTimeMs: { label: 'wall ms', unit: 'ms', direction: 'smaller-is-better' },
  setupTimeMs: { label: 'setup ms', unit: 'ms', direction: 'smaller-is-better' },
  downtimeMs: { label: 'downtime ms (reported)', unit: 'ms', direction: 'smaller-is-better' },
  downtimeNetMs: { label: 'downtime ms (reported, w/o network)', unit: 'ms', direction: 'smaller-is-better', optional: true },
  stopToResumeMs: { label: 'stop→resume ms', unit: 'ms', direction: 'smaller-is-better' },
  observedDowntimeMs: { label: 'downtime ms (observed)', unit: 'ms', direction: 'smaller-is-better' },
  guestPauseMs: { label: 'guest pause ms', unit: 'ms', direction: 'smaller-is-better' },
  transferredBytes: { label: 'transferred MiB', unit: 'bytes', direction: 'smaller-is-better' },
  wireBytes: { label: 'wire MiB', unit: 'bytes', direction: 'smaller-is-better' },
  iterations: { label: 'iterations', unit: 'count', direction: 'smaller-is-better' },
  dirtyRatePagesPerSec: { label: 'dirty pages/s', unit: 'pages/s', direction: 'smaller-is-better' },
  observedSwitchoverMs: { label: 'switchover gap ms (observed)', unit: 'ms', direction: 'smaller-is-better' },
  guestSwitchoverPauseMs: { label: 'switchover pause ms (guest)', unit: 'ms', direction: 'smaller-is-better' },
  mirrorTimeMs: { label: 'mirror ms', unit: 'ms', direction: 'smaller-is-better' },
  diskBytes: { label: 'disk copied MiB', unit: 'bytes', direction: 'smaller-is-better' },
  wireRamBytes: { label: 'wire RAM MiB', unit: 'bytes', direction: 'smaller-is-better' },
  wireDiskBytes: { label: 'wire disk MiB', unit: 'bytes', direction: 'smaller-is-better' },
};

/** Table order: time, the three views of downtime side by side, then data. */
export const METRIC_ORDER: readonly MetricName[] = [
  'totalTimeMs',
  'mirrorTimeMs',
  'wallTimeMs',
  'setupTimeMs',
  'downtimeMs',
  'downtimeNetMs',
  'stopToResumeMs',
  'observedDowntimeMs',
  'guestPauseMs',
  'observedSwitchoverMs',
  'guestSwitchoverPauseMs',
  'transferredBytes',
  'wireBytes',
  'diskBytes',
  'wireRamBytes',
  'wireDiskBytes',
  'iterations',
  'dirtyRatePagesPerSec',
];

/** The table's metric columns for these records: every metric, but optional ones only where measured. */
export function metricColumns(records: ReadonlyArray<{ readonly metrics: Readonly<Record<MetricName, number | null>> }>): MetricName[] {
  return METRIC_ORDER.filter((m) => !METRICS[m].optional || records.some((r) => r.metrics[m] !== null));
}

const MiB = 1024 * 1024;

/** A value for a table cell: ms to 0.1, bytes as MiB to 0.1, counts whole; "—" when not measured. */
export function formatMetricValue(name: MetricName, value: number | null): string {
  if (value === null) return '—';
  switch (METRICS[name].unit) {
    case 'ms':
      return value.toFixed(1);
    case 'bytes':
      return (value / MiB).toFixed(1);
    default:
      return String(Math.round(value));
  }
}

/** A value with its unit, for messages: "55.3 ms", "90.0 MiB (94371840 bytes)". */
export function describeMetricValue(name: MetricName, value: number | null): string {
  if (value === null) return 'not measured';
  switch (METRICS[name].unit) {
    case 'ms':
      return `${Number(value.toFixed(3))} ms`;
    case 'bytes':
      return `${Number((value / MiB).toFixed(3))} MiB (${value} bytes)`;
    case 'pages/s':
      return `${Math.round(value)} pages/s`;
    default:
      return String(value);
  }
}
