// virsh's words into migbench's: job statistics (libvirt's typed parameters, as
// `domjobinfo --rawstats` and the job-completed event print them), `virsh event` and
// `virsh qemu-monitor-event` lines, `virsh version`. Every libvirt field name is read
// here and nowhere else.
import type { HypervisorFigures } from '../hypervisor.js';
import type { ProgressSample } from '../../generated/results.js';

/** libvirt's job statistics by their raw names (time_elapsed, memory_processed, ...). */
export type JobStats = Readonly<Record<string, number>>;

/** `Job type: N` then `name: value` lines (domjobinfo --rawstats), or the event's tab-indented ones. */
export function parseRawJobStats(text: string): JobStats {
  const stats: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+):\s*(-?\d+(?:\.\d+)?)\s*$/.exec(line);
    if (m) stats[m[1]!] = Number(m[2]);
  }
  return stats;
}

/** virDomainJobType as domjobinfo --rawstats prints it (`Job type: 2`). */
export function jobType(text: string): 'none' | 'bounded' | 'unbounded' | 'completed' | 'failed' | 'cancelled' | 'unknown' {
  const m = /^Job type:\s*(\d+)/m.exec(text);
  return (['none', 'bounded', 'unbounded', 'completed', 'failed', 'cancelled'] as const)[Number(m?.[1] ?? -1)] ?? 'unknown';
}

const num = (stats: JobStats, key: string): number | null => (Number.isFinite(stats[key]) ? stats[key]! : null);

/** The figures libvirt reports for a finished migration (job-completed / domjobinfo --completed). */
export function toFigures(stats: JobStats): Pick<
  HypervisorFigures,
  'totalTimeMs' | 'downtimeMs' | 'setupTimeMs' | 'transferredBytes' | 'iterations' | 'dirtyRatePagesPerSec' | 'diskBytes'
> & {
  readonly downtimeNetMs: number | null;
  readonly totalTimeNetMs: number | null;
  readonly dataBytes: number | null;
} {
  return {
    totalTimeMs: num(stats, 'time_elapsed'),
    // time_elapsed_net and downtime_net subtract libvirt's estimate of the hosts' clock
    // difference; they are only as good as the hosts' clock sync.
    totalTimeNetMs: num(stats, 'time_elapsed_net'),
    downtimeMs: num(stats, 'downtime'),
    downtimeNetMs: num(stats, 'downtime_net'),
    setupTimeMs: num(stats, 'setup_time'),
    // RAM only, like QEMU's ram.transferred; the disk copy is diskBytes, both are dataBytes.
    transferredBytes: num(stats, 'memory_processed'),
    dataBytes: num(stats, 'data_processed'),
    iterations: num(stats, 'memory_iteration'),
    dirtyRatePagesPerSec: num(stats, 'memory_dirty_rate'),
    diskBytes: stats.disk_total ? num(stats, 'disk_processed') : null,
  };
}

/** One progress sample from a running job's statistics. */
export function toProgress(stats: JobStats, tMs: number, status: string): ProgressSample {
  const bps = num(stats, 'memory_bps');
  // bytes/s × 8 overflows above ~2.2e307: still "not measured", never Infinity (found by
  // the property tests: memory_bps 3e307, i.e. 308 digits of virsh output).
  const mbps = bps === null ? null : Math.round((bps * 8) / 1e3) / 1e3;
  return {
    tMs: Math.round(tMs * 1000) / 1000,
    status,
    transferredBytes: num(stats, 'memory_processed'),
    remainingBytes: num(stats, 'memory_remaining'),
    totalBytes: num(stats, 'memory_total'),
    dirtyRatePagesPerSec: num(stats, 'memory_dirty_rate'),
    bandwidthMbps: mbps !== null && Number.isFinite(mbps) ? mbps : null,
    iteration: num(stats, 'memory_iteration'),
    expectedDowntimeMs: null,
  };
}

