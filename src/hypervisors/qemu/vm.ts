// What the QEMU driver knows of a guest: its QEMU on each side and that QEMU's monitor.
import type { GuestHandle, TargetHost } from '../hypervisor.js';
import { readTail } from '../../exec/host.js';
import type { AccelChoice } from './accel.js';
import type { QmpClient } from './qmp.js';
import type { Side } from '../../model/side.js';

/** A host made ready for guests: the image and migbench-probe installed, its accelerator chosen. */
export interface HostSetup {
  readonly kernelPath: string;
  readonly initrdPath: string;
  readonly toolPath: string;
  readonly accel: AccelChoice;
  readonly version: string;
}

export interface VmSide {
  readonly host: TargetHost;
  readonly dir: string;
  readonly diskPath: string | null;
  readonly tap: string;
  readonly toolPath: string;
  pid: number | null;
  qmp: QmpClient | null;
}

export interface QemuVm {
  /** Replaced when the guest turns around (ping-pong): its sides' roles swap. */
  handle: GuestHandle;
  readonly sides: Partial<Record<Side, VmSide>>;
  /** When the last migrate command was issued (the events' time origin). */
  migrationStartedAtMs: number | null;
  /** Events from here on belong to the migration (a storage migration's mirror starts first). */
  eventsSinceMs: number | null;
}

/** The last lines of a file of the side's QEMU (its log, its console); empty when unreadable. */
export function tail(entry: VmSide, file: string, lines = 12): Promise<string> {
  return readTail(entry.host.runner, file, { lines });
}
