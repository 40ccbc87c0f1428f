// The Hyper-V driver with a fake host that decodes each -EncodedCommand and answers as the
// script would. No Hyper-V host has been available: these outputs are CONSTRUCTED from
// Microsoft's documented property names (Get-Job, Msvm_MigrationJob, event 20415, the
// HyperVVMLiveMigration counter class, Get-NetAdapterStatistics), not
// recorded. They test the driver's flow and parsing, not what a real host prints.
import { describe, expect, test } from 'vitest';
import type { TargetHost } from '../../../src/hypervisors/hypervisor.js';
import { blackoutMs, HypervHypervisor, toInterfaceCounters, toJobStatus, toLiveMigrationCounters } from '../../../src/hypervisors/hyperv/driver.js';
import { decodeEncodedCommand } from '../../../src/exec/quote.js';
import { FakeRunner, type Answer } from '../../fakes/runner.js';

type Responder = (script: string) => Answer;

function host(role: 'source' | 'destination', respond: Responder, scripts: string[]): TargetHost {
  const runner = new FakeRunner(`${role === 'source' ? 'hv1' : 'hv2'} (ssh)`, (argv) => {
    const script = decodeEncodedCommand(argv.at(-1)!);
    scripts.push(script);
    return respond(script);
  });
  return { role, runner, migrationAddress: '10.0.0.1', migrationInterface: 'Ethernet 2', bridge: 'vSwitch', workDir: 'C:\\migbench' };
}

const launch = {
  vmId: 'mb000003',
  guest: { memoryMiB: 2048, vcpus: 2, diskMiB: 0, diskDataMiB: 0 },
  network: { address: '192.0.2.80/24', mac: '52:54:00:00:00:03' },
  agent: {},
  storage: 'shared' as const,
};

function hyperv(respond: Responder, storage?: { destinationPath: string; sourcePath?: string }) {
  const scripts: string[] = [];
  const hv = new HypervHypervisor({
    source: host('source', respond, scripts),
    destination: host('destination', respond, scripts),
    vm: 'web-01',
    sourceHost: 'hv1',
    destinationHost: 'hv2',
    pollIntervalMs: 1,
    ...(storage && { storage }),
  });
  return { hv, scripts };
}

const json = (v: unknown): Answer => ({ stdout: `${JSON.stringify(v)}\r\n` });

function happy(jobStates: string[]): Responder {
  let polls = 0;
  return (script) => {
    if (script.includes('Get-VM -Name') && script.includes('computerName')) return json({ state: 'Running', computerName: 'HV1' });
    if (script.includes('Move-VM')) return json({ jobId: 7, state: 'Running', started: '2026-12-04T14:00:00.0000000Z' });
    if (script.includes('Get-Job')) {
      const state = jobStates[Math.min(polls++, jobStates.length - 1)]!;
      // The counter instance exists only while the migration runs.
      const liveMigration =
        state === 'Running'
          ? [
              {
                Name: 'web-01',
                MemoryWalkerUncompressedBytesSent: 1_900_000_000 + polls,
                CompressorCompressedBytesSent: 300_000_000,
                SMBTransportBytesSent: 0,
                TransferPassNumber: 3,
              },
            ]
          : [];
      return json({
        state,
        begin: '2026-12-04T14:00:00.1000000Z',
        end: state === 'Running' ? null : '2026-12-04T14:00:09.6000000Z',
        reason: state === 'Failed' ? 'Virtual machine migration operation failed at migration source.' : null,
        percent: state === 'Running' ? 40 : 100,
        migrationJobState: 4,
        liveMigration,
      });
    }
    if (script.includes('Get-WinEvent')) return json([{ id: 20415, time: '2026-12-04T14:00:09.5000000Z', blackoutSeconds: 0.412 }]);
    if (script.includes('RequestStateChange')) return json({ returnValue: 4096 });
    if (script.includes('Get-NetAdapterStatistics')) return json({ ReceivedBytes: 5_000, SentBytes: 2_300_000_000, ReceivedUnicastPackets: 80, SentUnicastPackets: 1_600_000 });
    return { exitCode: 1, stderr: 'unexpected script' };
  };
}

