// The XenServer driver against a fake pool that speaks XenAPI JSON-RPC and checks every call
// against the vendor's data model. No real XenServer runs here: this validates the calls,
// their order and parameters, task handling and error words, not a migration's figures.
import { afterEach, describe, expect, test } from 'vitest';
import type { TargetHost } from '../../../src/hypervisors/hypervisor.js';
import { XenApiClient } from '../../../src/hypervisors/xen/client.js';
import { XenServerHypervisor } from '../../../src/hypervisors/xen/driver.js';
import { FakeRunner } from '../../fakes/runner.js';
import { startFakeXapi, type FakeXapi, type XapiHandler } from '../../fakes/xapi-server.js';

const REF = {
  session: 'OpaqueRef:s1',
  vm: 'OpaqueRef:vm1',
  h1: 'OpaqueRef:host1',
  h2: 'OpaqueRef:host2',
  sr: 'OpaqueRef:sr2',
  net: 'OpaqueRef:net2',
  vbd: 'OpaqueRef:vbd1',
  cd: 'OpaqueRef:vbd2',
  vdi: 'OpaqueRef:vdi1',
  vif: 'OpaqueRef:vif1',
  task: 'OpaqueRef:task1',
};

function pool(
  over: Record<string, XapiHandler> = {},
  taskRecords: Array<Record<string, unknown>> = [{ status: 'success', progress: 1, created: '20261204T14:00:00Z', finished: '20261204T14:00:07Z', result: '', error_info: [] }],
) {
  let polls = 0;
  const byLabel: Record<string, string> = { 'web-01': REF.vm, xcp1: REF.h1, xcp2: REF.h2, 'Local storage xcp2': REF.sr, 'Pool-wide network': REF.net };
  const handlers: Record<string, XapiHandler> = {
    'session.login_with_password': () => ({ result: REF.session }),
    'session.logout': () => ({ result: null }),
    'VM.get_by_name_label': ([, l]) => ({ result: byLabel[l as string] ? [byLabel[l as string]] : [] }),
    'host.get_by_name_label': ([, l]) => ({ result: byLabel[l as string] ? [byLabel[l as string]] : [] }),
    'SR.get_by_name_label': ([, l]) => ({ result: byLabel[l as string] ? [byLabel[l as string]] : [] }),
    'network.get_by_name_label': ([, l]) => ({ result: byLabel[l as string] ? [byLabel[l as string]] : [] }),
    'VM.get_record': () => ({ result: { power_state: 'Running', resident_on: REF.h1, VBDs: [REF.vbd, REF.cd], VIFs: [REF.vif] } }),
    'VBD.get_record': ([, v]) => ({ result: v === REF.vbd ? { type: 'Disk', VDI: REF.vdi } : { type: 'CD', VDI: 'OpaqueRef:NULL' } }),
    'host.get_record': () => ({ result: { software_version: { product_brand: 'XCP-ng', product_version: '8.3.0', xen: '4.17.5' } } }),
    'host.migrate_receive': () => ({ result: { host: '10.0.0.2', xenops: 'http://10.0.0.2/services/xenops', session_id: 'OpaqueRef:remote' } }),
    'Async.VM.pool_migrate': () => ({ result: REF.task }),
    'Async.VM.migrate_send': () => ({ result: REF.task }),
    'task.get_record': () => ({ result: taskRecords[Math.min(polls++, taskRecords.length - 1)] }),
    'task.cancel': () => ({ result: null }),
    'task.destroy': () => ({ result: null }),
    ...over,
  };
  return handlers;
}

function host(role: 'source' | 'destination'): TargetHost {
  return { role, runner: new FakeRunner(`dom0 ${role}`), migrationAddress: '10.0.0.1', migrationInterface: 'xenbr1', bridge: 'xenbr0', workDir: '/run/migbench' };
}

const launch = {
  vmId: 'mb000001',
  guest: { memoryMiB: 1024, vcpus: 1, diskMiB: 0, diskDataMiB: 0 },
  network: { address: '192.0.2.50/24', mac: '52:54:00:00:00:01' },
  agent: {},
  storage: 'shared' as const,
};

let server: FakeXapi | undefined;
const servers: FakeXapi[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  server = undefined;
});

async function driver(handlers: Record<string, XapiHandler>, storage = true) {
  server = await startFakeXapi(handlers);
  servers.push(server);
  return new XenServerHypervisor({
    source: host('source'),
    destination: host('destination'),
    client: new XenApiClient(server.url),
    user: 'root',
    password: async () => 'pool-secret',
    vm: 'web-01',
    sourceHost: 'xcp1',
    destinationHost: 'xcp2',
    pollIntervalMs: 1,
    ...(storage && { storage: { sr: 'Local storage xcp2', network: 'Pool-wide network' } }),
  });
}

