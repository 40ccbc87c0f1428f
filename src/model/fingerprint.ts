// What makes two measurements comparable, as short stable keys: a scenario's fingerprint
// (what was migrated, how, and how it was observed; config/scenarios.ts computes it) and an
// environment's (the hosts' software and settings that shape a migration, from the records).
// Stored baselines of main are looked up by both (model/store.ts); the comparison names the
// environment fields that differ, from the same list.
import { createHash } from 'node:crypto';
import type { HostEnvironment, MigrationRecord } from '../generated/results.js';

/** JSON with object keys sorted at every depth and undefined left out: one text for one value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The first 16 hex digits of the value's canonical JSON's sha256, behind a prefix that says what it keys. */
export function shortHash(prefix: string, value: unknown): string {
  return `${prefix}:${createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16)}`;
}

/** An environment field: its name in words, and how it reads off one host. */
export type EnvironmentField = readonly [string, (h: HostEnvironment) => string];

/** The fixed fields of a host's environment; each settings file a host recorded is one more. */
export const ENVIRONMENT_FIELDS: readonly EnvironmentField[] = [
  ['hypervisor', (h) => h.hypervisorVersion],
  ['accelerator', (h) => h.accel],
  ['CPU', (h) => `${h.cpuCount}× ${h.cpuModel}`],
  ['kernel', (h) => h.kernel],
  ['migration MTU', (h) => (h.migrationMtu === undefined ? 'unknown' : String(h.migrationMtu))],
];

/** Both hosts of every record. */
function hosts(records: readonly MigrationRecord[]): HostEnvironment[] {
  return records.flatMap((r) => [r.environment.source, r.environment.destination]);
}

/** The fields of these records' environments: the fixed ones, then each settings file any host recorded, by name. */
export function environmentFields(records: readonly MigrationRecord[]): EnvironmentField[] {
  const files = new Set(hosts(records).flatMap((h) => Object.keys(h.settings ?? {})));
  return [...ENVIRONMENT_FIELDS, ...[...files].sort().map((f) => [f, (h: HostEnvironment) => h.settings?.[f] ?? 'unknown'] as const)];
}

/** A field's value over both hosts of every record: the distinct values, sorted, joined. */
export function environmentValue(records: readonly MigrationRecord[], pick: (h: HostEnvironment) => string): string {
  return [...new Set(hosts(records).map(pick))].sort().join(', ');
}

/** What these records' hosts were, field by field (the table's header says the same in words). */
export function environmentDescription(records: readonly MigrationRecord[]): Record<string, string> {
  return Object.fromEntries(environmentFields(records).map(([field, pick]) => [field, environmentValue(records, pick)]));
}

/**
 * The key of the environment these records were measured in: equal exactly when no field
 * differs. Completed records only, when there are any: a run that failed before it read its
 * hosts carries an environment of "unknown" fields.
 */
export function environmentFingerprint(records: readonly MigrationRecord[]): string {
  const completed = records.filter((r) => r.status === 'completed');
  return shortHash('env', environmentDescription(completed.length ? completed : records));
}
