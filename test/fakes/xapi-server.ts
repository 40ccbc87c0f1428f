// A XenAPI JSON-RPC server in the test process. Every request is checked against the
// vendor's data model (fixtures/xapi/datamodel-subset.json): a method it lacks, or
// parameters of the wrong number or type, get a JSON-RPC error the test will see.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { projectPath } from '../../src/model/paths.js';
import { dataModelName, matchesXenApiType } from '../../src/hypervisors/xen/methods.js';

interface Subset {
  messages: Record<string, { params: Array<{ name: string; type: string }> } | null>;
}

export const DATA_MODEL = JSON.parse(readFileSync(projectPath('fixtures/xapi/datamodel-subset.json'), 'utf8')) as Subset;

export type XapiHandler = (params: unknown[]) => { result: unknown } | { error: { code: number; message: string; data: unknown } };

export interface FakeXapi {
  readonly url: string;
  readonly requests: Array<{ method: string; params: unknown[] }>;
  /** Requests the data model would not accept, with why. */
  readonly contractViolations: string[];
  close(): Promise<void>;
}

export function contractViolation(method: string, params: unknown[]): string | null {
  const { className, message } = dataModelName(method);
  const spec = DATA_MODEL.messages[`${className}.${message}`];
  if (!spec) return `${method}: not in the data model subset`;
  if (spec.params.length !== params.length) return `${method}: ${params.length} parameters sent, the data model has ${spec.params.length}`;
  const bad = spec.params.findIndex((p, i) => !matchesXenApiType(params[i], p.type));
  return bad === -1 ? null : `${method}: parameter ${spec.params[bad]!.name} should be ${spec.params[bad]!.type}, got ${JSON.stringify(params[bad])}`;
}

export async function startFakeXapi(handlers: Record<string, XapiHandler>): Promise<FakeXapi> {
  const requests: FakeXapi['requests'] = [];
  const contractViolations: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const { method, params, id } = JSON.parse(body) as { method: string; params: unknown[]; id: number };
      requests.push({ method, params });
      const violation = contractViolation(method, params);
      if (violation) contractViolations.push(violation);
      const handler = handlers[method];
      const answer = violation
        ? { error: { code: 1, message: 'MESSAGE_PARAMETER_COUNT_MISMATCH', data: [method, violation] } }
        : handler
          ? handler(params)
          : { error: { code: 1, message: 'MESSAGE_METHOD_UNKNOWN', data: [method] } };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id, ...answer }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, contractViolations, close: () => new Promise((r) => server.close(() => r())) };
}
