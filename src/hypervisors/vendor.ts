// What the vendor drivers (XenServer, vSphere, Hyper-V) share beyond polling: the VM is the
// hypervisor's own, not one migbench started, so it is never destroyed, only brought home.
import { MigbenchError } from '../model/errors.js';
import type { MigrationSpec } from '../model/scenario.js';
import type { GuestHandle, GuestLaunch, MigrationOutcome } from './hypervisor.js';

/** The way home is not measured: it only has to arrive, however slowly. */
const HOME_TIMEOUT_MS = 600_000;

/**
 * Migrates a VM left on the destination back to the source host, the way it last moved
 * (a storage migration's disks go back too), so the next run starts there.
 */
export async function migrateHome(
  guest: GuestHandle,
  lastKind: MigrationSpec['kind'],
  migrate: (guest: GuestHandle, plan: MigrationSpec) => Promise<MigrationOutcome>,
  names: { readonly vm: string; readonly sourceHost: string },
): Promise<void> {
  if (guest.location !== 'destination') return;
  const back = await migrate(guest, { kind: lastKind, timeoutMs: HOME_TIMEOUT_MS });
  if (back.status !== 'completed') throw new MigbenchError('MB_CLEANUP', `VM ${names.vm} did not go back to ${names.sourceHost}: ${back.error?.message ?? back.status}`);
}

/** Where a vendor VM was found, in the words of the driver's API, for the checks below. */
export interface InventoryVm {
  /** The API endpoint or host asked, first in every message. */
  readonly endpoint: string;
  readonly vm: string;
  readonly sourceHost: string;
}

/** The VM must be running: migbench measures the hypervisor's own VM and never starts it. */
export function assertRunning(at: InventoryVm, state: string, running: boolean, howToStart: string): void {
  if (!running) throw new MigbenchError('MB_GUEST', `${at.endpoint}: VM ${at.vm} is ${state}; ${howToStart} on ${at.sourceHost} first`, { userError: true });
}

/** The VM must run on the source host: migbench migrates it from there, and sends it home there. */
export function assertOnSource(at: InventoryVm, onSource: boolean): void {
  if (!onSource) throw new MigbenchError('MB_GUEST', `${at.endpoint}: VM ${at.vm} does not run on ${at.sourceHost}; migbench migrates it from there`, { userError: true });
}

/** The checked VM as the engine's guest, on the source. */
export function sourceGuest(launch: GuestLaunch): GuestHandle {
  return { vmId: launch.vmId, launch, location: 'source', workarounds: [] };
}
