// The Hyper-V driver keeps the Hypervisor contract against two fake Windows hosts that
// decode each -EncodedCommand and answer as the script would, with state: which host has
// the VM and which Move-VM jobs run. As in test/hypervisors/hyperv/driver.test.ts, the
// answers are CONSTRUCTED from Microsoft's documented property names, not recorded.
// The scenario decides how the first move's job goes; the way home always completes.
import { decodeEncodedCommand } from '../../src/exec/quote.js';
import { HypervHypervisor } from '../../src/hypervisors/hyperv/driver.js';
import type { TargetHost } from '../../src/hypervisors/hypervisor.js';
import { FakeRunner, type Answer } from '../fakes/runner.js';
import { hypervisorContract, type ContractScenario, type ContractWorld } from './contract.js';

/** How many polls a job of the times-out scenario keeps running if nobody stops it: then it completes, late. */
const LATE_COMPLETION_POLLS = 300;

interface FakeJob {
  readonly id: number;
  readonly from: string;
  readonly to: string;
  readonly begin: string;
  polls: number;
  stopRequested: boolean;
  state: 'Running' | 'Completed' | 'Failed' | 'Stopped';
  end: string | null;
}

const json = (v: unknown): Answer => ({ stdout: `${JSON.stringify(v)}\r\n` });
const notFound = (host: string) =>
  json({ error: `Hyper-V was unable to find a virtual machine with name 'web-01' on ${host}.`, id: 'InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVM' });

/** Two Hyper-V hosts sharing one VM; `scenario` is how the first move's job ends. */
class FakeHosts {
  vmOn = 'hv1';
  readonly jobs = new Map<number, FakeJob>();
  private readonly blackouts: Array<{ id: number; time: string; blackoutSeconds: number }> = [];

  constructor(private readonly scenario: ContractScenario) {}

  host(role: 'source' | 'destination', name: string): TargetHost {
    const runner = new FakeRunner(`${name} (ssh)`, (argv) => this.respond(name, decodeEncodedCommand(argv.at(-1)!)));
    return { role, runner, migrationAddress: role === 'source' ? '10.0.0.1' : '10.0.0.2', migrationInterface: 'Ethernet 2', bridge: 'vSwitch', workDir: 'C:\\migbench' };
  }

  private respond(host: string, script: string): Answer {
    if (script.includes('Move-VM')) return this.moveVm(host, script);
    if (script.includes('Get-Job')) return this.getJob(host, Number(/Get-Job -Id (\d+)/.exec(script)![1]));
    if (script.includes('RequestStateChange')) {
      for (const job of this.jobs.values()) if (job.from === host && job.state === 'Running') job.stopRequested = true;
      return json({ returnValue: 4096 });
    }
    if (script.includes('Get-WinEvent')) return json(this.blackouts);
    if (script.includes('Get-NetAdapterStatistics')) return json({ ReceivedBytes: 5_000, SentBytes: 230_000_000, ReceivedUnicastPackets: 80, SentUnicastPackets: 160_000 });
    if (script.includes('Get-VM -Name')) return this.vmOn === host ? json({ state: 'Running', computerName: host.toUpperCase() }) : notFound(host);
    return { exitCode: 1, stderr: `fake host ${host}: no answer for this script` };
  }

  private moveVm(host: string, script: string): Answer {
    if (this.vmOn !== host)
      return json({ error: `Hyper-V was unable to find a virtual machine with name 'web-01'.`, id: 'InvalidParameter,Microsoft.HyperV.PowerShell.Commands.MoveVM' });
    const id = this.jobs.size + 1;
    const to = /-DestinationHost '([^']+)'/.exec(script)![1]!;
    this.jobs.set(id, { id, from: host, to, begin: new Date().toISOString(), polls: 0, stopRequested: false, state: 'Running', end: null });
    return json({ jobId: id, state: 'Running', started: new Date().toISOString() });
  }

  private getJob(host: string, id: number): Answer {
    const job = this.jobs.get(id);
    if (!job || job.from !== host)
      return json({
        error: 'Get-Job : The command cannot find the job because the job was not found.',
        id: 'JobWithSpecifiedIdNotFound,Microsoft.PowerShell.Commands.GetJobCommand',
      });
    this.advance(job);
    const liveMigration =
      job.state === 'Running'
        ? [
            {
              Name: 'web-01',
              MemoryWalkerUncompressedBytesSent: 180_000_000 + job.polls * 1000,
              CompressorCompressedBytesSent: 40_000_000,
              SMBTransportBytesSent: 0,
              TransferPassNumber: 2,
            },
          ]
        : [];
    const reason = job.state === 'Failed' ? 'Virtual machine migration operation for web-01 failed at migration destination hv2: the connection was refused.' : null;
    return json({
      state: job.state,
      begin: job.begin,
      end: job.end,
      reason,
      percent: job.state === 'Running' ? 40 : 100,
      migrationJobState: job.state === 'Running' ? 4 : 7,
      liveMigration,
    });
  }

  /** One poll's worth of the job: the first move goes as the scenario says, any later one completes. */
  private advance(job: FakeJob): void {
    if (job.state !== 'Running') return;
    job.polls++;
    const next = job.stopRequested
      ? 'Stopped'
      : job.id > 1 || this.scenario === 'completes'
        ? job.polls >= 2
          ? 'Completed'
          : 'Running'
        : this.scenario === 'fails'
          ? 'Failed'
          : job.polls >= LATE_COMPLETION_POLLS
            ? 'Completed'
            : 'Running';
    if (next === 'Running') return;
    job.state = next;
    job.end = new Date().toISOString();
    if (next !== 'Completed') return;
    this.vmOn = job.to;
    this.blackouts.push({ id: 20415, time: job.end, blackoutSeconds: 0.287 });
  }
}

async function world(scenario: ContractScenario): Promise<ContractWorld> {
  const hosts = new FakeHosts(scenario);
  const hypervisor = new HypervHypervisor({
    source: hosts.host('source', 'hv1'),
    destination: hosts.host('destination', 'hv2'),
    vm: 'web-01',
    sourceHost: 'hv1',
    destinationHost: 'hv2',
    pollIntervalMs: 1,
  });
  return {
    hypervisor,
    launch: {
      vmId: 'mb0c0003',
      guest: { memoryMiB: 256, vcpus: 1, diskMiB: 0, diskDataMiB: 0 },
      network: { address: '192.0.2.80/24', mac: '52:54:00:00:0c:03' },
      agent: {},
      storage: 'shared',
    },
    plan: { kind: 'memory', timeoutMs: scenario === 'times-out' ? 30 : 10_000 },
    leftovers: async () => [
      ...(hosts.vmOn !== 'hv1' ? [`VM web-01 is on ${hosts.vmOn}, not back on hv1`] : []),
      ...[...hosts.jobs.values()].filter((j) => j.state === 'Running').map((j) => `Move-VM job ${j.id} still running`),
    ],
    close: () => hypervisor.close(),
  };
}

hypervisorContract('Hyper-V (fake Windows hosts)', {
  kind: 'hyperv',
  // The job's times, the VMMS blackout event and the live-migration counters.
  reports: ['totalTimeMs', 'downtimeMs', 'transferredBytes', 'iterations'],
  agent: 'none',
  optional: { pause: false, interfaceCounters: true, pingPong: false },
  world,
});
