// A QMP client over any byte stream: a local unix socket or one forwarded over SSH.
// QMP is line-delimited JSON: a greeting, then replies (matched by id) and events.
import type { Duplex } from 'node:stream';
import { MigbenchError, QmpError } from '../../model/errors.js';

export interface QmpEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
  /** Host wall-clock time of the event, ms since the epoch (µs precision). */
  readonly epochMs: number;
}

export interface QmpGreeting {
  readonly version: { qemu: { major: number; minor: number; micro: number }; package: string };
  readonly capabilities: readonly string[];
}

export type QmpMessage =
  | { readonly kind: 'greeting'; readonly greeting: QmpGreeting }
  | { readonly kind: 'return'; readonly id: string | undefined; readonly value: unknown }
  | { readonly kind: 'error'; readonly id: string | undefined; readonly errorClass: string; readonly desc: string }
  | { readonly kind: 'event'; readonly event: QmpEvent };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What parseQmpLine throws. A MigbenchError (MB_QMP_PROTOCOL), not a plain Error: the line
 * is QEMU's input, and the property tests (test/properties/qmp.prop.test.ts) hold every
 * parser of outside input to typed errors. QmpClient adds the host and socket.
 */
function protocolError(message: string): MigbenchError {
  return new MigbenchError('MB_QMP_PROTOCOL', message);
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

// JSON objects reach Number() and String() here only from a broken peer, and one with a
// "toString" or "valueOf" key makes them throw a TypeError (found by the property tests:
// {"event": "STOP", "timestamp": {"seconds": {"toString": 1}}}). Objects count as no value.
const asNumber = (value: unknown): number => (typeof value === 'object' && value !== null ? Number.NaN : Number(value ?? 0));
const asText = (value: unknown): string => (typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));

/** Classifies one line QEMU sent; throws on anything QMP does not define. */
export function parseQmpLine(line: string): QmpMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw protocolError(`not JSON: ${line.slice(0, 200)}`);
  }
  if (!isObject(value)) throw protocolError(`not a JSON object: ${line.slice(0, 200)}`);
  const id = typeof value.id === 'string' ? value.id : undefined;
  if (isObject(value.QMP)) {
    const qmp = value.QMP;
    // QmpGreeting promises numbers and a string: a greeting without them is not one
    // (found by the property tests: {"QMP": {"version": {}}} passed as a greeting).
    const qemu = isObject(qmp.version) ? qmp.version.qemu : undefined;
    if (!isObject(qmp.version) || !isObject(qemu) || !isFiniteNumber(qemu.major) || !isFiniteNumber(qemu.minor) || !isFiniteNumber(qemu.micro)) {
      throw protocolError('greeting without version');
    }
    const version = { qemu: { major: qemu.major, minor: qemu.minor, micro: qemu.micro }, package: typeof qmp.version.package === 'string' ? qmp.version.package : '' };
    // Capabilities are names; anything else in the list is not one.
    const capabilities = Array.isArray(qmp.capabilities) ? qmp.capabilities.filter((c): c is string => typeof c === 'string') : [];
    return { kind: 'greeting', greeting: { version, capabilities } };
  }
  if ('return' in value) return { kind: 'return', id, value: value.return };
  if (isObject(value.error)) {
    return { kind: 'error', id, errorClass: asText(value.error.class ?? 'GenericError'), desc: asText(value.error.desc ?? '') };
  }
  if (typeof value.event === 'string') {
    const ts = isObject(value.timestamp) ? value.timestamp : {};
    const seconds = asNumber(ts.seconds);
    const micros = asNumber(ts.microseconds);
    const epochMs = seconds * 1000 + micros / 1000;
    // Event times are subtracted from one another to give downtimes: a timestamp that is not
    // a number ("x", {}, 1e400) must not become NaN or Infinity there (found by the property
    // tests: {"event": "STOP", "timestamp": {"seconds": "x"}} gave epochMs NaN).
    if (!Number.isFinite(epochMs)) throw protocolError(`event ${value.event} with a timestamp that is not a time: ${line.slice(0, 200)}`);
    return { kind: 'event', event: { event: value.event, data: isObject(value.data) ? value.data : {}, epochMs } };
  }
  throw protocolError(`unknown QMP message: ${line.slice(0, 200)}`);
}

export interface QmpClientOptions {
  /** Host label for errors. */
  readonly host: string;
  /** Socket path for errors. */
  readonly socket: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
  /** Every line sent (`>`) and received (`<`), for recording transcripts. */
  readonly transcript?: (direction: '>' | '<', line: string) => void;
  /** A reconnection continues the events of the connection it replaces. */
  readonly events?: QmpEvent[];
}

