// A small vim25 (vSphere Web Services, SOAP) client: the session cookie, the property
// collector through a container view, RelocateVM_Task, task info and CancelTask. Faults
// become MigbenchErrors naming the host, the method and the fault type; the password is
// never in them.
import { XMLParser } from 'fast-xml-parser';
import { MigbenchError } from '../../model/errors.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, post } from '../http.js';

export interface MoRef {
  readonly type: string;
  readonly value: string;
}

export interface SoapTransport {
  (url: string, init: { headers: Record<string, string>; body: string }, timeoutMs: number): Promise<{ status: number; text: string; setCookie: string | null }>;
}

const fetchTransport: SoapTransport = async (url, init, timeoutMs) => {
  const reply = await post(url, init, timeoutMs);
  return { status: reply.status, text: reply.text, setCookie: reply.headers.get('set-cookie') };
};

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  isArray: (name) => ['returnval', 'propSet', 'objects'].includes(name),
});

/** The one place values go into SOAP XML. */
export function xmlText(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function moRefXml(tag: string, ref: MoRef): string {
  return `<${tag} type="${xmlText(ref.type)}">${xmlText(ref.value)}</${tag}>`;
}

function asMoRef(node: unknown): MoRef | null {
  if (node && typeof node === 'object' && '#text' in node && '@type' in node)
    return { type: String((node as Record<string, unknown>)['@type']), value: String((node as Record<string, unknown>)['#text']) };
  return null;
}

export class VsphereError extends MigbenchError {
  constructor(
    readonly host: string,
    readonly method: string,
    /** The vim25 fault type, e.g. InvalidLogin, ManagedObjectNotFound. */
    readonly faultType: string,
    message: string,
  ) {
    super('MB_VSPHERE', message, { context: { host, vim25Method: method, fault: faultType } });
  }
}

/** A task's info, in migbench's names (times are ms since the epoch). */
export interface VsphereTaskInfo {
  readonly state: 'queued' | 'running' | 'success' | 'error';
  readonly progress: number | null;
  readonly startedAtMs: number | null;
  readonly completedAtMs: number | null;
  readonly error: string | null;
}

export class VsphereClient {
  private cookie: string | null = null;
  private content: Record<string, unknown> | null = null;

  constructor(
    /** The SDK endpoint, e.g. https://vcenter.example.net/sdk */
    readonly url: string,
    private readonly transport: SoapTransport = fetchTransport,
    /** A call not answered in this long fails (vsphere.requestTimeoutMs). */
    private readonly timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  get host(): string {
    return new URL(this.url).host;
  }

  /** Sends one vim25 call; returns the parsed `returnval` list (or undefined for void methods). */
  async call(method: string, self: MoRef, bodyXml = ''): Promise<unknown[] | undefined> {
    const envelope =
      '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:vim25"><soapenv:Body>' +
      `<${method}>${moRefXml('_this', self)}${bodyXml}</${method}></soapenv:Body></soapenv:Envelope>`;
    let reply: Awaited<ReturnType<SoapTransport>>;
    try {
      reply = await this.transport(
        this.url,
        {
          headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'urn:vim25/6.5', ...(this.cookie && { cookie: this.cookie }) },
          body: envelope,
        },
        this.timeoutMs,
      );
    } catch (error) {
      throw new MigbenchError('MB_VSPHERE', `${this.host}: cannot reach vSphere at ${this.url} for ${method}: ${(error as Error).message}`, {
        cause: error,
        context: { host: this.host, vim25Method: method },
      });
    }
    if (reply.setCookie) this.cookie = reply.setCookie.split(';')[0]!;
    // Parsed SOAP XML: its shape is checked where each field is read, not typed up front.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let doc: Record<string, any>;
    try {
      // xsi:type (vcsim spells the prefix XMLSchema-instance:) and a MoRef's own type
      // attribute would collide once namespaces are removed.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      doc = parser.parse(reply.text.replace(/ (?:xsi|XMLSchema-instance):type="/g, ' xsitype="')) as Record<string, any>;
    } catch {
      throw new MigbenchError('MB_VSPHERE', `${this.host}: vSphere answered ${method} with something that is not XML (HTTP ${reply.status})`, {
        context: { host: this.host, vim25Method: method },
      });
    }
    const body = doc.Envelope?.Body;
    if (!body)
      throw new MigbenchError('MB_VSPHERE', `${this.host}: vSphere answered ${method} without a SOAP body (HTTP ${reply.status})`, {
        context: { host: this.host, vim25Method: method },
      });
    if (body.Fault) {
      const detail = body.Fault.detail && typeof body.Fault.detail === 'object' ? Object.values(body.Fault.detail as Record<string, unknown>)[0] : null;
      const faultType =
        detail && typeof detail === 'object'
          ? String((detail as Record<string, unknown>)['@xsitype'] ?? Object.keys(body.Fault.detail as object)[0]!.replace(/Fault$/, ''))
          : 'Fault';
      throw new VsphereError(this.host, method, faultType, `${this.host}: vSphere ${method} failed: ${faultType}: ${String(body.Fault.faultstring ?? 'no message')}`);
    }
    const response = body[`${method}Response`];
    return response && typeof response === 'object' ? (response.returnval as unknown[] | undefined) : undefined;
  }

  private async serviceContent(): Promise<Record<string, unknown>> {
    this.content ??= (await this.call('RetrieveServiceContent', { type: 'ServiceInstance', value: 'ServiceInstance' }))![0] as Record<string, unknown>;
    return this.content;
  }

  private async ref(name: string): Promise<MoRef> {
    const r = asMoRef((await this.serviceContent())[name]);
    if (!r) throw new MigbenchError('MB_VSPHERE', `${this.host}: the service content has no ${name}`);
    return r;
  }

  async about(): Promise<{ fullName: string; apiVersion: string }> {
    const about = (await this.serviceContent()).about as Record<string, string>;
    return { fullName: String(about.fullName), apiVersion: String(about.apiVersion) };
  }

  async login(user: string, password: string): Promise<void> {
    await this.call('Login', await this.ref('sessionManager'), `<userName>${xmlText(user)}</userName><password>${xmlText(password)}</password>`);
  }

  async logout(): Promise<void> {
    if (!this.cookie) return;
    await this.call('Logout', await this.ref('sessionManager'));
    this.cookie = null;
  }

  /** Every managed object of a type under the root folder, with its name. */
  async list(type: 'VirtualMachine' | 'HostSystem' | 'Datastore' | 'ResourcePool'): Promise<Array<{ ref: MoRef; name: string }>> {
    const root = await this.ref('rootFolder');
    const view = asMoRef(
      (await this.call('CreateContainerView', await this.ref('viewManager'), `${moRefXml('container', root)}<type>${type}</type><recursive>true</recursive>`))![0],
    );
    if (!view) throw new MigbenchError('MB_VSPHERE', `${this.host}: CreateContainerView returned no view`);
    try {
      const objects = await this.retrieve(view, type, ['name'], true);
      return objects.map((o) => ({ ref: o.ref, name: String(o.props.name) }));
    } finally {
      await this.call('DestroyView', view).catch(() => undefined);
    }
  }

  /** One object's properties (or, through a view, every object's). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- property values of any vim25 type, read by the caller
  async retrieve(obj: MoRef, type: string, paths: readonly string[], throughView = false): Promise<Array<{ ref: MoRef; props: Record<string, any> }>> {
    const objectSpec = throughView
      ? `<objectSet>${moRefXml('obj', obj)}<skip>true</skip><selectSet xsi:type="TraversalSpec"><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet>`
      : `<objectSet>${moRefXml('obj', obj)}<skip>false</skip></objectSet>`;
    const spec = `<specSet><propSet><type>${xmlText(type)}</type>${paths.map((p) => `<pathSet>${xmlText(p)}</pathSet>`).join('')}</propSet>${objectSpec}</specSet><options/>`;
    const result = (await this.call('RetrievePropertiesEx', await this.ref('propertyCollector'), spec)) as
      Array<{ objects?: Array<{ obj: unknown; propSet?: Array<{ name: string; val: unknown }> }> }> | undefined;
    return (result?.[0]?.objects ?? []).map((o) => ({
      ref: asMoRef(o.obj)!,
      props: Object.fromEntries((o.propSet ?? []).map((p) => [p.name, plain(p.val)])),
    }));
  }

  async relocate(vm: MoRef, target: { host?: MoRef; datastore?: MoRef; pool?: MoRef }): Promise<MoRef> {
    const spec = [target.datastore && moRefXml('datastore', target.datastore), target.pool && moRefXml('pool', target.pool), target.host && moRefXml('host', target.host)]
      .filter(Boolean)
      .join('');
    const task = asMoRef((await this.call('RelocateVM_Task', vm, `<spec>${spec}</spec>`))![0]);
    if (!task) throw new MigbenchError('MB_VSPHERE', `${this.host}: RelocateVM_Task returned no task`);
    return task;
  }

  async taskInfo(task: MoRef): Promise<VsphereTaskInfo> {
    const [found] = await this.retrieve(task, 'Task', ['info']);
    return toTaskInfo((found?.props.info ?? {}) as Record<string, unknown>);
  }

  async cancelTask(task: MoRef): Promise<void> {
    await this.call('CancelTask', task);
  }
}

/** A typed scalar (<val xsi:type="xsd:string">x</val>) as its text; MoRefs and structures as they are. */
function plain(value: unknown): unknown {
  if (value && typeof value === 'object' && '#text' in value && !('@type' in value)) return (value as Record<string, unknown>)['#text'];
  return value;
}

/** The one translation of vim25's TaskInfo. */
export function toTaskInfo(info: Record<string, unknown>): VsphereTaskInfo {
  // The XML parser turns an element with children into an object: only text is a word.
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const state = text(info.state) ?? 'error';
  const time = (v: unknown) => (typeof v === 'string' && Number.isFinite(Date.parse(v)) ? Date.parse(v) : null);
  const error = info.error as Record<string, unknown> | undefined;
  const fault = error?.fault as Record<string, unknown> | undefined;
  return {
    state: (['queued', 'running', 'success', 'error'].includes(state) ? state : 'error') as VsphereTaskInfo['state'],
    progress: text(info.progress) !== undefined && Number.isFinite(Number(info.progress)) ? Number(info.progress) : null,
    startedAtMs: time(info.startTime),
    completedAtMs: time(info.completeTime),
    error: error ? [text(fault?.['@xsitype']), text(error.localizedMessage)].filter(Boolean).join(': ') || 'unknown fault' : null,
  };
}
