// The XenServer driver keeps the Hypervisor contract against a fake pool that speaks
// XenAPI JSON-RPC (every call checked against the vendor's data model) and keeps state:
// where the VM is resident and which tasks exist. A task moves the VM when it succeeds.
// The scenario decides how the first migration's task goes; the way home always succeeds.
// Times are whole seconds, as XenAPI gives them.
import type { TargetHost } from '../../src/hypervisors/hypervisor.js';
import { XenApiClient } from '../../src/hypervisors/xen/client.js';
import { XenServerHypervisor } from '../../src/hypervisors/xen/driver.js';
import { FakeRunner } from '../fakes/runner.js';
import { startFakeXapi, type XapiHandler } from '../fakes/xapi-server.js';
import { hypervisorContract, type ContractScenario, type ContractWorld } from './contract.js';

const REF = { session: 'OpaqueRef:s1', vm: 'OpaqueRef:vm1', xcp1: 'OpaqueRef:host1', xcp2: 'OpaqueRef:host2' };
const HOSTS: Record<string, string> = { xcp1: REF.xcp1, xcp2: REF.xcp2 };

/** How many polls a task of the times-out scenario stays pending if nobody cancels it: then it succeeds, late. */
const LATE_SUCCESS_POLLS = 300;

interface FakeTask {
  readonly destination: string;
  readonly createdAt: Date;
  readonly first: boolean;
  polls: number;
  cancelRequested: boolean;
  record: Record<string, unknown>;
}

/** XenAPI's datetime: whole seconds, "20261204T14:00:07Z". */
const xenTime = (d: Date) => `${d.toISOString().slice(0, 19).replaceAll('-', '')}Z`;

/** A pool of two hosts and one running VM; `scenario` is how the first migration's task ends. */
class FakePool {
  residentOn = REF.xcp1;
  readonly tasks = new Map<string, FakeTask>();
  private migrations = 0;

  constructor(private readonly scenario: ContractScenario) {}

  get handlers(): Record<string, XapiHandler> {
    return {
      'session.login_with_password': () => ({ result: REF.session }),
      'session.logout': () => ({ result: null }),
      'VM.get_by_name_label': ([, l]) => ({ result: l === 'web-01' ? [REF.vm] : [] }),
      'host.get_by_name_label': ([, l]) => ({ result: HOSTS[l as string] ? [HOSTS[l as string]] : [] }),
      'VM.get_record': () => ({ result: { power_state: 'Running', resident_on: this.residentOn, VBDs: [], VIFs: [] } }),
      'host.get_record': () => ({ result: { software_version: { product_brand: 'XCP-ng', product_version: '8.3.0', xen: '4.17.5' } } }),
      'Async.VM.pool_migrate': ([, , destination]) => ({ result: this.startTask(destination as string) }),
      'task.get_record': ([, ref]) => this.poll(ref as string),
      'task.cancel': ([, ref]) => {
        const task = this.tasks.get(ref as string);
        if (task) task.cancelRequested = true;
        return { result: null };
      },
      'task.destroy': ([, ref]) => {
        this.tasks.delete(ref as string);
        return { result: null };
      },
    };
  }

  private startTask(destination: string): string {
    const ref = `OpaqueRef:task${++this.migrations}`;
    this.tasks.set(ref, { destination, createdAt: new Date(), first: this.migrations === 1, polls: 0, cancelRequested: false, record: { status: 'pending' } });
    return ref;
  }

  private poll(ref: string): ReturnType<XapiHandler> {
    const task = this.tasks.get(ref);
    if (!task) return { error: { code: 1, message: 'HANDLE_INVALID', data: ['task', ref] } };
    if (task.record.status !== 'pending') return { result: task.record };
    task.polls++;
    const status = this.statusOf(task);
    const errorInfo = status === 'failure' ? ['VM_MIGRATE_FAILED', REF.vm, REF.xcp1, task.destination, 'Connection refused'] : [];
    task.record = {
      status,
      progress: status === 'success' ? 1 : 0.4,
      created: xenTime(task.createdAt),
      finished: status === 'pending' ? '19700101T00:00:00Z' : xenTime(new Date()),
      result: '',
      error_info: errorInfo,
    };
    if (status === 'success') this.residentOn = task.destination;
    return { result: task.record };
  }

  /** The first migration goes as the scenario says; any later one (the way home) succeeds. */
  private statusOf(task: FakeTask): 'pending' | 'success' | 'failure' | 'cancelled' {
    if (task.cancelRequested) return 'cancelled';
    if (!task.first || this.scenario === 'completes') return task.polls >= 2 ? 'success' : 'pending';
    if (this.scenario === 'fails') return 'failure';
    return task.polls >= LATE_SUCCESS_POLLS ? 'success' : 'pending';
  }
}

/** dom0 of a pool host: answers what migbench asks any host. */
function dom0(role: 'source' | 'destination', name: string): TargetHost {
  const runner = new FakeRunner(`${name} dom0`, (argv) => {
    if (argv[0] === 'uname') return { stdout: `${name} 6.1.0-xen\n` };
    if (argv.join(' ') === 'cat /proc/cpuinfo') return { stdout: 'processor\t: 0\nmodel name\t: AMD EPYC 7302P\nprocessor\t: 1\nmodel name\t: AMD EPYC 7302P\n' };
    return { exitCode: 1, stderr: `no answer for ${argv.join(' ')}` };
  });
  return { role, runner, migrationAddress: role === 'source' ? '10.0.0.1' : '10.0.0.2', migrationInterface: 'xenbr1', bridge: 'xenbr0', workDir: '/run/migbench' };
}

async function world(scenario: ContractScenario): Promise<ContractWorld> {
  const pool = new FakePool(scenario);
  const server = await startFakeXapi(pool.handlers);
  const hypervisor = new XenServerHypervisor({
    source: dom0('source', 'xcp1'),
    destination: dom0('destination', 'xcp2'),
    client: new XenApiClient(server.url),
    user: 'root',
    password: async () => 'pool-secret',
    vm: 'web-01',
    sourceHost: 'xcp1',
    destinationHost: 'xcp2',
    pollIntervalMs: 1,
  });
  return {
    hypervisor,
    launch: {
      vmId: 'mb0c0001',
      guest: { memoryMiB: 256, vcpus: 1, diskMiB: 0, diskDataMiB: 0 },
      network: { address: '192.0.2.50/24', mac: '52:54:00:00:0c:01' },
      agent: {},
      storage: 'shared',
    },
    plan: { kind: 'memory', timeoutMs: scenario === 'times-out' ? 30 : 10_000 },
    leftovers: async () => [
      ...(pool.residentOn !== REF.xcp1 ? [`VM web-01 is resident on ${pool.residentOn}, not back on xcp1`] : []),
      ...[...pool.tasks.keys()].map((t) => `task ${t} not destroyed`),
      ...server.contractViolations.map((v) => `a call the data model refuses: ${v}`),
    ],
    close: async () => {
      await hypervisor.close();
      await server.close();
    },
  };
}

hypervisorContract('XenServer (fake XenAPI pool)', {
  kind: 'xenserver',
  // Task times only (whole seconds); downtime and bytes come from migbench's probes.
  reports: ['totalTimeMs'],
  agent: 'none',
  optional: { pause: false, interfaceCounters: false, pingPong: false },
  world,
});
