// The guest agent's channel, seen from a hypervisor host: migbench-probe tap connects
// to QEMU's chardev socket, stamps every line with the host's receive time and
// forwards commands (verify, corrupt, stats) to the agent.
import { createInterface } from 'node:readline';
import type { CommandRunner, RunningCommand } from '../exec/runner.js';
import { epochMs, nsToEpochMs } from '../model/time.js';

export type Side = 'source' | 'destination';

export interface Heartbeat {
  readonly seq: number;
  /** The guest's monotonic clock, µs. */
  readonly guestUs: number;
  /** Arrival on the host, ms since the epoch. */
  readonly atMs: number;
  readonly side: Side;
}

export interface Verification {
  /** Heartbeat sequence number when the pass began: passes that began after a migration prove its result. */
  readonly startSeq: number;
  readonly pagesChecked: number;
  readonly badPages: number;
  /** The agent's index of the first page that failed (pattern pages first, then the working set); null: none. */
  readonly firstBadPage: number | null;
  readonly passMs: number;
  readonly atMs: number;
  readonly side: Side;
}

export interface DirtierStats {
  readonly seq: number;
  readonly pagesDirtied: number;
  readonly badPages: number;
  readonly atMs: number;
  readonly side: Side;
}

/** A pass over the guest's disk data region, read back with O_DIRECT. */
export interface DiskVerification {
  readonly startSeq: number;
  readonly blocksChecked: number;
  readonly badBlocks: number;
  /** The first block of the data region that failed (4 KiB blocks from the disk's start); null: none. */
  readonly firstBadBlock: number | null;
  readonly passMs: number;
  readonly atMs: number;
  readonly side: Side;
}

export interface DiskWriterStats {
  readonly seq: number;
  readonly blocksWritten: number;
  readonly writeErrors: number;
  readonly atMs: number;
  readonly side: Side;
}

export type AgentLine =
  | { readonly kind: 'heartbeat'; readonly value: Heartbeat }
  | { readonly kind: 'verification'; readonly value: Verification }
  | { readonly kind: 'stats'; readonly value: DirtierStats }
  | { readonly kind: 'disk-verification'; readonly value: DiskVerification }
  | { readonly kind: 'disk-stats'; readonly value: DiskWriterStats }
  | { readonly kind: 'info'; readonly atMs: number; readonly params: Record<string, string> }
  | { readonly kind: 'connected' }
  | { readonly kind: 'eof' };

export function parseAgentLine(line: string, side: Side): AgentLine | null {
  if (line === '# connected') return { kind: 'connected' };
  if (line === '# eof') return { kind: 'eof' };
  const parts = line.trim().split(/\s+/);
  if (parts.length < 2 || !/^\d+$/.test(parts[0]!)) return null;
  const atMs = nsToEpochMs(parts[0]!);
  const n = (i: number) => Number(parts[i]);
  /** A first-bad-index field: "-" when nothing failed. */
  const first = (i: number) => (parts[i] === '-' ? null : n(i));
  switch (parts[1]) {
    case 'H':
      return parts.length === 4 ? { kind: 'heartbeat', value: { seq: n(2), guestUs: n(3), atMs, side } } : null;
    case 'V':
      return parts.length === 7 ? { kind: 'verification', value: { startSeq: n(2), pagesChecked: n(3), badPages: n(4), passMs: n(5), firstBadPage: first(6), atMs, side } } : null;
    case 'D':
      return parts.length === 5 ? { kind: 'stats', value: { seq: n(2), pagesDirtied: n(3), badPages: n(4), atMs, side } } : null;
    case 'B':
      return parts.length === 7
        ? { kind: 'disk-verification', value: { startSeq: n(2), blocksChecked: n(3), badBlocks: n(4), passMs: n(5), firstBadBlock: first(6), atMs, side } }
        : null;
    case 'W':
      return parts.length === 5 ? { kind: 'disk-stats', value: { seq: n(2), blocksWritten: n(3), writeErrors: n(4), atMs, side } } : null;
    case 'I':
      return { kind: 'info', atMs, params: Object.fromEntries(parts.slice(2).map((kv) => kv.split('=', 2) as [string, string])) };
    default:
      return null;
  }
}

/**
 * What the agent takes. `corrupt [page]` and `corrupt-block N` damage a pattern page or a
 * disk block on purpose, so tests can prove the damage is reported and named.
 */
export type AgentCommand = 'verify' | 'stats' | 'corrupt' | `corrupt ${number}` | `corrupt-block ${number}`;

export interface AgentTapOptions {
  readonly runner: CommandRunner;
  readonly toolPath: string;
  readonly socketPath: string;
  readonly side: Side;
  /** How long the tap keeps trying to connect to a socket that is not there yet. @default 10000 */
  readonly connectWithinMs?: number;
  /**
   * What earlier taps learnt of this agent, for a tap that will not see it start (a guest
   * kept from the last sample): its start-up line, and the heartbeat it had reached.
   */
  readonly memory?: { readonly info: Readonly<Record<string, string>> | null; readonly lastSeq: number };
  /** CPUs (a taskset -c list) to pin the tap to. */
  readonly cpus?: string;
}

export interface AgentStart {
  readonly atMs: number;
  readonly bootId: string;
}

