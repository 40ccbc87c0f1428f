// Runs argv on this machine, optionally inside a network namespace (`ip netns exec`).
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { CommandError } from '../model/errors.js';
import type { CommandResult, CommandRunner, RunningCommand, RunOptions, SpawnOptions } from './runner.js';

export interface LocalRunnerOptions {
  /** Run every command inside this network namespace. */
  readonly netns?: string;
  /** Label for errors and records. @default "local" or "local[netns]" */
  readonly label?: string;
  /** Working directory of every command. @default the current directory */
  readonly cwd?: string;
  /** The commands' environment. @default this process's */
  readonly env?: NodeJS.ProcessEnv;
}

export class LocalRunner implements CommandRunner {
  readonly host: string;
  private readonly netns: string | undefined;
  private readonly cwd: string | undefined;
  private readonly env: NodeJS.ProcessEnv | undefined;

  constructor(options: LocalRunnerOptions = {}) {
    this.netns = options.netns;
    this.cwd = options.cwd;
    this.env = options.env;
    this.host = options.label ?? (options.netns ? `local[${options.netns}]` : 'local');
  }

  private wrap(argv: readonly string[]): string[] {
    if (argv.length === 0) throw new Error('LocalRunner: empty argv');
    return this.netns ? ['ip', 'netns', 'exec', this.netns, ...argv] : [...argv];
  }

  run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const full = this.wrap(argv);
    const started = performance.now();
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        // Its own process group, so a timeout ends what it started too: a grandchild left
        // running would keep its output open, and the run waiting for it.
        child = spawnChild(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], cwd: this.cwd, detached: true, ...(this.env && { env: this.env }) });
      } catch (error) {
        reject(startError(this.host, argv, error));
        return;
      }
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      let spawnFailure: unknown;
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              killGroup(child);
            }, options.timeoutMs);
      child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.stdin!.on('error', () => {
        // The command may exit without reading its stdin; its exit status tells.
      });
      child.on('error', (error) => {
        spawnFailure = error;
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        if (spawnFailure) {
          reject(startError(this.host, argv, spawnFailure));
          return;
        }
        const result: CommandResult = {
          host: this.host,
          argv,
          exitCode: code,
          signal,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          durationMs: performance.now() - started,
          ok: code === 0,
        };
        if (timedOut) {
          reject(new CommandError('MB_COMMAND_TIMEOUT', { ...result, reason: `timed out after ${options.timeoutMs} ms` }));
        } else if ((options.check ?? true) && !result.ok) {
          reject(new CommandError('MB_COMMAND_FAILED', result));
        } else {
          resolve(result);
        }
      });
      if (options.stdin !== undefined) child.stdin!.end(options.stdin);
      else child.stdin!.end();
    });
  }

  spawn(argv: readonly string[], options: SpawnOptions = {}): RunningCommand {
    const full = this.wrap(argv);
    const started = performance.now();
    const child = spawnChild(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], cwd: this.cwd, ...(this.env && { env: this.env }) });
    const limit = options.stderrLimitBytes ?? 65536;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < limit) stderr += chunk.toString('utf8');
    });
    child.stdin!.on('error', () => {
      // Writing to a command that already exited: its exit status reports why.
    });
    const host = this.host;
    const done = new Promise<CommandResult>((resolve, reject) => {
      let failure: unknown;
      child.on('error', (error) => {
        failure = error;
      });
      child.on('close', (code, signal) => {
        if (failure) reject(startError(host, argv, failure));
        else resolve({ host, argv, exitCode: code, signal, stdout: '', stderr, durationMs: performance.now() - started, ok: code === 0 });
      });
    });
    // Callers may only care about the stream; an unobserved rejection must not crash.
    done.catch(() => undefined);
    return {
      host,
      argv,
      stdout: child.stdout!,
      stderr: child.stderr!,
      write: (data) => {
        child.stdin!.write(data);
      },
      endInput: () => {
        child.stdin!.end();
      },
      kill: (signal = 'SIGTERM') => {
        child.kill(signal);
      },
      done,
    };
  }

  openUnixSocket(path: string): Promise<Duplex> {
    // Unix sockets live in the filesystem, not in a network namespace.
    return new Promise((resolve, reject) => {
      const socket = connect({ path });
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (error) =>
        reject(
          new CommandError(
            'MB_COMMAND_START',
            { host: this.host, argv: ['connect', path], exitCode: null, signal: null, stderr: '', reason: `cannot connect to unix socket: ${error.message}` },
            error,
          ),
        ),
      );
    });
  }

  async close(): Promise<void> {
    // Nothing is held open between commands.
  }
}

function startError(host: string, argv: readonly string[], error: unknown): CommandError {
  const message = error instanceof Error ? error.message : String(error);
  const notFound = (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return new CommandError(
    'MB_COMMAND_START',
    { host, argv, exitCode: null, signal: null, stderr: '', reason: notFound ? `could not start: ${argv[0]} not found` : `could not start: ${message}` },
    error,
  );
}

/** SIGKILL to the child's process group (it leads one: spawned detached), or the child alone if that fails. */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) return void process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is gone already, or was never made: the child itself below.
  }
  child.kill('SIGKILL');
}
