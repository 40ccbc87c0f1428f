// Runs argv on a remote host over one SSH connection (ssh2): exec channels for
// commands, streamlocal forwarding for unix sockets (QMP, the agent channel).
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Duplex, PassThrough } from 'node:stream';
import { Client, type AnyAuthMethod, type ClientChannel, type ConnectConfig } from 'ssh2';
import { CommandError, displayArgv, MigbenchError } from '../model/errors.js';
import { certificateAuthorities, certifiedKeys, knownHostKeys, verifyHostKey, type HostKeyPolicy } from './hostkey.js';
import { clixmlText, shellQuote, windowsCommandLine } from './quote.js';
import type { CommandResult, CommandRunner, RunnerIncident, RunningCommand, RunOptions, SpawnOptions } from './runner.js';
import { sleep } from '../model/time.js';

export interface SshTarget {
  /** Label for errors and records, e.g. "source". */
  readonly label: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  /** Private key material, tried first; kept out of every message and log. */
  readonly privateKey?: Buffer;
  /** More private keys, tried in order after it (an ~/.ssh/config's IdentityFiles). */
  readonly morePrivateKeys?: readonly Buffer[];
  /** An ssh-agent's socket (SSH_AUTH_SOCK), tried after the keys. Never forwarded. */
  readonly agent?: string;
  readonly hostKeys: HostKeyPolicy;
  /** argv whose stdin/stdout carry the connection (OpenSSH's ProxyCommand). */
  readonly proxyCommand?: readonly string[];
  /** A host the connection goes through (OpenSSH's ProxyJump): its own host key checked, its own login. */
  readonly jump?: SshTarget;
  /** @default 15000 */
  readonly connectTimeoutMs?: number;
  /** Where the server logs its side (the lab's sshd -E file): named when a connection is lost. */
  readonly serverLog?: string;
  /**
   * The host's kind of login shell. `windows`: Windows OpenSSH, whose shell is cmd.exe or
   * PowerShell. Every command goes as `powershell -NoProfile -NonInteractive -EncodedCommand`
   * (windowsCommandLine), its exit code passed on by PowerShell; timeouts are the client's,
   * as Windows has no coreutils `timeout`; there are no unix sockets to forward.
   * @default 'posix'
   */
  readonly platform?: 'posix' | 'windows';
}

/** How a channel's command ended, as the server said (exit-status or exit-signal). */
interface ChannelExit {
  code: number | null;
  signal: string | null;
}

/** One SSH connection and what is known about its end. */
interface Link {
  readonly client: Client;
  readonly openedAtMs: number;
  closedAtMs?: number;
  /** ssh2's error, when one ended it. */
  cause?: string;
  /** The far end sent EOF (no error): the server, or the proxy carrying the connection, closed it. */
  sawEof?: boolean;
  /** Settles once the proxy (if any) has exited, with how. */
  readonly proxyExit: Promise<string | undefined>;
}

/**
 * ssh2's protocol trace, one timestamped line per event, appended to the file named by
 * MIGBENCH_SSH_TRACE (no key material is in it): the client's half of a lost connection's
 * timeline, to lay beside the server's log.
 */
let traceStream: WriteStream | undefined;
function tracer(host: string): ((line: string) => void) | undefined {
  const file = process.env.MIGBENCH_SSH_TRACE;
  if (!file) return undefined;
  traceStream ??= createWriteStream(file, { flags: 'a' });
  return (line) => traceStream!.write(`${new Date().toISOString()} [${process.pid}] ${host}: ${line}\n`);
}

export class SshRunner implements CommandRunner {
  readonly host: string;
  readonly incidents: RunnerIncident[] = [];
  /** Every exec channel, spawned process and forwarded socket: the round trips a measurement costs. */
  channelsOpened = 0;
  /** Closed by migbench: no reconnecting. */
  private ended = false;
  private reconnecting: Promise<void> | undefined;
  /** When a channel last started, moved data or ended: how long the connection sat idle. */
  private lastActivityMs = performance.now();

  private constructor(
    private link: Link,
    readonly target: SshTarget,
  ) {
    this.host = hostLabel(target);
  }

  private get windows(): boolean {
    return this.target.platform === 'windows';
  }

