// What the vendor drivers (XenServer, vSphere, Hyper-V) share beyond polling: the VM is the
// hypervisor's own, not one migbench started, so it is never destroyed, only brought home.
import { MigbenchError } from '../model/errors.js';
import type { MigrationSpec } from '../model/scenario.js';
import type { GuestHandle, MigrationOutcome } from './hypervisor.js';

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
