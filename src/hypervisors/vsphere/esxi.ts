// What the vim25 API does not give, read from the ESXi hosts over SSH: the stun time from
// the VM's vmware.log and the vmnic byte counters from esxcli. The vendor's words
// ("Checkpoint_Unstun", "Bytes sent") are translated here and nowhere else.
import { MigbenchError } from '../../model/errors.js';
import type { InterfaceCounters } from '../../probes/wire.js';

/**
 * The last stun of a migration in vmware.log ("…Z| vmx| I005: Checkpoint_Unstun: vm stopped
 * for 401234 us"), ms. vmware.log keeps every earlier migration of the VM too, so lines
 * stamped before `sinceMs` are skipped; lines without a time stamp are taken as they come.
 */
export function parseStunMs(vmwareLog: string, sinceMs = -Infinity): number | null {
  let last: number | null = null;
  for (const line of vmwareLog.split('\n')) {
    const m = /Checkpoint_Unstun: vm stopped for (\d+) us/.exec(line);
    if (!m) continue;
    const stamp = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))\|/.exec(line);
    if (stamp && Date.parse(stamp[1]!) < sinceMs) continue;
    // The last stun is this migration's; one of more digits than a double holds is not
    // measured, never Infinity (found by the property tests).
    last = Number.isFinite(Number(m[1])) ? Number(m[1]) / 1000 : null;
  }
  return last;
}

/**
 * Where a datastore path ("[ds1] web-02/") is on an ESXi host's file system, given the
 * datastore's summary.url ("ds:///vmfs/volumes/5f1e…/"; vcsim gives a plain directory).
 */
export function datastoreFile(datastorePath: string, datastoreUrl: string, file: string): string {
  // `s`: a directory with a line break in it is still a directory; without the flag a path
  // datastoreName accepted ("[ds1] a\nb") was "not a datastore path" (found by the property tests).
  const m = /^\[([^\]]+)\]\s*(.*)$/s.exec(datastorePath.trim());
  // A MigbenchError, not a plain Error: the path comes from vCenter (found by the property tests).
  if (!m) throw new MigbenchError('MB_VSPHERE', `not a datastore path: ${JSON.stringify(datastorePath)}`);
  const root = datastoreUrl.replace(/^ds:\/\//, '').replace(/\/+$/, '');
  const dir = m[2]!.replace(/^\/+|\/+$/g, '');
  return [root, dir, file].filter(Boolean).join('/');
}

/** The datastore's name in a datastore path. */
export function datastoreName(datastorePath: string): string | null {
  return /^\[([^\]]+)\]/.exec(datastorePath.trim())?.[1] ?? null;
}

/** The argv that prints a vmnic's counters on ESXi. */
export function nicStatsArgv(vmnic: string): string[] {
  return ['esxcli', 'network', 'nic', 'stats', 'get', '-n', vmnic];
}

/** The one translation of `esxcli network nic stats get`: "Bytes received: N" and the like. */
export function parseNicStats(output: string): InterfaceCounters | null {
  const field = (name: string) => {
    const m = new RegExp(`^\\s*${name}:\\s*(\\d+)\\s*$`, 'm').exec(output);
    // More digits than a double holds is Infinity: not a count (found by the property tests).
    return m && Number.isFinite(Number(m[1])) ? Number(m[1]) : null;
  };
  const rxBytes = field('Bytes received');
  const txBytes = field('Bytes sent');
  const rxPackets = field('Packets received');
  const txPackets = field('Packets sent');
  if (rxBytes === null || txBytes === null || rxPackets === null || txPackets === null) return null;
  return { rxBytes, txBytes, rxPackets, txPackets };
}