  /** argv as the host's login shell must get it (src/exec/quote.ts). */
  private commandLine(argv: readonly string[]): string {
    return this.windows ? windowsCommandLine(argv) : shellQuote(argv);
  }

  private get lost(): boolean {
    return this.link.closedAtMs !== undefined;
  }

  static async connect(target: SshTarget): Promise<SshRunner> {
    return new SshRunner(await openLink(target), target);
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
    const old = this.link;
    this.reconnecting ??= (async () => {
      try {
        this.link = await openLink(this.target);
        this.incident(`SSH connection lost (${await lossCause(old)}) and made again`);
      } finally {
        this.reconnecting = undefined;
      }
    })();
    try {
      await this.reconnecting;
    } catch (error) {
      throw new CommandError(
        'MB_COMMAND_START',
        {
          host: this.host,
          argv,
          exitCode: null,
          signal: null,
          stderr: '',
          reason: `SSH connection was lost (${await lossCause(old)}) and could not be made again: ${error instanceof Error ? error.message : String(error)}`,
        },
        error,
      );
    }
  }

  private incident(text: string): void {
    this.incidents.push({ atMs: Date.now(), host: this.host, text });
  }

  /**
   * Opens an exec channel. Its exit status is caught here, in ssh2's callback: a quick
   * command's CHANNEL_SUCCESS, EOF, exit-status and CLOSE often arrive in one read, which
   * ssh2 parses in one go, so a listener added after an await (a microtask later) misses
   * the 'exit' event and sees only the close: a command that exited 0 read as "ended
   * without an exit status". That was issue 15's dropped commands, more often the busier
   * the client (both cores emulating guests lets packets pile up between reads).
   */
  private async exec(argv: readonly string[]): Promise<{ channel: ClientChannel; link: Link; exit: ChannelExit }> {
    await this.ensureOpen(argv);
    const link = this.link;
    this.lastActivityMs = performance.now();
    return new Promise((resolve, reject) => {
      link.client.exec(this.commandLine(argv), (error, channel) => {
        if (!error) {
          const exit: ChannelExit = { code: null, signal: null };
          channel.on('exit', (code: number | null, sig?: string) => {
            exit.code = code ?? null;
            // ssh2 names the signal in full (SIGKILL); the old listener prefixed it again.
            exit.signal = sig ?? null;
          });
          return resolve({ channel, link, exit });
        }
        void (async () => {
          const lostMeanwhile = link.closedAtMs !== undefined;
          const reason = lostMeanwhile ? `could not start: the SSH connection was lost (${await lossCause(link)})` : `could not start over SSH: ${error.message}`;
          reject(new CommandError(lostMeanwhile ? 'MB_SSH_LOST' : 'MB_COMMAND_START', { host: this.host, argv, exitCode: null, signal: null, stderr: '', reason }, error));
        })();
      });
    });
  }

