// Where a running migration is, for a live progress bar: the phase it is in and, while
// the hypervisor copies memory or disk, how much of it is done.
import type { ProgressSample } from '../generated/results.js';

export interface LiveProgress {
  /** The migration's phase, as a failed record names it (launchGuest, migrate, ...). */
  readonly phase: string;
  /** Share of the copy done, 0..100, where the hypervisor reports what is left; else null. */
  readonly percent: number | null;
}

/**
 * The share done, as `virsh migrate --verbose` shows it: what is no longer left of the
 * total. Dirtied pages are sent again, so transferred bytes can pass the total and are no
 * measure of it.
 */
export function percentDone(sample: ProgressSample): number | null {
  const { totalBytes, remainingBytes } = sample;
  if (totalBytes === null || remainingBytes === null || totalBytes <= 0) return null;
  return Math.min(100, Math.max(0, (100 * (totalBytes - remainingBytes)) / totalBytes));
}
