// Link shaping on a migration interface with tc: a token bucket for bandwidth, netem
// for delay. Applied to each end's egress, so both directions are shaped.
import { errorMessage, MigbenchError } from '../model/errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { LinkSpec } from '../model/scenario.js';

/** tc's arguments for the root qdisc that shapes `link`; null when nothing is shaped. */
export function shapingArgv(iface: string, link: LinkSpec): string[] | null {
  if (!/^[\w.@:-]{1,15}$/.test(iface)) throw new MigbenchError('MB_LAB', `not an interface name: ${JSON.stringify(iface)}`);
  const { bandwidthMbps, delayMs } = link;
  if (bandwidthMbps === undefined && !delayMs) return null;
  if (delayMs) {
    // netem does both: rate shaping with the delay, in one qdisc.
    return [
      'tc',
      'qdisc',
      'replace',
      'dev',
      iface,
      'root',
      'netem',
      'delay',
      `${delayMs}ms`,
      ...(bandwidthMbps !== undefined ? ['rate', `${bandwidthMbps}mbit`] : []),
      'limit',
      '100000',
    ];
  }
  // The bucket holds at least 2 ms of traffic and one 64 KiB GSO segment; 50 ms of queue.
  const burstBytes = Math.max(65536 + 1514, Math.ceil((bandwidthMbps! * 1e6) / 8 / 500));
  return ['tc', 'qdisc', 'replace', 'dev', iface, 'root', 'tbf', 'rate', `${bandwidthMbps}mbit`, 'burst', String(burstBytes), 'latency', '50ms'];
}

/** Shapes the interface and returns how to undo it. */
export async function shapeLink(runner: CommandRunner, iface: string, link: LinkSpec): Promise<() => Promise<void>> {
  const argv = shapingArgv(iface, link);
  if (!argv) return async () => undefined;
  try {
    await runner.run(argv, { timeoutMs: 10_000 });
  } catch (error) {
    // tc's words when the kernel lacks the qdisc: "Specified qdisc kind is unknown."
    const noNetem = argv.includes('netem') && /qdisc kind is unknown/i.test((error as { stderr?: string }).stderr ?? errorMessage(error));
    throw new MigbenchError(
      'MB_LAB',
      noNetem
        ? `${runner.host}: cannot add ${link.delayMs} ms delay on ${iface}: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM); bandwidth shaping alone works`
        : `${runner.host}: cannot shape ${iface}: ${errorMessage(error)}`,
      { cause: error, context: { host: runner.host, command: argv.join(' ') } },
    );
  }
  return async () => {
    await runner.run(['tc', 'qdisc', 'del', 'dev', iface, 'root'], { timeoutMs: 10_000 });
  };
}