  /** Runs argv; an idempotent command whose connection was lost runs once more on a new one. */
  async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    try {
      return await this.runOnce(argv, options);
    } catch (error) {
      if (!options.idempotent || this.ended || !(error instanceof CommandError) || error.code !== 'MB_SSH_LOST') throw error;
      this.incident(`\`${displayArgv(argv)}\` lost its connection and ran again on a new one (${error.message})`);
      return this.runOnce(argv, options);
    }
  }

  private async runOnce(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
    this.channelsOpened++;
    const idleBeforeMs = performance.now() - this.lastActivityMs;
    const started = performance.now();
    // OpenSSH honours signal requests only with privilege separation, which it drops for
    // root sessions: a POSIX host enforces the timeout itself (coreutils timeout), and the
    // client gives up on its own shortly after, whatever the channel does. A Windows host
    // has no such command: there the client's own timer is the timeout, and closing the
    // channel ends the session's process.
    const hostTimeout = options.timeoutMs !== undefined && !this.windows;
    const remoteArgv = hostTimeout ? ['timeout', '-k', '2', `${(options.timeoutMs! / 1000).toFixed(3)}s`, ...argv] : argv;
    const clientGraceMs = this.windows ? 0 : 5000;
    const { channel, link, exit } = await this.exec(remoteArgv);
    return new Promise((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let settled = false;
      const finish = async (timedOut: boolean) => {
        if (settled) return;
        settled = true;
        if (guard) clearTimeout(guard);
        this.lastActivityMs = performance.now();
        const { code: exitCode, signal } = exit;
        const errText = Buffer.concat(stderr).toString('utf8');
        const result: CommandResult = {
          host: this.host,
          argv,
          exitCode,
          signal,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: this.windows ? clixmlText(errText) : errText,
          durationMs: performance.now() - started,
          ok: exitCode === 0,
        };
        // timeout(1) exits 124 after TERM and 137 after the follow-up KILL.
        const expired = timedOut || (hostTimeout && (exitCode === 124 || exitCode === 137) && result.durationMs >= options.timeoutMs!);
        if (expired) reject(new CommandError('MB_COMMAND_TIMEOUT', { ...result, reason: `timed out after ${options.timeoutMs} ms` }));
        else if (exitCode === null && signal === null) reject(await this.lostError(link, result, idleBeforeMs));
        else if ((options.check ?? true) && !result.ok) reject(new CommandError('MB_COMMAND_FAILED', result));
        else resolve(result);
      };
      const guard =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              channel.close();
              void finish(true);
            }, options.timeoutMs + clientGraceMs);
      channel.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        this.lastActivityMs = performance.now();
      });
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      channel.on('close', () => void finish(false));
      if (options.stdin !== undefined) channel.end(options.stdin);
      else channel.end();
    });
  }

  /**
   * A channel that closed without an exit status: either its connection ended (MB_SSH_LOST,
   * with why, how long the command had run and the connection had idled, and where the
   * server logged its side), or the server closed the channel alone.
   */
  private async lostError(link: Link, result: CommandResult, idleBeforeMs: number): Promise<CommandError> {
    // ssh2 closes the channels before it reports the connection's end: let it.
    await sleep(50);
    const busy = `after ${Math.round(result.durationMs)} ms running (the connection was ${Math.round((performance.now() - result.durationMs - link.openedAtMs) / 1000)} s old and had been idle ${Math.round(idleBeforeMs)} ms before it)`;
    const log = this.target.serverLog ? `; the server's log: ${this.target.serverLog}` : "; the server's side is in the host's sshd log";
    if (link.closedAtMs === undefined) {
      return new CommandError('MB_COMMAND_FAILED', {
        ...result,
        reason: `ended without an exit status ${busy}: the server closed the channel while the connection stayed up${log}`,
      });
    }
    return new CommandError('MB_SSH_LOST', { ...result, reason: `lost its SSH connection ${busy}: ${await lossCause(link)}${log}` });
  }
  spawn(argv: readonly string[], options: SpawnOptions = {}): RunningCommand {
    this.channelsOpened++;
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
        ({ channel: opened, exit }) => {
          channel = opened;
          opened.pipe(stdout);
          opened.stderr.on('data', (chunk: Buffer) => {
            if (stderr.length < limit) stderr += chunk.toString('utf8');
            stderrStream.write(chunk);
          });
          opened.on('close', () => {
            stderrStream.end();
            resolve({ host, argv, exitCode: exit.code, signal: exit.signal, stdout: '', stderr, durationMs: performance.now() - started, ok: exit.code === 0 });
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
    if (this.windows) {
      throw new CommandError('MB_COMMAND_START', {
        host: this.host,
        argv: ['connect', path],
        exitCode: null,
        signal: null,
        stderr: '',
        reason: 'a Windows host has no unix sockets to forward (Hyper-V is driven through PowerShell)',
      });
    }
    this.channelsOpened++;
    await this.ensureOpen(['connect', path]);
    return new Promise((resolve, reject) => {
      this.link.client.openssh_forwardOutStreamLocal(path, (error, channel) => {
        if (error) {
          reject(
            new CommandError(
              'MB_COMMAND_START',
              { host: this.host, argv: ['connect', path], exitCode: null, signal: null, stderr: '', reason: `cannot open unix socket over SSH: ${error.message}` },
              error,
            ),
          );
        } else resolve(channel);
      });
    });
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.lost) return;
    await new Promise<void>((resolve) => {
      this.link.client.once('close', () => resolve());
      this.link.client.end();
      setTimeout(resolve, 2000).unref();
    });
  }
}

function hostLabel(target: SshTarget): string {
  return `${target.label} (${target.user}@${target.address}:${target.port})`;
}

/** Why a link ended, once the proxy (if any) has said how it exited. */
async function lossCause(link: Link): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const proxy = await Promise.race([link.proxyExit, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 500)))]).finally(() => clearTimeout(timer));
  // A proxy that died ends its pipes early: ssh2's "Premature close" only echoes that.
  if (link.cause && !(proxy && /Premature close/.test(link.cause))) return [link.cause, proxy].filter(Boolean).join('; ');
  // An EOF with no error: whoever carried the connection ended it. With a proxy, it says how.
  return proxy ?? link.cause ?? (link.sawEof ? 'the far end closed the connection (EOF) without an SSH disconnect message' : 'closed with no error from ssh2');
}

