// Vendor API endpoints that refuse or never answer: each call fails within its timeout,
// naming the URL and why, for XenAPI and vSphere alike.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { post } from '../../src/hypervisors/http.js';
import { XenApiClient } from '../../src/hypervisors/xen/client.js';
import { VsphereClient } from '../../src/hypervisors/vsphere/client.js';

/** A server that takes connections and never says a word. */
let silent: Server;
const held: Socket[] = [];
let silentUrl: string;
/** A port nothing listens on. */
let refusingUrl: string;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

beforeAll(async () => {
  silent = createServer((socket) => void held.push(socket));
  silentUrl = `http://127.0.0.1:${await listen(silent)}`;
  const closed = createServer();
  const port = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
  refusingUrl = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

describe(post, () => {
  test('an endpoint that never answers fails after the timeout, saying so', async () => {
    const started = performance.now();
    await expect(post(silentUrl, { headers: {}, body: 'x' }, 300)).rejects.toThrow('no answer within 300 ms');
    // Not a hang: it gave up at its timeout (the bound only tells that from waiting forever).
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test('an endpoint that refuses fails at once, saying so', async () => {
    await expect(post(refusingUrl, { headers: {}, body: 'x' }, 5000)).rejects.toThrow('connection refused');
  });
});

describe('vendor clients on an endpoint that refuses or hangs', () => {
  test.each([
    ['XenAPI', (url: string, timeoutMs: number) => new XenApiClient(url, undefined, timeoutMs).login('root', 'pw'), 'XenAPI at URL for session.login_with_password'],
    ['vSphere', (url: string, timeoutMs: number) => new VsphereClient(`${url}/sdk`, undefined, timeoutMs).login('root', 'pw'), 'vSphere at URL/sdk for RetrieveServiceContent'],
  ])('%s names the host, the URL, the call and why, within the configured timeout', async (_what, call, where) => {
    const hang = (await call(silentUrl, 300).catch((e: unknown) => e)) as Error;
    expect(hang.message).toBe(`${new URL(silentUrl).host}: cannot reach ${where.replace('URL', silentUrl)}: no answer within 300 ms`);
    const refused = (await call(refusingUrl, 5000).catch((e: unknown) => e)) as Error;
    expect(refused.message).toBe(`${new URL(refusingUrl).host}: cannot reach ${where.replace('URL', refusingUrl)}: connection refused`);
    expect(JSON.stringify(refused)).not.toContain('pw"');
  });
});
