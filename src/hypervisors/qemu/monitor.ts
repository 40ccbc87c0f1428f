// The QMP connection of each side's QEMU: opened while QEMU starts, made again when lost.
import { MigbenchError } from '../../model/errors.js';
import { processAlive } from '../../exec/host.js';
import { vmPaths } from './cmdline.js';
import { QmpClient, type QmpEvent } from './qmp.js';
import { tail, type VmSide } from './vm.js';
import { epochMs, sleep } from '../../model/time.js';
import type { Side } from '../../model/side.js';

/** Every QMP line on either host, for recording transcripts. */
export type QmpTranscript = (side: Side, direction: '>' | '<', line: string) => void;

export class QmpMonitors {
  constructor(private readonly transcript: QmpTranscript | undefined) {}

  /**
   * The side's QMP connection, made again if it was lost (the SSH connection under it
   * dropped, QEMU closed it): QEMU's monitor takes a new client, and a migration that was
   * running is still running. Events received meanwhile are lost; the gap is recorded.
   */
  async of(entry: VmSide, side: Side): Promise<QmpClient> {
    if (entry.qmp && !entry.qmp.closed) return entry.qmp;
    const events = entry.qmp?.events ?? [];
    const lostAtMs = epochMs();
    entry.qmp = await this.connect(entry, side, 10_000, events);
    events.push({ event: 'MIGBENCH_QMP_RECONNECTED', data: { lostAtMs, reconnectedAtMs: epochMs() }, epochMs: epochMs() });
    return entry.qmp;
  }

  async connect(entry: VmSide, side: Side, timeoutMs: number, events?: QmpEvent[]): Promise<QmpClient> {
    const { runner } = entry.host;
    const socket = vmPaths(entry.dir).qmp;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const stream = await runner.openUnixSocket(socket);
        return await QmpClient.connect(stream, {
          host: runner.host,
          socket,
          ...(events && { events }),
          ...(this.transcript && { transcript: (direction: '>' | '<', line: string) => this.transcript!(side, direction, line) }),
        });
      } catch (error) {
        const dead = entry.pid !== null && !(await processAlive(runner, entry.pid));
        if (dead || Date.now() > deadline) {
          const log = await tail(entry, vmPaths(entry.dir).log);
          throw new MigbenchError('MB_GUEST', `${runner.host}: QEMU ${dead ? 'exited' : 'did not open its QMP socket'} while starting${log ? `: ${log}` : ''}`, {
            cause: error,
            context: { host: runner.host },
          });
        }
        await sleep(50);
      }
    }
  }
}