/**
 * Connects (through the jump host first, when there is one), checks the host key (or the
 * host's certificate, for a known_hosts @cert-authority line), and watches the connection
 * for its end.
 */
async function openLink(target: SshTarget): Promise<Link> {
  const jump = target.jump ? await openLink(target.jump) : undefined;
  try {
    const hostKeys = await withCertifiedKeys(target);
    const via = jump ? await forwardThrough(jump, target) : undefined;
    return await connectLink({ ...target, hostKeys }, via);
  } catch (error) {
    jump?.client.end();
    throw error;
  }
}

/**
 * The policy with the keys a valid host certificate vouches for, when known_hosts trusts a
 * CA for this host and lists no key of its own: ssh2 cannot negotiate certificates, so
 * OpenSSH's ssh-keyscan fetches the one the host presents. Only on a direct route: the
 * certificate must come from the host the connection reaches.
 */
async function withCertifiedKeys(target: SshTarget): Promise<HostKeyPolicy> {
  const policy = target.hostKeys;
  const authorities = certificateAuthorities(policy, target.address, target.port);
  if (!authorities.length || knownHostKeys(policy, target.address, target.port).length) return policy;
  if (target.jump || target.proxyCommand) {
    return {
      ...policy,
      certificateNote: 'known_hosts trusts a CA for this host, but a host certificate can only be fetched on a direct route (no ProxyJump or proxyCommand): pin its key instead',
    };
  }
  return { ...policy, ...(await certifiedKeys(target.address, target.port, authorities)) };
}

/** A channel to the target opened on the jump host's connection, which then carries it. */
function forwardThrough(jump: Link, target: SshTarget): Promise<{ sock: Duplex; closed: Promise<string | undefined>; jump: Link }> {
  return new Promise((resolve, reject) => {
    jump.client.forwardOut('127.0.0.1', 0, target.address, target.port, (error, channel) => {
      if (error) {
        reject(new MigbenchError('MB_SSH_CONNECT', `${hostLabel(target)}: the jump host ${hostLabel(target.jump!)} could not reach it: ${error.message}`, { cause: error }));
        return;
      }
      const closed = new Promise<string | undefined>((settle) => jump.client.once('close', () => settle(`the jump host ${hostLabel(target.jump!)} closed its connection`)));
      resolve({ sock: channel, closed, jump });
    });
  });
}

function connectLink(target: SshTarget, via: { sock: Duplex; closed: Promise<string | undefined>; jump: Link } | undefined): Promise<Link> {
  const host = hostLabel(target);
  return new Promise((resolve, reject) => {
    const client = new Client();
    // After a failed handshake ssh2 emits a second error (the destroyed socket's abort):
    // the first one rejected the connect, the echo must not become an uncaught exception.
    client.on('error', () => undefined);
    const refusal: Refusal = {};
    const trace = tracer(host);
    const config = connectConfig(target, refusal, trace);
    const proxy = target.proxyCommand?.length ? startProxy(target.proxyCommand, refusal) : undefined;
    if (proxy) {
      config.sock = proxy.sock as unknown as ConnectConfig['sock'];
      client.on('close', () => proxy.child.kill());
    }
    if (via) {
      config.sock = via.sock as unknown as ConnectConfig['sock'];
      client.on('close', () => via.jump.client.end());
    }
    const proxyExit = proxy?.exit ?? via?.closed ?? Promise.resolve(undefined);
    const startedMs = performance.now();
    const onError = (error: Error) => {
      client.removeListener('ready', onReady);
      proxy?.child.kill();
      reject(connectError(host, error, refusal.reason, performance.now() - startedMs));
    };
    const onReady = () => {
      client.removeListener('error', onError);
      resolve(watchLink(client, proxyExit, trace));
    };
    client.once('error', onError);
    client.once('ready', onReady);
    client.connect(config);
  });
}