describe('Hyper-V driver', () => {
  test('Move-VM as a job, polled to completion; total time from the job, downtime from the 20415 blackout; home again', async () => {
    const { hv, scripts } = hyperv(happy(['Running', 'Completed']));
    const guest = await hv.startGuest(launch);
    const outcome = await hv.migrate(guest, { kind: 'memory', timeoutMs: 60_000 });
    expect(outcome).toMatchObject({
      status: 'completed',
      error: null,
      figures: { totalTimeMs: 9500, downtimeMs: 412, transferredBytes: 2_200_000_001, iterations: 3 },
      capabilities: ['move-vm'],
    });
    expect(outcome.timeline.map((s) => s.status)).toEqual(['running', 'completed']);
    expect(guest.location).toBe('destination');
    await hv.destroyGuest(guest);
    expect(scripts.filter((s) => s.includes('Move-VM')).map((s) => /-DestinationHost '([^']+)'/.exec(s)![1])).toEqual(['hv2', 'hv1']);
  });

  test('storage migration adds -IncludeStorage with the destination folder', async () => {
    const { hv, scripts } = hyperv(happy(['Completed']), { destinationPath: 'D:\\VMs\\web-01' });
    const outcome = await hv.migrate(await hv.startGuest(launch), { kind: 'storage', timeoutMs: 60_000 });
    expect(outcome.status).toBe('completed');
    expect(scripts.find((s) => s.includes('Move-VM'))).toContain("-IncludeStorage -DestinationStoragePath 'D:\\VMs\\web-01' -AsJob");
  });

  test("a failed job carries Hyper-V's reason; a caught cmdlet error names the host and the cmdlet", async () => {
    const failed = hyperv(happy(['Failed']));
    const outcome = await failed.hv.migrate(await failed.hv.startGuest(launch), { kind: 'memory', timeoutMs: 60_000 });
    expect(outcome).toMatchObject({ status: 'failed', error: { message: 'Move-VM failed: Virtual machine migration operation failed at migration source.' } });
    const refused = hyperv((s) =>
      s.includes('Move-VM')
        ? json({ error: "Hyper-V was unable to find a virtual machine with name 'web-01'.", id: 'InvalidParameter,Microsoft.HyperV.PowerShell.Commands.MoveVM' })
        : happy(['Completed'])(s),
    );
    const r = await refused.hv.migrate(await refused.hv.startGuest(launch), { kind: 'memory', timeoutMs: 60_000 });
    expect(r.error!.message).toBe(
      "hv1 (ssh): Move-VM failed: Hyper-V was unable to find a virtual machine with name 'web-01'. (InvalidParameter,Microsoft.HyperV.PowerShell.Commands.MoveVM)",
    );
  });

  test('at the timeout the migration job is terminated and the run is recorded as cancelled', async () => {
    const { hv, scripts } = hyperv(happy(['Running', 'Running', 'Stopped']));
    const outcome = await hv.migrate(await hv.startGuest(launch), { kind: 'memory', timeoutMs: 0 });
    expect(outcome).toMatchObject({ status: 'cancelled', error: { code: 'MB_TIMEOUT' } });
    expect(scripts.some((s) => s.includes('RequestedState = [uint16]4'))).toBe(true);
  });

  test('output that is not JSON, and a VM that is off, are clear errors', async () => {
    const garbage = hyperv(() => ({ stdout: 'powershell : The term is not recognized', exitCode: 1 }));
    await expect(garbage.hv.startGuest(launch)).rejects.toThrow(/^hv1 \(ssh\): Get-VM web-01: PowerShell did not answer with JSON \(exit 1\)/);
    const off = hyperv((_s) => json({ state: 'Off', computerName: 'HV1' }));
    await expect(off.hv.startGuest(launch)).rejects.toThrow('VM web-01 is Off; start it on hv1 first');
  });
});

