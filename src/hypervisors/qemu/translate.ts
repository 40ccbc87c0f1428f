// The one place where QMP's names meet migbench's: query-migrate replies, migration
// parameters and capabilities are translated here and nowhere else.
import type { MigrationParameters } from '../../generated/results.js';
import type { MigrationKnobs } from '../../model/scenario.js';
import type { MigrationProgress } from '../progress.js';

/** One `query-migrate` reply in migbench's names and units. */
function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function obj(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function parseQueryMigrate(reply: unknown): MigrationProgress {
  const info = obj(reply);
  const ram = obj(info.ram);
  return {
    status: typeof info.status === 'string' ? info.status : 'none',
    totalTimeMs: num(info['total-time']),
    downtimeMs: num(info.downtime),
    expectedDowntimeMs: num(info['expected-downtime']),
    setupTimeMs: num(info['setup-time']),
    transferredBytes: num(ram.transferred),
    remainingBytes: num(ram.remaining),
    totalBytes: num(ram.total),
    duplicatePages: num(ram.duplicate),
    normalPages: num(ram.normal),
    normalBytes: num(ram['normal-bytes']),
    dirtyRatePagesPerSec: num(ram['dirty-pages-rate']),
    bandwidthMbps: num(ram.mbps),
    iteration: num(ram['dirty-sync-count']),
    pageSizeBytes: num(ram['page-size']),
    precopyBytes: num(ram['precopy-bytes']),
    downtimeBytes: num(ram['downtime-bytes']),
    postcopyBytes: num(ram['postcopy-bytes']),
    multifdBytes: num(ram['multifd-bytes']),
    cpuThrottlePercent: num(info['cpu-throttle-percentage']),
    errorDescription: typeof info['error-desc'] === 'string' ? info['error-desc'] : null,
  };
}

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

const MiB = 1024 * 1024;

/** `query-migrate-parameters` in migbench's names; keys QEMU did not report stay absent. */
export function parseMigrationParameters(reply: unknown): MigrationParameters {
  const p = obj(reply);
  const out: { -readonly [K in keyof MigrationParameters]: MigrationParameters[K] } = {};
  const set = <K extends keyof MigrationParameters>(key: K, value: number | null) => {
    if (value !== null) out[key] = value as MigrationParameters[K];
  };
  set('downtimeLimitMs', num(p['downtime-limit']));
  const bandwidth = num(p['max-bandwidth']);
  set('maxBandwidthMiBps', bandwidth === null ? null : bandwidth / MiB);
  set('multifdChannels', num(p['multifd-channels']));
  const xbzrle = num(p['xbzrle-cache-size']);
  set('xbzrleCacheMiB', xbzrle === null ? null : xbzrle / MiB);
  set('cpuThrottleInitialPercent', num(p['cpu-throttle-initial']));
  set('cpuThrottleIncrementPercent', num(p['cpu-throttle-increment']));
  set('maxCpuThrottlePercent', num(p['max-cpu-throttle']));
  set('announceInitialMs', num(p['announce-initial']));
  set('announceMaxMs', num(p['announce-max']));
  set('announceRounds', num(p['announce-rounds']));
  set('announceStepMs', num(p['announce-step']));
  return out;
}

/** Arguments of `migrate-set-parameters` for the knobs a scenario sets (others keep QEMU's values). */
export function toQmpParameters(knobs: MigrationKnobs): Record<string, number> {
  const args: Record<string, number> = {};
  if (knobs.downtimeLimitMs !== undefined) args['downtime-limit'] = knobs.downtimeLimitMs;
  if (knobs.maxBandwidthMiBps !== undefined) args['max-bandwidth'] = Math.round(knobs.maxBandwidthMiBps * MiB);
  if (knobs.multifdChannels !== undefined) args['multifd-channels'] = knobs.multifdChannels;
  if (knobs.xbzrleCacheMiB !== undefined) args['xbzrle-cache-size'] = knobs.xbzrleCacheMiB * MiB;
  return args;
}

/**
 * Capabilities for `migrate-set-capabilities`. `events` is always on: STOP/RESUME and
 * MIGRATION events time the switchover on both hosts.
 */
export function toQmpCapabilities(knobs: MigrationKnobs): Array<{ capability: string; state: boolean }> {
  const caps: Array<{ capability: string; state: boolean }> = [{ capability: 'events', state: true }];
  if (knobs.autoConverge !== undefined) caps.push({ capability: 'auto-converge', state: knobs.autoConverge });
  if (knobs.multifdChannels !== undefined) caps.push({ capability: 'multifd', state: true });
  if (knobs.xbzrleCacheMiB !== undefined) caps.push({ capability: 'xbzrle', state: true });
  if (knobs.postcopyAfterMs !== undefined) caps.push({ capability: 'postcopy-ram', state: true });
  return caps;
}

/** A block job as `query-block-jobs` or a BLOCK_JOB_* event describes it, in migbench's names. */
export interface BlockJobProgress {
  readonly jobId: string | null;
  readonly lenBytes: number | null;
  readonly offsetBytes: number | null;
  readonly ready: boolean | null;
  readonly error: string | null;
}

export function parseBlockJob(value: unknown): BlockJobProgress {
  const job = obj(value);
  const id = job.device ?? job.id;
  return {
    jobId: typeof id === 'string' ? id : null,
    lenBytes: num(job.len),
    offsetBytes: num(job.offset),
    ready: typeof job.ready === 'boolean' ? job.ready : null,
    error: typeof job.error === 'string' ? job.error : null,
  };
}

/** Names of the capabilities `query-migrate-capabilities` reports as enabled. */
export function parseEnabledCapabilities(reply: unknown): string[] {
  if (!Array.isArray(reply)) return [];
  return reply
    .map(obj)
    .filter((c) => c.state === true && typeof c.capability === 'string')
    .map((c) => String(c.capability))
    .sort();
}

/** `query-version` as one string, e.g. "QEMU 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)". */
export function formatQemuVersion(reply: unknown): string {
  const v = obj(reply);
  const q = obj(v.qemu);
  const pkg = typeof v.package === 'string' && v.package.trim() ? ` (${v.package.trim()})` : '';
  return `QEMU ${num(q.major) ?? '?'}.${num(q.minor) ?? '?'}.${num(q.micro) ?? '?'}${pkg}`;
}
