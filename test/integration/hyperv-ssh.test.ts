// Hyper-V over Windows OpenSSH, without Windows: a real sshd on loopback whose login shell
// is a stand-in (test/fakes/windows-openssh/shell.mjs) that runs only
// `powershell -NoProfile -NonInteractive -EncodedCommand <base64 UTF-16LE>` and refuses
// anything POSIX-shaped, as a Windows host's cmd.exe or PowerShell would. It answers the
// Hyper-V driver from fixtures/hyperv/answers.json: CONSTRUCTED from Microsoft's documented
// properties, not recorded on a Hyper-V host (its README says so).
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SshRunner } from '../../src/exec/ssh.js';
import type { TargetHost } from '../../src/hypervisors/hypervisor.js';
import { HypervHypervisor } from '../../src/hypervisors/hyperv/driver.js';
import { startWindowsStandin, type WindowsStandin } from '../support/windows-sshd.js';

let standin: WindowsStandin;
let windows: SshRunner;

beforeAll(async () => {
  standin = await startWindowsStandin();
  windows = await SshRunner.connect(standin.target('windows'));
});
afterAll(async () => {
  await windows?.close();
  await standin?.stop();
});

/** What the stand-in shell got, one entry per command line or decoded script. */
async function shellLog(): Promise<string[]> {
  return (await readFile(standin.log, 'utf8')).split('\n--- end ---\n').filter(Boolean);
}

describe('SshRunner in Windows mode, against a shell that takes only -EncodedCommand', () => {
  test('a POSIX-mode runner is refused there: its plain and its timeout-wrapped commands both fail', async () => {
    const posix = await SshRunner.connect(standin.target(undefined));
    try {
      await expect(posix.run(['hostname'])).rejects.toMatchObject({
        code: 'MB_COMMAND_FAILED',
        message: expect.stringContaining('only "powershell -NoProfile -NonInteractive -EncodedCommand <base64>" runs here; got: hostname'),
      });
      await expect(posix.run(['hostname'], { timeoutMs: 5000 })).rejects.toMatchObject({
        code: 'MB_COMMAND_FAILED',
        message: expect.stringContaining('got: timeout -k 2 5.000s hostname'),
      });
    } finally {
      await posix.close();
    }
  });

  test('argv runs as a PowerShell script of literals; the program its exit code and stdout come back', async () => {
    expect((await windows.run(['hostname'])).stdout).toBe('HV1\r\n');
    const failed = await windows.run(['cmd.exe', '/c', 'exit 3'], { check: false });
    expect(failed).toMatchObject({ exitCode: 3, ok: false });
    await expect(windows.run(['cmd.exe', '/c', 'exit 3'])).rejects.toMatchObject({ code: 'MB_COMMAND_FAILED', message: expect.stringContaining('exit 3') });
    // A program that is not there: PowerShell's message, and exit 1 (not the 0 `exit $null` gives).
    const missing = await windows.run(['no-such.exe', "it's $(here)"], { check: false });
    expect(missing).toMatchObject({ exitCode: 1, stderr: expect.stringContaining("The term 'no-such.exe' is not recognized") });
    // The hostile argument arrived as one literal value.
    expect((await shellLog()).filter((e) => e.startsWith('ARGV ')).at(-1)).toBe(`ARGV ${JSON.stringify(['no-such.exe', "it's $(here)"])}`);
    // Nothing the stand-in refused.
    expect((await shellLog()).filter((e) => e.startsWith('REJECTED')).every((e) => !e.includes('EncodedCommand'))).toBe(true);
  });

  test('a timeout is the client own: the command ends at it, not at its end, with MB_COMMAND_TIMEOUT', async () => {
    const started = performance.now();
    await expect(
      windows.run(['powershell', '-NoProfile', '-NonInteractive', '-EncodedCommand', Buffer.from('Start-Sleep -Seconds 3', 'utf16le').toString('base64')], { timeoutMs: 400 }),
    ).rejects.toMatchObject({
      code: 'MB_COMMAND_TIMEOUT',
      message: expect.stringContaining('timed out after 400 ms'),
    });
    const tookMs = performance.now() - started;
    expect(tookMs).toBeGreaterThanOrEqual(400);
    // Well before the 3 s sleep, and before the POSIX mode's 5 s client grace.
    expect(tookMs).toBeLessThan(2500);
  });

  test('no unix socket forwarding on a Windows host: a clear error, not a hang', async () => {
    await expect(windows.openUnixSocket('/run/qmp.sock')).rejects.toMatchObject({
      code: 'MB_COMMAND_START',
      message: expect.stringContaining('a Windows host has no unix sockets'),
    });
  });
});

describe('the Hyper-V driver over Windows OpenSSH', () => {
  test('a hostile VM name arrives intact as one literal; the move completes with its blackout, bytes and passes; wire counters from Windows', async () => {
    const vm = "web'01 $(Stop-Computer); `x` \u2019s";
    const host: TargetHost = { role: 'source', runner: windows, migrationAddress: '10.0.0.1', migrationInterface: 'Ethernet 2', bridge: 'vSwitch', workDir: 'C:\\migbench' };
    // The driver's own PowerShell command (the default), no test shell in between.
    const hv = new HypervHypervisor({ source: host, destination: { ...host, role: 'destination' }, vm, sourceHost: 'hv1', destinationHost: 'hv2', pollIntervalMs: 1 });
    const launch = {
      vmId: 'mb000004',
      guest: { memoryMiB: 2048, vcpus: 2, diskMiB: 0, diskDataMiB: 0 },
      network: { address: '192.0.2.80/24', mac: '52:54:00:00:00:04' },
      agent: {},
      storage: 'shared' as const,
    };
    const outcome = await hv.migrate(await hv.startGuest(launch), { kind: 'memory', timeoutMs: 60_000 });
    // Bytes and passes are this VM's counter instance as last seen while the move ran: found by its name as the stand-in decoded it.
    expect(outcome).toMatchObject({ status: 'completed', figures: { totalTimeMs: 6500, downtimeMs: 318, transferredBytes: 2_199_912_448, iterations: 4 } });
    expect(await hv.interfaceCounters('source', host.migrationInterface)).toEqual({ rxBytes: 1_048_576, txBytes: 2_300_000_000, rxPackets: 900, txPackets: 1_600_000 });
    const scripts = await shellLog();
    expect(scripts.find((s) => s.includes('Move-VM'))).toContain("Move-VM -Name 'web''01 $(Stop-Computer); `x` \u2019\u2019s' -DestinationHost 'hv2' -AsJob");
    expect(scripts.find((s) => s.includes('Get-NetAdapterStatistics'))).toContain("Get-NetAdapterStatistics -Name 'Ethernet 2'");
    expect(scripts.filter((s) => s.startsWith('REJECTED') && s.includes('EncodedCommand'))).toEqual([]);
  });
});