describe('parsing', () => {
  test('job states and times; blackout from one event or several', () => {
    expect(toJobStatus({ state: 'Stopped', begin: '2026-12-04T14:00:00Z', end: null }, 'web-01')).toEqual({
      state: 'cancelled',
      beganAtMs: Date.UTC(2026, 11, 4, 14),
      endedAtMs: null,
      reason: null,
      percent: null,
      liveMigration: null,
    });
    expect(blackoutMs({ id: 20415, blackoutSeconds: 0.25 })).toBe(250);
    expect(blackoutMs([{ blackoutSeconds: 0.1 }, { blackoutSeconds: 1.5 }])).toBe(1500);
    expect(blackoutMs(null)).toBeNull();
  });

  test("live-migration counters: this VM's instance, or the only one; none is null, not zero", () => {
    const a = { Name: 'web-01', MemoryWalkerUncompressedBytesSent: 100, CompressorCompressedBytesSent: 20, SMBTransportBytesSent: 7, TransferPassNumber: 4 };
    const b = { ...a, Name: 'db-02', MemoryWalkerUncompressedBytesSent: 999 };
    expect(toLiveMigrationCounters([b, a], 'web-01')).toEqual({ transferredBytes: 120, passes: 4 });
    expect(toLiveMigrationCounters(b, 'web-01')).toEqual({ transferredBytes: 1019, passes: 4 });
    expect(toLiveMigrationCounters([b, { ...b, Name: 'x' }], 'web-01')).toBeNull();
    expect(toLiveMigrationCounters([], 'web-01')).toBeNull();
    expect(toLiveMigrationCounters([{ Name: 'web-01', TransferPassNumber: 2 }], 'web-01')).toBeNull();
  });

  test('adapter statistics become the wire counters; missing ones are an error naming the adapter', () => {
    expect(toInterfaceCounters({ ReceivedBytes: 1, SentBytes: 2, ReceivedUnicastPackets: 3, SentUnicastPackets: 4 }, 'Ethernet 2')).toEqual({
      rxBytes: 1,
      txBytes: 2,
      rxPackets: 3,
      txPackets: 4,
    });
    expect(() => toInterfaceCounters({ ReceivedBytes: 1 }, 'Ethernet 2')).toThrow(/no byte and packet counters for adapter "Ethernet 2"/);
  });

  // Found by test/properties/powershell.prop.test.ts: each of these threw a TypeError or gave Infinity.
  test('JSON of the wrong shape (null, [null], objects where numbers belong) is no figure or a MigbenchError', () => {
    const weird = { toString: 1 };
    expect(() => toJobStatus(null as never, 'web-01')).toThrow(
      expect.objectContaining({ name: 'MigbenchError', code: 'MB_HYPERV', message: expect.stringContaining('Get-Job gave no job status for VM "web-01"') }),
    );
    // The literal is meant to overflow: that is the input under test.
    // eslint-disable-next-line no-loss-of-precision
    expect(toJobStatus({ state: weird, percent: 1e400, liveMigration: [null] }, 'web-01')).toEqual({
      state: 'running',
      beganAtMs: null,
      endedAtMs: null,
      reason: null,
      percent: null,
      liveMigration: null,
    });
    expect(blackoutMs([null, { blackoutSeconds: 0.2 }, { blackoutSeconds: weird }])).toBe(200);
    expect(blackoutMs({ blackoutSeconds: 1e306 })).toBeNull();
    expect(toLiveMigrationCounters([null, { Name: 'web-01', MemoryWalkerUncompressedBytesSent: 10, CompressorCompressedBytesSent: weird }], 'web-01')).toEqual({
      transferredBytes: 10,
      passes: 0,
    });
    expect(toLiveMigrationCounters({ MemoryWalkerUncompressedBytesSent: Number.MAX_VALUE, CompressorCompressedBytesSent: Number.MAX_VALUE }, 'web-01')).toBeNull();
    expect(() => toInterfaceCounters(null as never, 'Ethernet 2')).toThrow(expect.objectContaining({ code: 'MB_PROBE' }));
    expect(() => toInterfaceCounters({ ReceivedBytes: weird, SentBytes: 2, ReceivedUnicastPackets: 3, SentUnicastPackets: 4 }, 'Ethernet 2')).toThrow(
      /no byte and packet counters/,
    );
  });
});

describe('wire counters on Windows', () => {
  test('Get-NetAdapterStatistics for the migration adapter, its name a single-quoted literal', async () => {
    const { hv, scripts } = hyperv(happy(['Completed']));
    expect(await hv.interfaceCounters('source', "Ethernet 2 'vMotion'")).toEqual({ rxBytes: 5_000, txBytes: 2_300_000_000, rxPackets: 80, txPackets: 1_600_000 });
    expect(scripts.at(-1)).toContain(
      "Get-NetAdapterStatistics -Name 'Ethernet 2 ''vMotion''' | Select-Object ReceivedBytes, SentBytes, ReceivedUnicastPackets, SentUnicastPackets",
    );
  });
});
