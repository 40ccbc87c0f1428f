// Bytes on the wire per flow: nftables counters on the source host for the memory
// stream's and the disk copy's TCP ports, so a storage migration's wire bytes split into
// RAM and disk. Counted in both directions at the IP layer (as the kernel hands packets
// to and from the interface), in a table of migbench's own that is removed afterwards.
import { errorMessage, MigbenchError } from '../model/errors.js';
import type { CommandRunner } from '../exec/runner.js';

export type FlowName = 'ram' | 'disk';

export interface FlowPorts {
  /** The destination port of the memory migration stream. */
  readonly ram: number;
  /** The destination port of the disk copy (NBD), for storage migration. */
  readonly disk?: number;
}

export type FlowBytes = Partial<Record<FlowName, number>>;

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new MigbenchError('MB_PROBE', `not a TCP port: ${port}`);
  return port;
}

/** The nft script that creates the table: one counter per flow and direction. */
export function flowRuleset(table: string, ports: FlowPorts): string {
  const flows = Object.entries(ports).filter(([, p]) => p !== undefined) as Array<[FlowName, number]>;
  const lines = [`table inet ${table} {`];
  for (const [chain, hook, field] of [
    ['out', 'output', 'dport'],
    ['in', 'input', 'sport'],
  ] as const) {
    lines.push(`  chain ${chain} {`, `    type filter hook ${hook} priority -300; policy accept;`);
    for (const [name, port] of flows) lines.push(`    tcp ${field} ${checkPort(port)} counter comment "${name}"`);
    lines.push('  }');
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Sums the counters of `nft -j list table` by flow name (both chains). */
export function parseFlowCounters(json: string): FlowBytes {
  const parsed = JSON.parse(json) as { nftables?: Array<{ rule?: { comment?: string; expr?: Array<{ counter?: { bytes?: number } }> } }> };
  const bytes: FlowBytes = {};
  for (const item of parsed.nftables ?? []) {
    const name = item.rule?.comment;
    if (name !== 'ram' && name !== 'disk') continue;
    const counter = item.rule?.expr?.find((e) => e.counter)?.counter;
    if (typeof counter?.bytes === 'number') bytes[name] = (bytes[name] ?? 0) + counter.bytes;
  }
  return bytes;
}

export class FlowCounters {
  private constructor(
    private readonly runner: CommandRunner,
    private readonly table: string,
  ) {}

  /** Creates the counters; throws MB_PROBE when the host has no usable nft. */
  static async install(runner: CommandRunner, id: string, ports: FlowPorts): Promise<FlowCounters> {
    if (!/^[a-z0-9]{1,24}$/.test(id)) throw new MigbenchError('MB_PROBE', `bad flow table id ${id}`);
    const table = `migbench_${id}`;
    const ruleset = flowRuleset(table, ports);
    try {
      // A table of the same name (a crashed run) would double-count: start clean.
      await runner.run(['nft', 'delete', 'table', 'inet', table], { check: false, timeoutMs: 10_000 });
      await runner.run(['nft', '-f', '-'], { stdin: ruleset, timeoutMs: 10_000 });
    } catch (error) {
      throw new MigbenchError('MB_PROBE', `${runner.host}: cannot count flows with nftables: ${errorMessage(error)}`, { cause: error, context: { host: runner.host } });
    }
    return new FlowCounters(runner, table);
  }

  async read(): Promise<FlowBytes> {
    try {
      const out = await this.runner.run(['nft', '-j', 'list', 'table', 'inet', this.table], { timeoutMs: 10_000 });
      return parseFlowCounters(out.stdout);
    } catch (error) {
      throw new MigbenchError('MB_PROBE', `${this.runner.host}: cannot read the flow counters of table inet ${this.table}: ${errorMessage(error)}`, {
        cause: error,
        context: { host: this.runner.host },
      });
    }
  }

  async remove(): Promise<void> {
    await this.runner.run(['nft', 'delete', 'table', 'inet', this.table], { timeoutMs: 10_000 });
  }
}
