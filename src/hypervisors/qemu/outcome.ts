// A QEMU migration's outcome from what QEMU said: its figures and the events of both sides.
import type { HypervisorEvent, ProgressSample } from '../../generated/results.js';
import type { HypervisorFigures, MigrationOutcome, StorageOutcome } from '../hypervisor.js';
import { peak, type MigrationProgress } from '../progress.js';
import type { Mirror } from './mirror.js';
import type { QmpEvent } from './qmp.js';
import type { Side } from '../../model/side.js';

/** The hypervisor's figures of a migration: QEMU's own, the peak dirty rate polled, STOP to RESUME across the hosts, the mirror's. */
export function toFigures(
  final: MigrationProgress | null,
  status: MigrationOutcome['status'],
  seen: { startedAtMs: number; timeline: readonly ProgressSample[]; mirror: Mirror | null; storage: StorageOutcome | null; stop: QmpEvent | undefined; resume: QmpEvent | null },
): HypervisorFigures {
  const { startedAtMs, timeline, mirror, storage, stop, resume } = seen;
  const mirrorLeadMs = mirror ? startedAtMs - mirror.startedAtMs : 0;
  return {
    totalTimeMs: final?.totalTimeMs ? Math.round((final.totalTimeMs + mirrorLeadMs) * 1000) / 1000 : null,
    downtimeMs: status === 'completed' ? (final?.downtimeMs ?? null) : null,
    setupTimeMs: final?.setupTimeMs ?? null,
    transferredBytes: final?.transferredBytes ?? null,
    iterations: final?.iteration ?? null,
    dirtyRatePagesPerSec: peak(timeline, 'dirtyRatePagesPerSec'),
    stopToResumeMs: stop && resume ? Math.round((resume.epochMs - stop.epochMs) * 1000) / 1000 : null,
    mirrorTimeMs: mirror?.readyAtMs ? Math.round((mirror.readyAtMs - mirror.startedAtMs) * 1000) / 1000 : null,
    diskBytes: storage?.jobOffsetBytes ?? null,
  };
}

/** Events since `sinceMs`, timed from `originMs` (the migrate command; earlier ones are negative). */
export function collectEvents(originMs: number, bySide: Record<Side, readonly QmpEvent[]>, sinceMs = originMs): HypervisorEvent[] {
  const out: HypervisorEvent[] = [];
  for (const side of ['source', 'destination'] as const) {
    for (const e of bySide[side]) {
      if (e.epochMs < sinceMs - 1) continue;
      const detail =
        e.event === 'MIGRATION'
          ? e.data.status
          : e.event === 'MIGRATION_PASS'
            ? e.data.pass
            : e.event === 'GUEST_PANICKED'
              ? JSON.stringify(e.data.info ?? e.data.action ?? '')
              : undefined;
      out.push({ side, name: e.event, tMs: Math.round((e.epochMs - originMs) * 1000) / 1000, ...(detail !== undefined && { detail: String(detail) }) });
    }
  }
  return out.sort((a, b) => a.tMs - b.tMs);
}
