// Bytes on the wire: the migration interface's kernel counters, read before and after.
import { MigbenchError } from '../model/errors.js';
import type { CommandRunner } from '../exec/runner.js';

export interface InterfaceCounters {
  readonly rxBytes: number;
  readonly txBytes: number;
  readonly rxPackets: number;
  readonly txPackets: number;
}

const FIELDS = ['rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets'] as const;

export async function readInterfaceCounters(runner: CommandRunner, iface: string): Promise<InterfaceCounters> {
  if (!/^[\w.@:-]{1,15}$/.test(iface)) throw new MigbenchError('MB_PROBE', `not an interface name: ${JSON.stringify(iface)}`);
  const result = await runner.run(['cat', ...FIELDS.map((f) => `/sys/class/net/${iface}/statistics/${f}`)], { timeoutMs: 10_000 });
  const values = result.stdout.trim().split(/\s+/).map(Number);
  if (values.length !== 4 || values.some((v) => !Number.isSafeInteger(v))) {
    throw new MigbenchError('MB_PROBE', `${runner.host}: unreadable counters of ${iface}: ${result.stdout.slice(0, 100)}`);
  }
  const [rxBytes, txBytes, rxPackets, txPackets] = values as [number, number, number, number];
  return { rxBytes, txBytes, rxPackets, txPackets };
}

export function counterDelta(before: InterfaceCounters, after: InterfaceCounters): InterfaceCounters {
  return {
    rxBytes: after.rxBytes - before.rxBytes,
    txBytes: after.txBytes - before.txBytes,
    rxPackets: after.rxPackets - before.rxPackets,
    txPackets: after.txPackets - before.txPackets,
  };
}
