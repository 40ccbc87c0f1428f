// The Hyper-V driver's whole path over a real SSH connection (the lab host's sshd): argv
// through ssh2's exec, the -EncodedCommand decoded on the far side, JSON back. The far
// side is a STAND-IN for PowerShell (test/fakes/pwsh-standin.sh) answering with outputs
// constructed from Microsoft's documented properties, not recorded on Hyper-V.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TargetHost } from '../../src/hypervisors/hypervisor.js';
import { HypervHypervisor } from '../../src/hypervisors/hyperv/driver.js';
import { connectLabHost, labUp, readLabState } from '../../src/lab/lab.js';
import { projectPath } from '../../src/model/paths.js';
import type { SshRunner } from '../../src/exec/ssh.js';

let ssh: SshRunner;
let log: string;

beforeAll(async () => {
  await labUp();
  ssh = await connectLabHost((await readLabState())!, 'source');
  log = join(await mkdtemp(join(tmpdir(), 'migbench-standin-')), 'scripts.log');
});
afterAll(async () => ssh?.close());

describe('Hyper-V over SSH, with a PowerShell stand-in', () => {
  test('a hostile VM name arrives intact as one literal; the move completes with its blackout, bytes and passes; wire counters from Windows', async () => {
    const vm = "web'01 $(Stop-Computer); `x`";
    const host: TargetHost = { role: 'source', runner: ssh, migrationAddress: '10.0.0.1', migrationInterface: 'Ethernet 2', bridge: 'vSwitch', workDir: 'C:\\migbench' };
    const hv = new HypervHypervisor({
      source: host,
      destination: { ...host, role: 'destination' },
      vm,
      sourceHost: 'hv1',
      destinationHost: 'hv2',
      shell: ['env', `MIGBENCH_STANDIN_LOG=${log}`, `STANDIN_VM_JSON=${vm}`, projectPath('test/fakes/pwsh-standin.sh')],
      pollIntervalMs: 1,
    });
    const launch = {
      vmId: 'mb000004',
      guest: { memoryMiB: 2048, vcpus: 2, diskMiB: 0, diskDataMiB: 0 },
      network: { address: '192.0.2.80/24', mac: '52:54:00:00:00:04' },
      agent: {},
      storage: 'shared' as const,
    };
    const outcome = await hv.migrate(await hv.startGuest(launch), { kind: 'memory', timeoutMs: 60_000 });
    // Bytes and passes are this VM's counter instance as last seen while the move ran.
    expect(outcome).toMatchObject({ status: 'completed', figures: { totalTimeMs: 6500, downtimeMs: 318, transferredBytes: 2_199_912_448, iterations: 4 } });
    expect(await hv.interfaceCounters('source', host.migrationInterface)).toEqual({ rxBytes: 1_048_576, txBytes: 2_300_000_000, rxPackets: 900, txPackets: 1_600_000 });
    const scripts = (await readFile(log, 'utf8')).split('--- end of script ---\n');
    expect(scripts.find((s) => s.includes('Move-VM'))).toContain("Move-VM -Name 'web''01 $(Stop-Computer); `x`' -DestinationHost 'hv2' -AsJob");
  });
});