export interface VirshEvent {
  readonly epochMs: number;
  /** lifecycle, job-completed, migration-iteration, block-job, ... */
  readonly kind: string;
  readonly domain: string;
  /** lifecycle: "Suspended Migrated"; migration-iteration: "iteration: '2'". */
  readonly detail: string;
  /** job-completed: the statistics that follow on tab-indented lines. */
  readonly stats: Record<string, number>;
}

export interface QmpEventLine {
  readonly epochMs: number;
  readonly event: string;
  readonly domain: string;
  readonly data: Record<string, unknown>;
}

/** "2026-12-04 14:04:28.557+0000" → ms since the epoch. */
export function parseVirshTimestamp(text: string): number | null {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{3})([+-]\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
  return Number.isFinite(ms) ? ms : null;
}

const EVENT_LINE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}): event '([^']+)' for domain '([^']*)':?\s*(.*)$/;
// Without --timestamp, virsh prints the time QEMU put in the event (seconds.microseconds),
// not the time virsh read it: 3–15 ms apart in the lab, more on a busy host.
const QMP_EVENT_LINE = /^event (\S+) at (\d+)\.(\d{6}) for domain '([^']*)': (.*)$/;

/** Reads `virsh event --loop --timestamp` output line by line. */
export class VirshEventReader {
  readonly events: VirshEvent[] = [];

  push(line: string): void {
    const m = EVENT_LINE.exec(line);
    if (m) {
      const epochMs = parseVirshTimestamp(m[1]!);
      if (epochMs !== null) this.events.push({ epochMs, kind: m[2]!, domain: m[3]!, detail: m[4]!.trim(), stats: {} });
      return;
    }
    const field = /^\t([a-z_]+): (-?\d+(?:\.\d+)?)$/.exec(line);
    const last = this.events.at(-1);
    if (field && last) last.stats[field[1]!] = Number(field[2]);
  }
}

/** One `virsh qemu-monitor-event --loop` line (QMP events relayed by libvirt, with QEMU's own time). */
export function parseQemuMonitorEvent(line: string): QmpEventLine | null {
  const m = QMP_EVENT_LINE.exec(line);
  if (!m) return null;
  const epochMs = Number(m[2]) * 1000 + Number(m[3]) / 1000;
  // The pattern admits any run of digits: a corrupted line of hundreds of them parses to
  // Infinity (found by the property tests after this check was once dropped as dead).
  if (!Number.isFinite(epochMs)) return null;
  let data: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(m[5]!) as unknown;
    // QMP event data is an object; an array is not (found by the property tests: a line
    // ending in "[{}]" gave data [{}]).
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
  } catch {
    // "<null>" for events without data.
  }
  return { epochMs, event: m[1]!, domain: m[4]!, data };
}

/** `virsh version` → "libvirt 9.0.0, QEMU 7.2.22". */
export function parseVirshVersion(text: string): { libvirt: string | null; hypervisor: string | null; text: string } {
  const libvirt = /Using library: libvirt ([\d.]+)/.exec(text)?.[1] ?? null;
  const hypervisor = /Running hypervisor: (\S+ [\d.]+)/.exec(text)?.[1] ?? null;
  return { libvirt, hypervisor, text: [libvirt && `libvirt ${libvirt}`, hypervisor].filter(Boolean).join(', ') };
}

/** libvirt's message from virsh's stderr ("error: ..." lines), without virsh's prefixes. */
export function virshError(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('error:'))
    .map((l) => l.replace(/^error:\s*/, ''))
    // A bare "error:" says nothing; it made the message empty (found by the property tests).
    .filter(Boolean);
  return lines.length ? lines.join(': ') : stderr.trim() || 'no message';
}

/** `virsh domstate --reason` → state and reason, e.g. running / migrated, paused / panicked. */
export function parseDomState(text: string): { state: string; reason: string | null } {
  // Words separated by single spaces ("shut off"): a line of blanks is no state (found by
  // the property tests), and [ \t] rather than \s keeps a match on one line.
  const m = /^[ \t]*([a-z]+(?: [a-z]+)*)(?: \(([^)]+)\))?[ \t]*$/m.exec(text.trim());
  return { state: m?.[1] ?? 'unknown', reason: m?.[2] ?? null };
}