/** Why a connection attempt was refused (host key, proxy), when we know better than ssh2's error. */
interface Refusal {
  reason?: string;
}

/** The logins to try, in OpenSSH's order: the keys given, then the agent's. */
function authMethods(target: SshTarget): AnyAuthMethod[] {
  const username = target.user;
  const keys = [...(target.privateKey ? [target.privateKey] : []), ...(target.morePrivateKeys ?? [])];
  return [...keys.map((key) => ({ type: 'publickey' as const, username, key })), ...(target.agent ? [{ type: 'agent' as const, username, agent: target.agent }] : [])];
}

function connectConfig(target: SshTarget, refusal: Refusal, trace: ((line: string) => void) | undefined): ConnectConfig {
  return {
    host: target.address,
    port: target.port,
    username: target.user,
    authHandler: authMethods(target),
    readyTimeout: target.connectTimeoutMs ?? 15000,
    keepaliveInterval: 5000,
    keepaliveCountMax: 3,
    hostVerifier: (key: Buffer) => {
      const verdict = verifyHostKey(target.hostKeys, target.address, target.port, key);
      if (!verdict.accepted) refusal.reason = verdict.reason;
      return verdict.accepted;
    },
    ...(trace && { debug: trace }),
  };
}

/** Starts the proxy command whose stdin/stdout carry the connection; exit settles with how it ended. */
function startProxy(proxyCommand: readonly string[], refusal: Refusal): { child: ChildProcess; exit: Promise<string | undefined>; sock: Duplex } {
  const [command, ...args] = proxyCommand;
  const display = displayArgv(proxyCommand);
  const child = spawnChild(command!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let proxyStderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (proxyStderr += chunk.toString()));
  child.on('error', (error) => {
    refusal.reason ??= `proxy command ${display} failed: ${error.message}`;
  });
  const exit = new Promise<string | undefined>((settle) =>
    child.on('close', (code, signal) => {
      if (code) refusal.reason ??= `proxy command exited with status ${code}: ${proxyStderr.trim()}`;
      const stderrTail = proxyStderr.trim() ? ` (${proxyStderr.trim().split('\n').slice(-2).join(' ')})` : '';
      settle(`the proxy \`${display}\` ${signal ? `was killed by ${signal}` : `exited with status ${code}`}${stderrTail}`);
    }),
  );
  const sock = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
  // ssh2 destroys the socket at its handshake timeout, which makes this duplex and the
  // proxy's pipes under it emit an AbortError; the client reports the timeout itself,
  // so the echoes must not crash us.
  for (const stream of [sock, child.stdout!, child.stdin!]) stream.on('error', () => undefined);
  return { child, exit, sock };
}

/** How long the attempt waited goes into the message: it tells a user whether the timeout ended it. */
function connectError(host: string, error: Error, refusal: string | undefined, waitedMs: number): MigbenchError {
  if (refusal && /verif|denied/i.test(error.message)) {
    return new MigbenchError('MB_SSH_HOST_KEY', `${host}: refused: ${refusal}`, { cause: error, context: { host } });
  }
  const detail = refusal ? `${error.message} (${refusal})` : error.message;
  const waited = `${(waitedMs / 1000).toFixed(1)} s`;
  return new MigbenchError('MB_SSH_CONNECT', `${host}: SSH connection failed after ${waited}: ${detail}`, { cause: error, context: { host, waitedMs: Math.round(waitedMs) } });
}

/** The link of a connection that is up, with listeners that note how and when it ends. */
function watchLink(client: Client, proxyExit: Promise<string | undefined>, trace: ((line: string) => void) | undefined): Link {
  const link: Link = { client, openedAtMs: performance.now(), proxyExit };
  client.on('error', (error) => {
    link.cause ??= `ssh2: ${error.message}`;
  });
  client.on('end', () => {
    link.sawEof = true;
  });
  client.on('close', () => {
    link.closedAtMs = performance.now();
    trace?.('connection closed');
  });
  return link;
}
