// Runs argv on a remote host over one SSH connection (ssh2): exec channels for
// commands, streamlocal forwarding for unix sockets (QMP, the agent channel).
import { spawn as spawnChild } from 'node:child_process';
import { Duplex, PassThrough } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { CommandError, MigbenchError } from '../errors.js';
import { verifyHostKey, type HostKeyPolicy } from './hostkey.js';
import { shellQuote } from './quote.js';
import type { CommandResult, CommandRunner, RunningCommand, RunOptions, SpawnOptions } from './runner.js';

export interface SshTarget {
  /** Label for errors and records, e.g. "source". */
  readonly label: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  /** Private key material; kept out of every message and log. */
  readonly privateKey: Buffer;
  readonly hostKeys: HostKeyPolicy;
  /** argv whose stdin/stdout carry the connection (OpenSSH's ProxyCommand). */
  readonly proxyCommand?: readonly string[];
  /** @default 15000 */
  readonly connectTimeoutMs?: number;
}

export class SshRunner implements CommandRunner {
  readonly host: string;
  /** Closed by migbench: no reconnecting. */
  private ended = false;
  private lost = false;
  private lastError: Error | undefined;
  private reconnecting: Promise<void> | undefined;

  private constructor(
    private client: Client,
    readonly target: SshTarget,
  ) {
    this.host = `${target.label} (${target.user}@${target.address}:${target.port})`;
    this.watch(client);
  }

  private watch(client: Client): void {
    client.on('error', (error) => {
      this.lastError = error;
    });
    client.on('close', () => {
      if (client === this.client) this.lost = true;
    });
  }

  static connect(target: SshTarget): Promise<SshRunner> {
    const host = `${target.label} (${target.user}@${target.address}:${target.port})`;
    return new Promise((resolve, reject) => {
      const client = new Client();
      // After a failed handshake ssh2 emits a second error (the destroyed socket's abort):
      // the first one rejected the connect, the echo must not become an uncaught exception.
      client.on('error', () => undefined);
      let refusal: string | undefined;
      const config: ConnectConfig = {
        host: target.address,
        port: target.port,
        username: target.user,
        privateKey: target.privateKey,
        readyTimeout: target.connectTimeoutMs ?? 15000,
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          const verdict = verifyHostKey(target.hostKeys, target.address, target.port, key);
          if (!verdict.accepted) refusal = verdict.reason;
          return verdict.accepted;
        },
      };
      let proxy: ReturnType<typeof spawnChild> | undefined;
      if (target.proxyCommand?.length) {
        const [command, ...args] = target.proxyCommand;
        proxy = spawnChild(command!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
        let proxyStderr = '';
        proxy.stderr!.on('data', (chunk: Buffer) => (proxyStderr += chunk.toString()));
        proxy.on('error', (error) => {
          refusal ??= `proxy command ${target.proxyCommand!.join(' ')} failed: ${error.message}`;
        });
        proxy.on('close', (code) => {
          if (code) refusal ??= `proxy command exited with status ${code}: ${proxyStderr.trim()}`;
        });
        const sock = Duplex.from({ readable: proxy.stdout!, writable: proxy.stdin! });
        // ssh2 destroys the socket at its handshake timeout, which makes this duplex and the
        // proxy's pipes under it emit an AbortError; the client reports the timeout itself,
        // so the echoes must not crash us.
        for (const stream of [sock, proxy.stdout!, proxy.stdin!]) stream.on('error', () => undefined);
        config.sock = sock as unknown as ConnectConfig['sock'];
        client.on('close', () => proxy?.kill());
      }
      const onError = (error: Error) => {
        client.removeListener('ready', onReady);
        proxy?.kill();
        if (refusal && /verif|denied/i.test(error.message)) {
          reject(new MigbenchError('MB_SSH_HOST_KEY', `${host}: refused: ${refusal}`, { cause: error, context: { host } }));
        } else {
          const detail = refusal ? `${error.message} (${refusal})` : error.message;
          reject(new MigbenchError('MB_SSH_CONNECT', `${host}: SSH connection failed: ${detail}`, { cause: error, context: { host } }));
        }
      };
      const onReady = () => {
        client.removeListener('error', onError);
        resolve(new SshRunner(client, target));
      };
      client.once('error', onError);
      client.once('ready', onReady);
      client.connect(config);
    });
  }

  /**
   * A connection that dropped (a host rebooting its sshd, a network blip) is made again,
   * host key checked again, before the next command: cleaning up after a fault needs the
   * host. What ran over the old connection is gone; the caller sees its channel close.
   */
  private async ensureOpen(argv: readonly string[]): Promise<void> {
    if (this.ended) {
      throw new CommandError('MB_COMMAND_START', { host: this.host, argv, exitCode: null, signal: null, stderr: '', reason: 'SSH connection was closed by migbench' });
    }
    if (!this.lost) return;
    this.reconnecting ??= (async () => {
      try {
        const fresh = await SshRunner.connect(this.target);
        this.client = fresh.client;
        this.watch(this.client);
        this.lost = false;
      } finally {
        this.reconnecting = undefined;
      }
    })();
    try {
      await this.reconnecting;
    } catch (error) {
      throw new CommandError(
        'MB_COMMAND_START',
        { host: this.host, argv, exitCode: null, signal: null, stderr: '', reason: `SSH connection was lost${this.lastError ? ` (${this.lastError.message})` : ''} and could not be made again: ${error instanceof Error ? error.message : String(error)}` },
        error,
      );
    }
  }