interface Pending {
  readonly command: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: QmpError) => void;
  readonly timer: NodeJS.Timeout;
}

export class QmpClient {
  readonly events: QmpEvent[];
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<(event: QmpEvent) => void>();
  private buffer = '';
  private nextId = 1;
  private closedReason: string | undefined;
  private greetingWaiter: { resolve: (g: QmpGreeting) => void; reject: (e: QmpError) => void } | undefined;
  greeting: QmpGreeting | undefined;

  private constructor(
    private readonly stream: Duplex,
    private readonly options: QmpClientOptions,
  ) {
    this.events = options.events ?? [];
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    stream.on('error', (error: Error) => this.fail(`connection error: ${error.message}`));
    stream.on('close', () => this.fail('connection closed'));
    stream.on('end', () => this.fail('connection closed by QEMU'));
  }

  /** Reads the greeting and negotiates capabilities (with `oob` left off). */
  static async connect(stream: Duplex, options: QmpClientOptions): Promise<QmpClient> {
    const client = new QmpClient(stream, options);
    const timeoutMs = options.timeoutMs ?? 10000;
    client.greeting = await new Promise<QmpGreeting>((resolve, reject) => {
      const timer = setTimeout(() => reject(client.error('MB_QMP_TIMEOUT', '(greeting)', `no QMP greeting within ${timeoutMs} ms`)), timeoutMs);
      client.greetingWaiter = {
        resolve: (g) => {
          clearTimeout(timer);
          resolve(g);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
    await client.execute('qmp_capabilities');
    return client;
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  private error(code: 'MB_QMP_ERROR' | 'MB_QMP_PROTOCOL' | 'MB_QMP_CLOSED' | 'MB_QMP_TIMEOUT', command: string, desc: string, errorClass?: string): QmpError {
    return new QmpError(code, { host: this.options.host, socket: this.options.socket, command, desc, ...(errorClass ? { errorClass } : {}) });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      if (line.trim()) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    this.options.transcript?.('<', line);
    let message: QmpMessage;
    try {
      message = parseQmpLine(line);
    } catch (error) {
      this.fail(`protocol error: ${(error as Error).message}`, 'MB_QMP_PROTOCOL');
      return;
    }
    switch (message.kind) {
      case 'greeting':
        this.greetingWaiter?.resolve(message.greeting);
        this.greetingWaiter = undefined;
        return;
      case 'event':
        this.events.push(message.event);
        for (const listener of this.listeners) listener(message.event);
        return;
      case 'return':
      case 'error': {
        const pending = message.id === undefined ? undefined : this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id!);
        clearTimeout(pending.timer);
        if (message.kind === 'return') pending.resolve(message.value);
        else pending.reject(this.error('MB_QMP_ERROR', pending.command, message.desc, message.errorClass));
        return;
      }
    }
  }

  private fail(reason: string, code: 'MB_QMP_CLOSED' | 'MB_QMP_PROTOCOL' = 'MB_QMP_CLOSED'): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.greetingWaiter?.reject(this.error(code, '(greeting)', reason));
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(this.error(code, pending.command, reason));
      this.pending.delete(id);
    }
    this.stream.destroy();
  }

  /** Runs one command; arguments are passed as an object, never spliced into strings. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options: { timeoutMs?: number } = {}): Promise<T> {
    if (this.closedReason) return Promise.reject(this.error('MB_QMP_CLOSED', command, this.closedReason));
    const id = `mb-${this.nextId++}`;
    const line = JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id });
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 10000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(this.error('MB_QMP_TIMEOUT', command, `no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (value: unknown) => void, reject, timer });
      this.options.transcript?.('>', line);
      this.stream.write(`${line}\n`);
    });
  }

  onEvent(listener: (event: QmpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first matching event, including one that already arrived. */
  /** The first event of that name (or of any of those names) matching, seen already or to come. */
  waitForEvent(name: string | readonly string[], timeoutMs: number, predicate: (event: QmpEvent) => boolean = () => true): Promise<QmpEvent> {
    const names: readonly string[] = typeof name === 'string' ? [name] : name;
    const label = names.join(' or ');
    const seen = this.events.find((e) => names.includes(e.event) && predicate(e));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(this.error('MB_QMP_TIMEOUT', `(waiting for ${label})`, `no ${label} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onEvent((event) => {
        if (names.includes(event.event) && predicate(event)) {
          clearTimeout(timer);
          off();
          resolve(event);
        }
      });
    });
  }

  close(): void {
    this.fail('closed by migbench');
  }
}