describe('XenServer driver', () => {
  test('memory migration: Async.VM.pool_migrate live, the task polled to success; home again afterwards', async () => {
    const hv = await driver(
      pool({}, [
        { status: 'pending', progress: 0.5, created: '20261204T14:00:00Z', finished: '19700101T00:00:00Z' },
        { status: 'success', progress: 1, created: '20261204T14:00:00Z', finished: '20261204T14:00:07Z', result: '', error_info: [] },
      ]),
    );
    const guest = await hv.startGuest(launch);
    const outcome = await hv.migrate(guest, { kind: 'memory', timeoutMs: 60_000 });
    expect(outcome).toMatchObject({ status: 'completed', error: null, figures: { totalTimeMs: 7000, downtimeMs: null, transferredBytes: null } });
    expect(outcome.timeline.map((s) => s.status)).toEqual(['pending', 'success']);
    expect(guest.location).toBe('destination');
    expect(server!.requests.find((r) => r.method === 'Async.VM.pool_migrate')!.params).toEqual([REF.session, REF.vm, REF.h2, { live: 'true' }]);
    await hv.destroyGuest(guest);
    expect(server!.requests.filter((r) => r.method === 'Async.VM.pool_migrate').at(-1)!.params[2]).toBe(REF.h1);
    expect(server!.requests.filter((r) => r.method === 'task.destroy')).toHaveLength(2);
    expect(server!.contractViolations).toEqual([]);
  });

  test('storage migration: host.migrate_receive on the destination, then Async.VM.migrate_send with the disk and VIF maps', async () => {
    const hv = await driver(pool());
    const guest = await hv.startGuest(launch);
    const outcome = await hv.migrate(guest, { kind: 'storage', timeoutMs: 60_000 });
    expect(outcome.status).toBe('completed');
    expect(server!.requests.find((r) => r.method === 'host.migrate_receive')!.params).toEqual([REF.session, REF.h2, REF.net, {}]);
    const send = server!.requests.find((r) => r.method === 'Async.VM.migrate_send')!.params;
    expect(send).toEqual([
      REF.session,
      REF.vm,
      { host: '10.0.0.2', xenops: 'http://10.0.0.2/services/xenops', session_id: 'OpaqueRef:remote' },
      true,
      { [REF.vdi]: REF.sr },
      { [REF.vif]: REF.net },
      {},
      {},
    ]);
    expect(server!.contractViolations).toEqual([]);
    // No sourceSr configured: the VM cannot be brought back, and the error says what to set.
    await expect(hv.destroyGuest(guest)).rejects.toThrow(/needs xenserver\.storage\.sourceSr and sourceNetwork/);
  });

  test("a failed task keeps the vendor's error_info", async () => {
    const hv = await driver(
      pool({}, [
        {
          status: 'failure',
          progress: 0.3,
          created: '20261204T14:00:00Z',
          finished: '20261204T14:00:02Z',
          error_info: ['VM_MIGRATE_FAILED', REF.vm, REF.h1, REF.h2, 'Connection refused'],
        },
      ]),
    );
    const outcome = await hv.migrate(await hv.startGuest(launch), { kind: 'memory', timeoutMs: 60_000 });
    expect(outcome.status).toBe('failed');
    expect(outcome.error!.message).toBe(`XenAPI task failed: VM_MIGRATE_FAILED, ${REF.vm}, ${REF.h1}, ${REF.h2}, Connection refused`);
  });

  test('at the timeout the task is cancelled and the run is recorded as cancelled', async () => {
    const hv = await driver(
      pool({}, [
        { status: 'pending', progress: 0.1, created: '20261204T14:00:00Z' },
        { status: 'pending', progress: 0.1 },
        { status: 'cancelled', progress: 0.1, created: '20261204T14:00:00Z', finished: '20261204T14:00:01Z' },
      ]),
    );
    const outcome = await hv.migrate(await hv.startGuest(launch), { kind: 'memory', timeoutMs: 0 });
    expect(outcome).toMatchObject({ status: 'cancelled', error: { code: 'MB_TIMEOUT' } });
    expect(server!.requests.some((r) => r.method === 'task.cancel')).toBe(true);
  });

  test('bad power state and a missing VM are clear errors; the password never appears', async () => {
    const hv = await driver(pool({ 'Async.VM.pool_migrate': () => ({ error: { code: 1, message: 'VM_BAD_POWER_STATE', data: [REF.vm, 'running', 'suspended'] } }) }));
    const outcome = await hv.migrate(await hv.startGuest(launch), { kind: 'memory', timeoutMs: 60_000 });
    expect(outcome.status).toBe('failed');
    expect(outcome.error!.message).toMatch(/XenAPI Async\.VM\.pool_migrate failed: VM_BAD_POWER_STATE: the VM is suspended, it must be running/);
    const halted = await driver(pool({ 'VM.get_record': () => ({ result: { power_state: 'Halted', resident_on: 'OpaqueRef:NULL' } }) }));
    await expect(halted.startGuest(launch)).rejects.toThrow(/VM web-01 is Halted; start it on xcp1 first/);
    const missing = await driver(pool({ 'VM.get_by_name_label': () => ({ result: [] }) }));
    const error = (await missing.startGuest(launch).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/no VM named "web-01" in the pool/);
    expect(JSON.stringify(server!.requests.filter((r) => r.method !== 'session.login_with_password'))).not.toContain('pool-secret');
  });

  test('describe: product and Xen versions from the host records', async () => {
    const hv = await driver(pool());
    const env = await hv.describe();
    expect(env.source).toMatchObject({ hypervisorVersion: 'XCP-ng 8.3.0 (Xen 4.17.5)', accel: 'xen' });
  });
});