  private async exec(argv: readonly string[]): Promise<ClientChannel> {
    await this.ensureOpen(argv);
    return new Promise((resolve, reject) => {
      this.client.exec(shellQuote(argv), (error, channel) => {
        if (error) {
          reject(new CommandError('MB_COMMAND_START', { host: this.host, argv, exitCode: null, signal: null, stderr: '', reason: `could not start over SSH: ${error.message}` }, error));
        } else resolve(channel);
      });
    });
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const started = performance.now();
    // OpenSSH honours signal requests only with privilege separation, which it drops for
    // root sessions: the host enforces the timeout itself (coreutils timeout), and the
    // client gives up on its own shortly after, whatever the channel does.
    const remoteArgv = options.timeoutMs === undefined ? argv : ['timeout', '-k', '2', `${(options.timeoutMs / 1000).toFixed(3)}s`, ...argv];
    const channel = await this.exec(remoteArgv);
    return new Promise((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let exitCode: number | null = null;
      let signal: string | null = null;
      let settled = false;
      const finish = (timedOut: boolean) => {
        if (settled) return;
        settled = true;
        if (guard) clearTimeout(guard);
        const result: CommandResult = {
          host: this.host,
          argv,
          exitCode,
          signal,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          durationMs: performance.now() - started,
          ok: exitCode === 0,
        };
        // timeout(1) exits 124 after TERM and 137 after the follow-up KILL.
        const expired = timedOut || (options.timeoutMs !== undefined && (exitCode === 124 || exitCode === 137) && result.durationMs >= options.timeoutMs);
        if (expired) reject(new CommandError('MB_COMMAND_TIMEOUT', { ...result, reason: `timed out after ${options.timeoutMs} ms` }));
        else if (exitCode === null && signal === null)
          reject(new CommandError('MB_COMMAND_FAILED', { ...result, reason: `ended without an exit status (connection lost${this.lastError ? `: ${this.lastError.message}` : ''})` }));
        else if ((options.check ?? true) && !result.ok) reject(new CommandError('MB_COMMAND_FAILED', result));
        else resolve(result);
      };
      const guard =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              channel.close();
              finish(true);
            }, options.timeoutMs + 5000);
      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      channel.on('exit', (code: number | null, sig?: string) => {
        exitCode = code ?? null;
        signal = sig ? `SIG${sig}` : null;
      });
      channel.on('close', () => finish(false));
      if (options.stdin !== undefined) channel.end(options.stdin);
      else channel.end();
    });
  }

  spawn(argv: readonly string[], options: SpawnOptions = {}): RunningCommand {
    const started = performance.now();
    const stdout = new PassThrough();
    const stderrStream = new PassThrough();
    const limit = options.stderrLimitBytes ?? 65536;
    let stderr = '';
    let channel: ClientChannel | undefined;
    const pending: Array<(c: ClientChannel) => void> = [];
    const host = this.host;
    const done = new Promise<CommandResult>((resolve, reject) => {
      this.exec(argv).then(
        (opened) => {
          channel = opened;
          let exitCode: number | null = null;
          let signal: string | null = null;
          opened.pipe(stdout);
          opened.stderr.on('data', (chunk: Buffer) => {
            if (stderr.length < limit) stderr += chunk.toString('utf8');
            stderrStream.write(chunk);
          });
          opened.on('exit', (code: number | null, sig?: string) => {
            exitCode = code ?? null;
            signal = sig ? `SIG${sig}` : null;
          });
          opened.on('close', () => {
            stderrStream.end();
            resolve({ host, argv, exitCode, signal, stdout: '', stderr, durationMs: performance.now() - started, ok: exitCode === 0 });
          });
          for (const action of pending.splice(0)) action(opened);
        },
        (error) => {
          stdout.end();
          stderrStream.end();
          reject(error);
        },
      );
    });
    done.catch(() => undefined);
    const withChannel = (action: (c: ClientChannel) => void) => (channel ? action(channel) : pending.push(action));
    return {
      host,
      argv,
      stdout,
      stderr: stderrStream,
      write: (data) => withChannel((c) => c.write(data)),
      endInput: () => withChannel((c) => c.end()),
      // A signal request is ignored by OpenSSH for root sessions; closing stdin ends
      // migbench-probe (-e), and closing the channel ends everything else that writes.
      kill: (sig = 'SIGTERM') =>
        withChannel((c) => {
          c.signal(sig.replace(/^SIG/, ''));
          c.end();
          c.close();
        }),
      done,
    };
  }

  async openUnixSocket(path: string): Promise<Duplex> {
    await this.ensureOpen(['connect', path]);
    return new Promise((resolve, reject) => {
      this.client.openssh_forwardOutStreamLocal(path, (error, channel) => {
        if (error) {
          reject(new CommandError('MB_COMMAND_START', { host: this.host, argv: ['connect', path], exitCode: null, signal: null, stderr: '', reason: `cannot open unix socket over SSH: ${error.message}` }, error));
        } else resolve(channel);
      });
    });
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.lost) return;
    await new Promise<void>((resolve) => {
      this.client.once('close', () => resolve());
      this.client.end();
      setTimeout(resolve, 2000).unref();
    });
  }
}
