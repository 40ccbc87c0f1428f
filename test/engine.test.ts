// The engine without QEMU: a fake Hypervisor and a fake probe on the observer, so the
// order of the phases, the teardown after a failure in any of them, and what a teardown
// failure does to the record are checked in milliseconds.
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { runMigration } from '../src/engine.js';
import { CommandError, MigbenchError } from '../src/errors.js';
import type { HostEnvironment } from '../src/generated/results.js';
import { NO_FIGURES, type GuestHandle, type GuestLaunch, type Hypervisor, type MigrationOutcome } from '../src/hypervisor.js';
import type { RunnerIncident, RunningCommand } from '../src/runner/runner.js';
import type { ConnectedTarget } from '../src/target.js';
import { FakeRunner } from './fakes/runner.js';
import { scenario } from './integration/helpers.js';

type Step = 'describe' | 'startGuest' | 'prepareDestination' | 'migrate' | 'inspect' | 'destroyGuest';

const host: HostEnvironment = { host: 'fake', kernel: '6.1', cpuModel: 'fake CPU', cpuCount: 2, hypervisorVersion: 'fake 1', accel: 'tcg' };

/** A hypervisor that records what the engine asks of it and fails where it is told to. */
class FakeHypervisor implements Hypervisor {
  readonly kind = 'qemu' as const;
  readonly calls: Step[] = [];
  constructor(
    private readonly failIn: Step | null = null,
    private readonly duringMigrate: () => void = () => undefined,
  ) {}

  private step(step: Step): void {
    this.calls.push(step);
    if (this.failIn === step) {
      if (step === 'destroyGuest') {
        throw new CommandError('MB_SSH_LOST', { host: 'lab src', argv: ['cat', '/proc/1/stat'], exitCode: null, signal: null, stderr: '', reason: 'lost its SSH connection' });
      }
      throw new MigbenchError('MB_GUEST', `${step} broke`);
    }
  }

  async describe() {
    this.step('describe');
    return { source: host, destination: host };
  }
  async startGuest(launch: GuestLaunch): Promise<GuestHandle> {
    this.step('startGuest');
    return { vmId: launch.vmId, launch, workarounds: [], location: 'source' };
  }
  async prepareDestination() {
    this.step('prepareDestination');
  }
  async migrate(guest: GuestHandle): Promise<MigrationOutcome> {
    const startedAtMs = Date.now();
    this.step('migrate');
    this.duringMigrate();
    await new Promise((r) => setTimeout(r, 30));
    guest.location = 'destination';
    return {
      status: 'completed',
      error: null,
      startedAtMs,
      storage: null,
      endedAtMs: Date.now(),
      figures: { ...NO_FIGURES, totalTimeMs: 30, downtimeMs: 5 },
      timeline: [],
      events: [],
      parameters: {},
      capabilities: [],
    };
  }
  agentEndpoint() {
    return null;
  }
  async interfaceCounters() {
    return { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 };
  }
  async inspect() {
    this.step('inspect');
    return { status: 'running', running: true, panicked: false, events: [] };
  }
  async diagnostics() {
    return '';
  }
  async destroyGuest() {
    this.step('destroyGuest');
  }
  async close() {}
}

/** The observer: migbench-probe's reply lines every 5 ms, from now, until its stdin closes. */
class ProbeRunner extends FakeRunner {
  override spawn(argv: readonly string[]): RunningCommand {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let seq = 0;
    const ns = () => `${BigInt(Date.now()) * 1_000_000n}`;
    const timer = setInterval(() => stdout.write(`R ${seq++} ${ns()} ${ns()}\n`), 5);
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r)).then(() => ({ host: this.host, argv, exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 1, ok: true }));
    const end = () => {
      clearInterval(timer);
      stdout.end(`E ${seq} ${seq}\n`);
      stderr.end();
      finish();
    };
    return { host: this.host, argv, stdout, stderr, write: () => undefined, endInput: end, kill: end, done };
  }
}

class IncidentRunner extends FakeRunner {
  readonly incidents: RunnerIncident[] = [{ atMs: 0, host: 'lab src', text: 'before this run' }];
}

function target(hv: Hypervisor, source = new IncidentRunner('lab src')): ConnectedTarget {
  const side = (role: 'source' | 'destination', runner: FakeRunner) => ({ role, runner, migrationAddress: '10.78.0.1', migrationInterface: 'mig0', bridge: 'br0', workDir: '/run/migbench' });
  return {
    name: 'fake',
    lab: false,
    hypervisor: hv,
    source: side('source', source),
    destination: side('destination', new FakeRunner('lab dst')),
    observer: new ProbeRunner('observer'),
    observerProbePath: '/usr/bin/migbench-probe',
    guestNetwork: { address: '10.77.0.100/24', bridge: 'br0' },
    close: async () => undefined,
  };
}

const { scenario: idle } = scenario('      - { name: idle, guest: { memoryMiB: 256 }, migration: { kind: memory } }\n');
// Short windows: the fake answers at once.
const quick = { ...idle, probe: { ...idle.probe, leadInMs: 5, observeAfterMs: 5, settleTimeoutMs: 2000 } };
const run = (hv: Hypervisor, source?: IncidentRunner) => runMigration(target(hv, source), { scenario: quick, suite: 'fake', test: 'idle #1', repetition: 1 });

describe(runMigration, () => {
  test("runs the phases in order, tears the guest down, and the record is completed with the probe's figures", async () => {
    const hv = new FakeHypervisor();
    const record = await run(hv);
    expect(hv.calls).toEqual(['describe', 'startGuest', 'prepareDestination', 'migrate', 'inspect', 'destroyGuest']);
    expect(record).toMatchObject({ status: 'completed', error: null, metrics: { totalTimeMs: 30, downtimeMs: 5 } });
    expect(record.metrics.observedDowntimeMs).not.toBeNull();
    expect(record.warnings).toBeUndefined();
  });

  test('a teardown step that fails after a completed migration leaves the record completed, with a warning naming the step', async () => {
    const record = await run(new FakeHypervisor('destroyGuest'));
    expect(record.status).toBe('completed');
    expect(record.error).toBeNull();
    expect(record.warnings).toEqual([
      { step: expect.stringMatching(/^destroy guest mb[0-9a-f]{6}$/), code: 'MB_SSH_LOST', message: expect.stringMatching(/^cleanup "destroy guest mb[0-9a-f]{6}" failed: lab src: `cat \/proc\/1\/stat` lost its SSH connection$/) },
    ]);
  });

  test.each([
    ['describe', 'environment', false],
    ['startGuest', 'start-guest', false],
    ['prepareDestination', 'prepare', true],
    ['migrate', 'migrate', true],
    ['inspect', 'verify', true],
  ] as const)('a failure in %s fails the record in phase %s, and a started guest is still torn down', async (step, phase, started) => {
    const hv = new FakeHypervisor(step);
    const record = await run(hv);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'MB_GUEST', message: `${step} broke`, phase } });
    expect(hv.calls.includes('destroyGuest')).toBe(started);
    expect(hv.calls.at(-1)).toBe(started ? 'destroyGuest' : step);
  });

  test("what the hosts' runners had to do during the run goes into its notes, and only that", async () => {
    const source = new IncidentRunner('lab src');
    const record = await run(new FakeHypervisor(null, () => source.incidents.push({ atMs: Date.now(), host: 'lab src', text: '`rm -rf /x` lost its connection and ran again on a new one' })), source);
    expect(record.notes).toEqual(['lab src: `rm -rf /x` lost its connection and ran again on a new one']);
  });
});