export class AgentTap {
  readonly heartbeats: Heartbeat[] = [];
  /** Agent start-ups seen: one when the guest boots; any later one means the guest restarted. */
  readonly starts: AgentStart[] = [];
  /** Heartbeat sequence numbers that went backwards (a restarted agent counts from 1 again). */
  seqRegressions = 0;
  readonly verifications: Verification[] = [];
  readonly stats: DirtierStats[] = [];
  readonly diskVerifications: DiskVerification[] = [];
  readonly diskStats: DiskWriterStats[] = [];
  info: Record<string, string> | null = null;
  connected = false;
  /** Times the tap lost its connection (its SSH channel dropped) and came back, ms since the epoch. */
  readonly losses: Array<{ lostAtMs: number; backAtMs: number | null }> = [];
  private readonly listeners = new Set<() => void>();
  private process: RunningCommand;
  private stopping = false;
  private socketClosed = false;
  /** Resolves when the tap is stopped or gives up coming back. */
  private readonly ended: Promise<void>;
  private end!: () => void;

  /** The heartbeat an earlier tap of this agent reached: the first one here must come after it. */
  private readonly seqFloor: number | undefined;

  constructor(readonly options: AgentTapOptions) {
    this.info = options.memory?.info ? { ...options.memory.info } : null;
    this.seqFloor = options.memory?.lastSeq;
    this.ended = new Promise((resolve) => (this.end = resolve));
    this.process = this.start(options.connectWithinMs ?? 10_000);
  }

  private start(connectWithinMs: number): RunningCommand {
    const { options } = this;
    const argv = [options.toolPath, 'tap', '-r', '-e', '-w', String(connectWithinMs), options.socketPath];
    const process = options.runner.spawn(options.cpus ? ['taskset', '-c', options.cpus, ...argv] : argv);
    createInterface({ input: process.stdout }).on('line', (line) => this.onLine(line));
    const onExit = () => {
      // A tap that never connected failed for its own reasons (diagnostics() says which);
      // one that printed "# eof" saw the guest's side close (QEMU ended, as libvirt's source
      // does after a migration). Only a tap cut off without either lost its connection.
      if (this.stopping || !this.connected || this.socketClosed) return this.end();
      // The tap ended without being asked: its connection to the host dropped. Start it
      // again (the runner reconnects) so the guest is not taken for dead; the record says
      // which span of heartbeats is missing.
      if (this.losses.length >= 5) return this.end();
      this.losses.push({ lostAtMs: epochMs(), backAtMs: null });
      this.connected = false;
      setTimeout(() => {
        if (this.stopping) return this.end();
        this.process = this.start(10_000);
      }, 200);
    };
    // Lines still in flight (the "# eof" above all) are read before deciding.
    const settled = () => void setTimeout(onExit, 50);
    process.done.then(settled, settled);
    return process;
  }

  private onLine(line: string): void {
    const parsed = parseAgentLine(line, this.options.side);
    if (!parsed) return;
    switch (parsed.kind) {
      case 'heartbeat': {
        const lastSeq = this.heartbeats.at(-1)?.seq ?? this.seqFloor;
        if (lastSeq !== undefined && parsed.value.seq <= lastSeq) this.seqRegressions++;
        this.heartbeats.push(parsed.value);
        break;
      }
      case 'verification':
        this.verifications.push(parsed.value);
        break;
      case 'stats':
        this.stats.push(parsed.value);
        break;
      case 'disk-verification':
        this.diskVerifications.push(parsed.value);
        break;
      case 'disk-stats':
        this.diskStats.push(parsed.value);
        break;
      case 'info':
        this.info = parsed.params;
        this.starts.push({ atMs: parsed.atMs, bootId: parsed.params.boot_id ?? 'unknown' });
        break;
      case 'connected': {
        this.connected = true;
        const loss = this.losses.at(-1);
        if (loss && loss.backAtMs === null) loss.backAtMs = epochMs();
        break;
      }
      case 'eof':
        this.socketClosed = true;
        break;
    }
    for (const listener of this.listeners) listener();
  }

  get lastHeartbeat(): Heartbeat | undefined {
    return this.heartbeats.at(-1);
  }

  send(command: AgentCommand): void {
    this.process.write(`${command}\n`);
  }

  /** Resolves with true once `condition` holds, false on timeout or when the tap ends. */
  waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (condition()) finish(true);
      };
      const finish = (value: boolean) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => finish(condition()), timeoutMs);
      this.listeners.add(check);
      void this.ended.then(() => finish(condition()));
    });
  }

  /**
   * The agent checks a disk when it was given one and could fill it at start. Only the
   * tap that saw the agent start knows (after a migration, ask the source's tap).
   */
  get hasDisk(): boolean {
    return this.info?.disk === 'ok';
  }

  /**
   * Asks the agent for a full verification pass (memory, and the disk when `disk`) and
   * waits for the reports; a report that does not come is null.
   */
  async verify(timeoutMs: number, withDisk: boolean): Promise<{ memory: Verification | null; disk: DiskVerification | null }> {
    const after = this.lastHeartbeat?.seq ?? 0;
    const wantDisk = withDisk;
    const memory = () => this.verifications.find((v) => v.startSeq >= after);
    const disk = () => this.diskVerifications.find((v) => v.startSeq >= after);
    this.send('verify');
    await this.waitFor(() => memory() !== undefined && (!wantDisk || disk() !== undefined), timeoutMs);
    return { memory: memory() ?? null, disk: disk() ?? null };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.process.endInput();
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 3000);
    await this.process.done.catch(() => undefined).finally(() => clearTimeout(timer));
  }

  /** stderr of the tap (why it could not connect, for instance). */
  async diagnostics(): Promise<string> {
    const result = await Promise.race([this.process.done.catch(() => null), new Promise<null>((r) => setTimeout(() => r(null), 10))]);
    return result ? result.stderr.trim() : '';
  }
}
