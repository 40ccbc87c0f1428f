// What migbench's exit status means, for scripts and CI (documented in docs/cli.md).
import type { ErrorCode } from './errors.js';
import type { MigrationRecord } from '../generated/results.js';

export const EXIT = {
  /** Every assertion held (compare: no regression). */
  ok: 0,
  /** A regression, a failed assertion or a migration that failed. */
  failed: 1,
  /** Bad input: usage, a config or results file that does not parse or validate. */
  badInput: 2,
  /** Infrastructure: a host unreachable, a lab or set-up that failed; nothing was judged. */
  infrastructure: 3,
} as const;

/** Errors that say the hosts could not be reached or prepared, not that a migration misbehaved. */
export const INFRASTRUCTURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['MB_SSH_CONNECT', 'MB_SSH_HOST_KEY', 'MB_SSH_LOST', 'MB_COMMAND_START', 'MB_LAB', 'MB_SETUP']);

/**
 * The status of a run whose tests failed: infrastructure when every failed test is a
 * record that failed for an infrastructure reason, else failed. A run whose tests all
 * passed is ok whatever its records hold (a cancelled matrix point is a result).
 */
export function runExitCode(failedTests: number, records: readonly MigrationRecord[]): number {
  if (failedTests === 0) return EXIT.ok;
  const failed = records.filter((r) => r.status === 'failed');
  const infrastructure = failed.filter((r) => r.error && INFRASTRUCTURE_CODES.has(r.error.code as ErrorCode));
  return infrastructure.length > 0 && infrastructure.length === failed.length && failedTests <= infrastructure.length ? EXIT.infrastructure : EXIT.failed;
}
