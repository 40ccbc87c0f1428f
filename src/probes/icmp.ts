// The external probe: ICMP echo from the observer to the guest at a fixed interval.
// migbench-probe stamps replies with the kernel's receive time; iputils' ping -D
// (the alternative) prints the time at which it got round to printing.
import { createInterface } from 'node:readline';
import { MigbenchError } from '../model/errors.js';
import type { CommandRunner, RunningCommand } from '../exec/runner.js';
import { type Signal } from './gaps.js';
import { nsToEpochMs } from '../model/time.js';

export type ProbeTool = 'migbench-probe' | 'ping';

export interface ProbeReply extends Signal {
  /** When the request was sent (migbench-probe only), ms since the epoch. */
  readonly sentMs: number | null;
}

export interface ProbeTotals {
  readonly sent: number;
  readonly received: number;
}

/** `R <seq> <sent_ns> <received_ns>` / `E <sent> <received>` */
export function parseProbeLine(line: string): { reply: ProbeReply } | { totals: ProbeTotals } | null {
  const parts = line.trim().split(/\s+/);
  if (parts[0] === 'R' && parts.length === 4) {
    return { reply: { seq: Number(parts[1]), sentMs: nsToEpochMs(parts[2]!), atMs: nsToEpochMs(parts[3]!) } };
  }
  if (parts[0] === 'E' && parts.length === 3) return { totals: { sent: Number(parts[1]), received: Number(parts[2]) } };
  return null;
}

/**
 * iputils ping -D lines: `[1700000000.123456] 64 bytes from 10.0.0.1: icmp_seq=7 ttl=64 time=0.21 ms`
 * and the summary `12 packets transmitted, 11 received, …`. icmp_seq is 16 bits and wraps;
 * `previousSeq` unwraps it.
 */
export function parsePingLine(line: string, previousSeq: number | null): { reply: ProbeReply } | { totals: ProbeTotals } | null {
  const reply = /^\[(\d+)\.(\d+)\] \d+ bytes from [^:]+: icmp_seq=(\d+)/.exec(line);
  if (reply) {
    const atMs = Number(reply[1]) * 1000 + Number(`0.${reply[2]}`) * 1000;
    let seq = Number(reply[3]);
    if (previousSeq !== null) {
      const base = previousSeq - (previousSeq % 65536);
      seq += base;
      if (seq < previousSeq - 32768) seq += 65536;
      else if (seq > previousSeq + 32768) seq -= 65536;
    }
    return { reply: { seq, sentMs: null, atMs } };
  }
  const totals = /^(\d+) packets transmitted, (\d+) (packets )?received/.exec(line);
  if (totals) return { totals: { sent: Number(totals[1]), received: Number(totals[2]) } };
  return null;
}

export interface IcmpProbeOptions {
  readonly runner: CommandRunner;
  readonly tool: ProbeTool;
  /** Path of migbench-probe on the observer (tool migbench-probe). */
  readonly toolPath?: string;
  readonly address: string;
  readonly intervalMs: number;
  /** CPUs (a taskset -c list) to pin the probe to. */
  readonly cpus?: string;
}

export class IcmpProbe {
  readonly replies: ProbeReply[] = [];
  private totals: ProbeTotals | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly process: RunningCommand;

  private constructor(readonly options: IcmpProbeOptions) {
    const argv =
      options.tool === 'migbench-probe'
        ? [options.toolPath ?? 'migbench-probe', 'icmp', '-r', '-e', '-i', String(Math.round(options.intervalMs * 1000)), options.address]
        : ['ping', '-D', '-n', '-i', String(options.intervalMs / 1000), options.address];
    this.process = options.runner.spawn(options.cpus ? ['taskset', '-c', options.cpus, ...argv] : argv);
    let previous: number | null = null;
    createInterface({ input: this.process.stdout }).on('line', (line) => {
      const parsed = options.tool === 'migbench-probe' ? parseProbeLine(line) : parsePingLine(line, previous);
      if (!parsed) return;
      if ('reply' in parsed) {
        previous = parsed.reply.seq;
        this.replies.push(parsed.reply);
        for (const wake of this.waiters) wake();
      } else this.totals = parsed.totals;
    });
  }

  static start(options: IcmpProbeOptions): IcmpProbe {
    return new IcmpProbe(options);
  }

  /** Resolves once a reply arrives at or after `afterMs` (epoch ms). */
  waitForReply(afterMs: number, timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.replies.some((r) => r.atMs >= afterMs), timeoutMs);
  }

  /** Resolves true once `condition` holds of the replies (checked on each), false at the timeout or when the probe ends without it. */
  waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        if (!condition()) return;
        finish(true);
      };
      const finish = (value: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(value);
      };
      const timer = setTimeout(() => finish(condition()), timeoutMs);
      this.waiters.add(wake);
      this.process.done.then(
        () => finish(condition()),
        () => finish(condition()),
      );
    });
  }

  /** Stops probing; sent and received counts come from the tool's own summary. */
  async stop(): Promise<ProbeTotals> {
    if (this.options.tool === 'migbench-probe') this.process.endInput();
    else this.process.kill('SIGINT');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    const result = await this.process.done.finally(() => clearTimeout(timer));
    if (!this.totals) {
      throw new MigbenchError(
        'MB_PROBE',
        `${result.host}: probe \`${result.argv.join(' ')}\` ended without its summary (exit ${result.exitCode ?? result.signal}): ${result.stderr.trim().slice(0, 300)}`,
        {
          context: { host: result.host },
        },
      );
    }
    return this.totals;
  }
}
