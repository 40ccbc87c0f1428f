// One way to run commands on a host, locally or over SSH. Drivers, the lab and the
// probes depend on this interface only: they never import child_process or ssh2.
import type { Duplex, Readable } from 'node:stream';

export interface CommandResult {
  readonly host: string;
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly ok: boolean;
}

export interface RunOptions {
  /** Data written to the command's stdin, which is then closed. */
  readonly stdin?: string | Buffer;
  /** Kill the command after this long and fail with MB_COMMAND_TIMEOUT. */
  readonly timeoutMs?: number;
  /** Throw CommandError when the command does not exit 0. @default true */
  readonly check?: boolean;
  /**
   * Running the command twice does no harm (`cat`, `rm -f`, `ip link del`): when the
   * connection under it is lost, it runs once more on a new one, and the runner notes it.
   */
  readonly idempotent?: boolean;
}

/** Something that went wrong under a command and what the runner did about it, for the record's notes. */
export interface RunnerIncident {
  readonly atMs: number;
  readonly host: string;
  readonly text: string;
}

export interface SpawnOptions {
  /** Collect at most this many bytes of stderr for the result. @default 65536 */
  readonly stderrLimitBytes?: number;
}

/** A command that keeps running while its output is read as a stream. */
export interface RunningCommand {
  readonly host: string;
  readonly argv: readonly string[];
  readonly stdout: Readable;
  readonly stderr: Readable;
  write(data: string | Buffer): void;
  /** Close the command's stdin (migbench-probe ends when its stdin closes). */
  endInput(): void;
  kill(signal?: NodeJS.Signals): void;
  /** Settles when the command has exited; stdout is not collected here (read the stream). */
  readonly done: Promise<CommandResult>;
}

export interface CommandRunner {
  /** Label used in every error and record: which host ran the command. */
  readonly host: string;
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
  spawn(argv: readonly string[], options?: SpawnOptions): RunningCommand;
  /** A byte stream to a unix socket on the host (QMP, the guest agent's channel). */
  openUnixSocket(path: string): Promise<Duplex>;
  /** Incidents so far, oldest first (append-only; runners that have none leave it out). */
  readonly incidents?: readonly RunnerIncident[];
  /** SSH channels opened so far (commands, spawned processes, forwarded sockets): round trips to a remote host. Local runners leave it out. */
  readonly channelsOpened?: number;
  close(): Promise<void>;
}
