// A XenAPI client over JSON-RPC (POST /jsonrpc). XenAPI errors arrive as
// {code, message: ERROR_CODE, data: [params]}; they become MigbenchErrors that name the
// host, the method and the vendor's code, with the password never in them.
import { MigbenchError } from '../../model/errors.js';
import type { XenApiMethod } from './methods.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, post } from '../http.js';

export interface XenApiTransport {
  (url: string, body: string, timeoutMs: number): Promise<{ status: number; text: string }>;
}

export class XenApiError extends MigbenchError {
  constructor(
    readonly host: string,
    readonly method: string,
    /** The vendor's error code, e.g. SESSION_AUTHENTICATION_FAILED. */
    readonly xapiCode: string,
    readonly xapiParams: readonly string[],
    message: string,
  ) {
    super('MB_XENAPI', message, { context: { host, xenApiMethod: method, xapiCode } });
  }
}

/** Words for the errors migbench users meet; any other code is shown with its parameters. */
function describeXapiError(code: string, params: readonly string[]): string {
  switch (code) {
    case 'SESSION_AUTHENTICATION_FAILED':
      return 'login refused: the user name or password is wrong';
    case 'VM_BAD_POWER_STATE':
      return `the VM is ${params[2] ?? 'in another power state'}, it must be ${params[1] ?? 'running'}`;
    case 'HANDLE_INVALID':
      return `no such object${params.length ? ` (${params.join(', ')})` : ''}`;
    case 'HOST_IS_SLAVE':
      return `this host is not the pool coordinator; connect to ${params[0] ?? 'the coordinator'}`;
    default:
      return params.length ? params.join(', ') : 'no details';
  }
}

const fetchTransport: XenApiTransport = (url, body, timeoutMs) => post(url, { headers: { 'content-type': 'application/json' }, body }, timeoutMs);

export class XenApiClient {
  private nextId = 1;
  session: string | null = null;

  constructor(
    /** e.g. https://xcp1.example.net */
    readonly url: string,
    private readonly transport: XenApiTransport = fetchTransport,
    /** A call not answered in this long fails (xenserver.requestTimeoutMs). */
    private readonly timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  get host(): string {
    return new URL(this.url).host;
  }

  async call<T = unknown>(method: XenApiMethod | (string & {}), params: readonly unknown[]): Promise<T> {
    const id = this.nextId++;
    let reply: { status: number; text: string };
    try {
      reply = await this.transport(new URL('/jsonrpc', this.url).toString(), JSON.stringify({ jsonrpc: '2.0', method, params, id }), this.timeoutMs);
    } catch (error) {
      throw new MigbenchError('MB_XENAPI', `${this.host}: cannot reach XenAPI at ${this.url} for ${method}: ${(error as Error).message}`, {
        cause: error,
        context: { host: this.host, xenApiMethod: method },
      });
    }
    if (reply.status !== 200)
      throw new MigbenchError('MB_XENAPI', `${this.host}: XenAPI ${method} answered HTTP ${reply.status}`, { context: { host: this.host, xenApiMethod: method } });
    let body: { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
    try {
      body = JSON.parse(reply.text) as typeof body;
    } catch {
      throw new MigbenchError('MB_XENAPI', `${this.host}: XenAPI ${method} answered with something that is not JSON: ${reply.text.slice(0, 80)}`, {
        context: { host: this.host, xenApiMethod: method },
      });
    }
    if (body.error) {
      const code = body.error.message;
      if (typeof code !== 'string') {
        throw new MigbenchError('MB_XENAPI', `${this.host}: XenAPI ${method} failed with a malformed error: ${JSON.stringify(body.error).slice(0, 120)}`, {
          context: { host: this.host, xenApiMethod: method },
        });
      }
      const data = body.error.data;
      const params = Array.isArray(data) ? data.map(String) : data === undefined || data === null ? [] : [String(data)];
      throw new XenApiError(this.host, method, code, params, `${this.host}: XenAPI ${method} failed: ${code}: ${describeXapiError(code, params)}`);
    }
    return body.result as T;
  }

  async login(user: string, password: string): Promise<string> {
    this.session = await this.call<string>('session.login_with_password', [user, password, '1.0', 'migbench']);
    return this.session;
  }

  /** Calls a method that takes the session first. */
  async withSession<T = unknown>(method: XenApiMethod, params: readonly unknown[] = []): Promise<T> {
    if (!this.session) throw new MigbenchError('MB_XENAPI', `${this.host}: ${method} before login`);
    return this.call<T>(method, [this.session, ...params]);
  }

  async logout(): Promise<void> {
    if (!this.session) return;
    const session = this.session;
    this.session = null;
    await this.call('session.logout', [session]);
  }
}

/** A task as XenAPI reports it, in migbench's names. */
export interface XenTask {
  readonly status: 'pending' | 'success' | 'failure' | 'cancelling' | 'cancelled';
  readonly progress: number;
  readonly createdAtMs: number | null;
  readonly finishedAtMs: number | null;
  readonly result: string;
  readonly errorInfo: readonly string[];
}

/** XenAPI datetimes: "20260104T12:00:01Z" (and the ISO form some versions send). */
export function parseXenDateTime(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}${m[8] ?? 'Z'}`);
  // XenAPI's "never" is the epoch.
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

/** The one translation of a task record's fields. */
export function toXenTask(record: Record<string, unknown>): XenTask {
  // The JSON-RPC result arrives unchecked: a record that is not an object, and values whose
  // String() throws ({"toString": 1}) or that are Infinity (1e400), were a TypeError or a
  // non-finite progress (found by test/properties/xen.prop.test.ts).
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new MigbenchError('MB_XENAPI', `task.get_record gave no task record: ${String(JSON.stringify(record)).slice(0, 120)}`);
  }
  const status = typeof record.status === 'string' ? record.status : '';
  return {
    status: (['pending', 'success', 'failure', 'cancelling', 'cancelled'].includes(status) ? status : 'failure') as XenTask['status'],
    progress: typeof record.progress === 'number' && Number.isFinite(record.progress) ? record.progress : 0,
    createdAtMs: parseXenDateTime(record.created),
    finishedAtMs: parseXenDateTime(record.finished),
    result: typeof record.result === 'string' ? record.result : '',
    errorInfo: Array.isArray(record.error_info) ? record.error_info.map((e) => (typeof e === 'object' && e !== null ? JSON.stringify(e) : String(e))) : [],
  };
}
