// Gap analysis shared by the network probe and the guest heartbeat: a signal is one
// probe reply or one heartbeat, timestamped where it arrived.
import type { Gap } from '../generated/results.js';

export interface Signal {
  /** Sequence number assigned by the sender (consecutive when nothing is lost). */
  readonly seq: number;
  /** Arrival time, ms since the epoch. */
  readonly atMs: number;
}

export interface GapOptions {
  /** Times in the result are relative to this (the migrate command), ms since the epoch. */
  readonly originMs: number;
  /** End of observation: a silence from the last signal to here is an open gap. */
  readonly observedToMs: number;
  /** Gaps at least this long are listed. */
  readonly thresholdMs: number;
}

export interface GapAnalysis<S extends Signal = Signal> {
  /** Gaps of at least the threshold, in time order; the last may be open. */
  readonly gaps: Gap[];
  /** Largest gap ending after the origin; null when it never closed (or no signal came). */
  readonly largestGapMs: number | null;
  /** The gap behind largestGapMs. */
  readonly largestGap: Gap | null;
  /** The two signals around the largest closed gap after the origin. */
  readonly largestPair: readonly [S, S] | null;
  /** Largest gap entirely before the origin: the noise floor. */
  readonly baselineLargestGapMs: number | null;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function analyseGaps<S extends Signal>(signals: readonly S[], options: GapOptions): GapAnalysis<S> {
  const sorted = [...signals].sort((a, b) => a.atMs - b.atMs);
  const gaps: Gap[] = [];
  let largest: Gap | null = null;
  let largestPair: readonly [S, S] | null = null;
  let baseline: number | null = null;
  const rel = (ms: number) => round(ms - options.originMs);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    const durationMs = b.atMs - a.atMs;
    const gap: Gap = { startMs: rel(a.atMs), endMs: rel(b.atMs), durationMs: round(durationMs), missing: Math.max(0, b.seq - a.seq - 1), open: false };
    if (b.atMs <= options.originMs) {
      baseline = Math.max(baseline ?? 0, durationMs);
    } else if (!largest || durationMs > largest.durationMs) {
      largest = gap;
      largestPair = [a, b];
    }
    if (durationMs >= options.thresholdMs) gaps.push(gap);
  }
  const last = sorted.at(-1);
  const silenceStart = last ? last.atMs : Math.min(options.originMs, options.observedToMs);
  const silence = options.observedToMs - silenceStart;
  let open: Gap | null = null;
  if (!last || (silence >= options.thresholdMs && options.observedToMs > options.originMs)) {
    open = { startMs: rel(silenceStart), endMs: rel(options.observedToMs), durationMs: round(Math.max(0, silence)), missing: 0, open: true };
    gaps.push(open);
  }
  // A silence that never ended is a lower bound, not a measurement: no largest gap then,
  // unless a longer closed gap exists.
  if (open && (!largest || open.durationMs >= largest.durationMs)) {
    return { gaps, largestGapMs: null, largestGap: open, largestPair: null, baselineLargestGapMs: baseline === null ? null : round(baseline) };
  }
  return { gaps, largestGapMs: largest ? largest.durationMs : null, largestGap: largest, largestPair, baselineLargestGapMs: baseline === null ? null : round(baseline) };
}

/**
 * The longest silence around one instant (the source's STOP at switchover): the largest
 * gap that ends after it and starts no later than `toleranceMs` after it, ms. The
 * tolerance admits signals sent just before the stop but delivered just after it (the
 * event and the signals are timestamped on different paths). null without such a gap.
 */
export function gapAcross(signals: readonly Signal[], atMs: number, toleranceMs = 20): number | null {
  const sorted = [...signals].sort((a, b) => a.atMs - b.atMs);
  let largest: number | null = null;
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.atMs <= atMs + toleranceMs && b.atMs > atMs) largest = Math.max(largest ?? 0, b.atMs - a.atMs);
  }
  return largest === null ? null : round(largest);
}

/**
 * Whether the signal has been steady since `sinceMs`: its last `count` arrivals after that
 * time came in sequence (nothing lost) with no silence of `gapThresholdMs` or more between
 * them. Signals are in arrival order; only the tail is read.
 */
export function steadySince(signals: readonly Signal[], sinceMs: number, count: number, gapThresholdMs: number): boolean {
  if (count <= 0) return true;
  if (signals.length < count) return false;
  const first = signals.length - count;
  if (signals[first]!.atMs < sinceMs) return false;
  for (let i = first + 1; i < signals.length; i++) {
    const [a, b] = [signals[i - 1]!, signals[i]!];
    if (b.seq !== a.seq + 1 || b.atMs - a.atMs >= gapThresholdMs) return false;
  }
  return true;
}
