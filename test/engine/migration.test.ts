// The engine without QEMU: a fake Hypervisor, a fake probe on the observer and fake agent
// taps on the hosts, so the order of the phases, the teardown after a failure in any of
// them, and what a teardown failure does to the record are checked in milliseconds.
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { runMigration } from '../../src/engine/migration.js';
import { CommandError, MigbenchError } from '../../src/model/errors.js';
import type { HostEnvironment } from '../../src/generated/results.js';
import {
  NO_FIGURES,
  type AgentEndpoint,
  type GuestHandle,
  type GuestLaunch,
  type Hypervisor,
  type MigrationHooks,
  type MigrationOutcome,
} from '../../src/hypervisors/hypervisor.js';
import type { Side } from '../../src/model/side.js';
import type { RunnerIncident, RunningCommand } from '../../src/exec/runner.js';
import type { ConnectedTarget } from '../../src/engine/target.js';
import { FakeRunner } from '../fakes/runner.js';
import { scenario } from '../integration/helpers.js';

type Step = 'describe' | 'startGuest' | 'prepareDestination' | 'migrate' | 'inspect' | 'destroyGuest' | 'interfaceCounters';
/** A step that fails on every call, or on the nth call only. */
type Failure = Step | { readonly step: Step; readonly call: number };

const host: HostEnvironment = { host: 'fake', kernel: '6.1', cpuModel: 'fake CPU', cpuCount: 2, hypervisorVersion: 'fake 1', accel: 'tcg' };
const ns = () => `${BigInt(Date.now()) * 1_000_000n}`;

/** What the fake guest agent on a host does. */
interface AgentBehaviour {
  /** Heartbeats while the guest runs on this host. @default true */
  readonly beats?: boolean;
  /** The tap reaches the agent's socket. @default true */
  readonly connects?: boolean;
  /** The agent starts (again) on this host once the tap connects: a guest that rebooted (on the source: a second start). */
  readonly starts?: boolean;
}

interface FakeOptions {
  /** Guest agent channels on both hosts (a migbench agent in the guest). */
  readonly agent?: { readonly source?: AgentBehaviour; readonly destination?: AgentBehaviour };
  /** The guest's serial console on each host (guestConsole). */
  readonly console?: Partial<Record<Side, string>>;
}

/**
 * A hypervisor that records what the engine asks of it and fails where it is told to.
 * `calls` has its lifecycle steps; `events` has those and what the probe and the agent
 * taps were asked to do, in the order it happened.
 */
class FakeHypervisor implements Hypervisor {
  readonly kind = 'qemu' as const;
  readonly calls: Step[] = [];
  readonly events: string[] = [];
  private readonly failures: Failure[];
  private readonly callCounts = new Map<Step, number>();
  private readonly agents: Partial<Record<Side, AgentRunner>>;
  private readonly consoles: Partial<Record<Side, string>>;
  guest: GuestHandle | undefined;

  constructor(
    failIn: Failure | readonly Failure[] | null = null,
    private readonly duringMigrate: () => void = () => undefined,
    options: FakeOptions = {},
  ) {
    this.failures = failIn === null ? [] : Array.isArray(failIn) ? [...(failIn as readonly Failure[])] : [failIn as Failure];
    const agent = (side: Side) => new AgentRunner(`lab ${side}`, side, () => (this.guest?.location ?? 'source') === side, this.events, options.agent?.[side] ?? {});
    this.agents = options.agent ? { source: agent('source'), destination: agent('destination') } : {};
    this.consoles = options.console ?? {};
  }

  private step(step: Step): void {
    if (step !== 'interfaceCounters') this.calls.push(step);
    this.events.push(step);
    const call = (this.callCounts.get(step) ?? 0) + 1;
    this.callCounts.set(step, call);
    if (this.failures.some((f) => (typeof f === 'string' ? f === step : f.step === step && f.call === call))) {
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
    this.guest = { vmId: launch.vmId, launch, workarounds: [], location: 'source' };
    return this.guest;
  }
  /** Ready once the ICMP probe started (or after 1 s): the engine must not wait for it before booting the source. */
  async prepareDestination() {
    this.step('prepareDestination');
    for (let waitedMs = 0; !this.events.includes('probe start') && waitedMs < 1000; waitedMs += 5) await new Promise((r) => setTimeout(r, 5));
    this.events.push('destination ready');
  }
  async migrate(guest: GuestHandle, _plan: unknown, hooks?: MigrationHooks): Promise<MigrationOutcome> {
    const startedAtMs = Date.now();
    this.step('migrate');
    this.duringMigrate();
    await hooks?.beforeTransfer?.({ ram: 49152 });
    hooks?.onSample?.({
      tMs: 10,
      status: 'active',
      transferredBytes: 100,
      remainingBytes: 300,
      totalBytes: 400,
      dirtyRatePagesPerSec: null,
      bandwidthMbps: null,
      iteration: 1,
      expectedDowntimeMs: null,
    });
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
  agentEndpoint(_guest: GuestHandle, side: Side): AgentEndpoint | null {
    const runner = this.agents[side];
    return runner ? { side, runner, socketPath: `/run/migbench/${side}.sock`, toolPath: '/usr/bin/migbench-probe' } : null;
  }
  async interfaceCounters() {
    this.step('interfaceCounters');
    return { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 };
  }
  async inspect() {
    this.step('inspect');
    return { status: 'running', running: true, panicked: false, events: [] };
  }
  async diagnostics() {
    return '';
  }
  async guestConsole(_guest: GuestHandle, side: Side) {
    this.events.push(`console ${side}`);
    return this.consoles[side] ?? '';
  }
  async destroyGuest() {
    this.step('destroyGuest');
  }
  async close() {}
}

/**
 * A process whose stdout the test writes. `exit` ends it by itself; closing its stdin or
 * killing it (the engine stopping it) calls `onStop` once, then ends it.
 */
function fakeProcess(host: string, argv: readonly string[], options: { onStop: () => void; write?: (data: string) => void; stderr?: string }) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r)).then(() => ({ host, argv, exitCode: 0, signal: null, stdout: '', stderr: options.stderr ?? '', durationMs: 1, ok: true }));
  let exited = false;
  const exit = () => {
    if (exited) return;
    exited = true;
    stdout.end();
    stderr.end();
    finish();
  };
  let stopped = false;
  const stop = () => {
    if (!stopped) options.onStop();
    stopped = true;
    exit();
  };
  const command: RunningCommand = { host, argv, stdout, stderr, write: (data) => options.write?.(String(data)), endInput: stop, kill: stop, done };
  return { stdout, exit, command };
}

/** The observer: migbench-probe's reply lines every 5 ms, from now, until its stdin closes; or, silent, it ends at once without a reply or a summary. */
class ProbeRunner extends FakeRunner {
  constructor(
    host: string,
    private readonly events: string[] = [],
    private readonly answers = true,
  ) {
    super(host);
  }

  override spawn(argv: readonly string[]): RunningCommand {
    this.events.push('probe start');
    let seq = 0;
    let timer: NodeJS.Timeout | undefined;
    const onStop = () => {
      this.events.push('probe stop');
      clearInterval(timer);
      if (this.answers) stdout.write(`E ${seq} ${seq}\n`);
    };
    const { stdout, exit, command } = fakeProcess(this.host, argv, { onStop, stderr: 'sendto: Network is unreachable' });
    if (this.answers) timer = setInterval(() => stdout.write(`R ${seq++} ${ns()} ${ns()}\n`), 5);
    else exit();
    return command;
  }
}

/** migbench-probe tapping the guest agent's channel on one host: heartbeats while the guest runs there, reports when asked. */
class AgentRunner extends FakeRunner {
  constructor(
    host: string,
    private readonly side: Side,
    private readonly guestIsHere: () => boolean,
    private readonly events: string[],
    private readonly behaviour: AgentBehaviour,
  ) {
    super(host);
  }

  override spawn(argv: readonly string[]): RunningCommand {
    const { side, events, behaviour } = this;
    events.push(`tap ${side} start`);
    let seq = 0;
    // Set once the tap is connected; stopping clears it whenever that happens.
    const heartbeats: { timer?: NodeJS.Timeout } = {};
    const line = (text: string) => stdout.write(`${ns()} ${text}\n`);
    const answer = (data: string) => {
      for (const request of data.trim().split('\n')) {
        events.push(`${request} ${side}`);
        if (request === 'verify') {
          line(`V ${seq} 4096 0 80 -`);
          line(`B ${seq} 16384 0 300 -`);
        }
        if (request === 'stats') {
          line(`D ${seq} 10 0`);
          line(`W ${seq} ${seq * 8} 0`);
        }
      }
    };
    const onStop = () => {
      clearInterval(heartbeats.timer);
      events.push(`tap ${side} stop`);
    };
    const { stdout, exit, command } = fakeProcess(this.host, argv, { onStop, write: answer, stderr: `connect ${argv.at(-1)}: No such file or directory` });
    if (behaviour.connects === false) {
      exit();
      return command;
    }
    stdout.write('# connected\n');
    // The agent starts once, at boot, on the source: a start seen on the destination would be a restart.
    if (side === 'source') line('I boot_id=fake disk=ok');
    if (behaviour.starts) line('I boot_id=fake2 disk=ok');
    heartbeats.timer = setInterval(() => {
      if (this.guestIsHere() && (behaviour.beats ?? true)) line(`H ${++seq} ${seq * 5000}`);
    }, 5);
    return command;
  }
}

class IncidentRunner extends FakeRunner {
  readonly incidents: RunnerIncident[] = [{ atMs: 0, host: 'lab src', text: 'before this run' }];
}

function target(hv: FakeHypervisor, source: FakeRunner = new IncidentRunner('lab src'), probeAnswers = true): ConnectedTarget {
  const side = (role: 'source' | 'destination', runner: FakeRunner) => ({
    role,
    runner,
    migrationAddress: '10.78.0.1',
    migrationInterface: 'mig0',
    bridge: 'br0',
    workDir: '/run/migbench',
  });
  return {
    name: 'fake',
    lab: false,
    hypervisor: hv,
    source: side('source', source),
    destination: side('destination', new FakeRunner('lab dst')),
    observer: new ProbeRunner('observer', hv.events, probeAnswers),
    observerProbePath: '/usr/bin/migbench-probe',
    guestNetwork: { address: '10.77.0.100/24', bridge: 'br0' },
    machineTuning: { qemuArgs: ['-cpu', 'qemu64'] },
    close: async () => undefined,
  };
}

const { scenario: idle } = scenario('      - { name: idle, guest: { memoryMiB: 256 }, migration: { kind: memory } }\n');
// Short windows: the fake answers at once.
const quick = { ...idle, bootTimeoutMs: 100, probe: { ...idle.probe, leadInMs: 5, observeAfterMs: 5, settleTimeoutMs: 2000 } };
const run = (hv: FakeHypervisor, source?: FakeRunner, probeAnswers?: boolean) =>
  runMigration(target(hv, source, probeAnswers), { scenario: quick, suite: 'fake', test: 'idle #1', repetition: 1 });
const withAgent = (failIn: Failure | readonly Failure[] | null = null, agent: FakeOptions['agent'] = {}) => new FakeHypervisor(failIn, undefined, { agent });
/** What was stopped or torn down, in order. */
const stops = (hv: FakeHypervisor) => hv.events.filter((e) => e.endsWith(' stop') || e === 'destroyGuest');

describe(runMigration, () => {
  test("runs the phases in order, tears the guest down, and the record is completed with the probe's figures", async () => {
    const hv = new FakeHypervisor();
    const record = await run(hv);
    expect(hv.calls).toEqual(['describe', 'startGuest', 'prepareDestination', 'migrate', 'inspect', 'destroyGuest']);
    expect(record).toMatchObject({ status: 'completed', error: null, metrics: { totalTimeMs: 30, downtimeMs: 5 } });
    expect(record.metrics.observedDowntimeMs).not.toBeNull();
    expect(record.warnings).toBeUndefined();
    // What the target added to the guest's machine goes into the record.
    expect(record.guest.qemuArgs).toEqual(['-cpu', 'qemu64']);
  });

  test('the progress callback hears each phase as it starts and the share copied while the hypervisor migrates', async () => {
    const heard: string[] = [];
    await runMigration(target(new FakeHypervisor()), { scenario: quick, suite: 'fake', test: 'idle #1', repetition: 1, onProgress: (l) => heard.push(`${l.phase} ${l.percent}`) });
    expect(heard.slice(0, 2)).toEqual(['environment null', 'start-guest null']);
    expect(heard).toContain('migrate null');
    expect(heard[heard.indexOf('migrate null') + 1]).toBe('migrate 25');
    expect(heard.at(-1)).toBe('verify null');
  });

  test('a teardown step that fails after a completed migration leaves the record completed, with a warning naming the step', async () => {
    const record = await run(new FakeHypervisor('destroyGuest'));
    expect(record.status).toBe('completed');
    expect(record.error).toBeNull();
    expect(record.warnings).toEqual([
      {
        step: expect.stringMatching(/^destroy guest mb[0-9a-f]{6}$/),
        code: 'MB_SSH_LOST',
        message: expect.stringMatching(/^cleanup "destroy guest mb[0-9a-f]{6}" failed: lab src: `cat \/proc\/1\/stat` lost its SSH connection$/),
      },
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

  test('with the agent on both hosts, every step runs in the order of the measurement, and each is timed', async () => {
    const hv = withAgent();
    const record = await run(hv);
    expect(hv.events).toEqual([
      'describe',
      'startGuest',
      // The destination is prepared while the source boots, and awaited only before it is tapped.
      'prepareDestination',
      'tap source start',
      'probe start',
      'destination ready',
      'tap destination start',
      // Lead-in: the wire counters, then the guest's disk writes so far.
      'interfaceCounters',
      'stats source',
      'migrate',
      // Observed until the probe stops; the guest is verified where it runs now.
      'interfaceCounters',
      'probe stop',
      'verify destination',
      'stats destination',
      'inspect',
      'tap source stop',
      'tap destination stop',
      'destroyGuest',
    ]);
    expect(Object.keys(record.harnessMs ?? {})).toEqual([
      'startGuestMs',
      'bootMs',
      'prepareMs',
      'leadInMs',
      'migrateMs',
      'settleMs',
      'observeMs',
      'verifyMs',
      'teardownMs',
      'wallMs',
    ]);
    expect(record).toMatchObject({
      status: 'completed',
      error: null,
      integrity: { location: 'destination', guestAlive: true, memoryIntact: true, pagesChecked: 4096, diskIntact: true, blocksChecked: 16384, problem: null },
    });
    expect(record.metrics.guestPauseMs).not.toBeNull();
    expect(record.warnings).toBeUndefined();
  });

  test.each([
    ['launch', () => withAgent('startGuest'), 'start-guest', 'MB_GUEST', 'startGuest broke', []],
    [
      'boot',
      () => withAgent(null, { source: { beats: false } }),
      'start-guest',
      'MB_GUEST',
      'guest did not boot within 100 ms (no agent heartbeat)',
      ['tap source stop', 'destroyGuest'],
    ],
    [
      'probe start',
      () => withAgent(),
      'start-guest',
      'MB_GUEST',
      'guest 10.77.0.100 does not answer the probe from the observer (observer)',
      ['probe stop', 'tap source stop', 'destroyGuest'],
    ],
    ['destination prepare', () => withAgent('prepareDestination'), 'prepare', 'MB_GUEST', 'prepareDestination broke', ['probe stop', 'tap source stop', 'destroyGuest']],
    [
      'destination tap',
      () => withAgent(null, { destination: { connects: false } }),
      'prepare',
      'MB_PROBE',
      "cannot tap the destination's agent channel /run/migbench/destination.sock: connect /run/migbench/destination.sock: No such file or directory",
      ['probe stop', 'tap source stop', 'tap destination stop', 'destroyGuest'],
    ],
    ['migrate', () => withAgent('migrate'), 'migrate', 'MB_GUEST', 'migrate broke', ['probe stop', 'tap source stop', 'tap destination stop', 'destroyGuest']],
    [
      'observe',
      () => withAgent({ step: 'interfaceCounters', call: 2 }),
      'settle',
      'MB_GUEST',
      'interfaceCounters broke',
      ['probe stop', 'tap source stop', 'tap destination stop', 'destroyGuest'],
    ],
    ['verify', () => withAgent('inspect'), 'verify', 'MB_GUEST', 'inspect broke', ['probe stop', 'tap source stop', 'tap destination stop', 'destroyGuest']],
  ] as const)('a failure in %s fails the record, naming the phase, and stops what was started once, the guest last', async (what, fake, phase, code, message, stopped) => {
    const hv = fake();
    const record = await run(hv, undefined, what !== 'probe start');
    expect(record).toMatchObject({ status: 'failed', error: { code, message, phase } });
    expect(stops(hv)).toEqual(stopped);
    // Nothing of the later phases ran.
    expect(hv.calls.includes('inspect')).toBe(what === 'verify');
  });

  test('a guest lost after the migration: its console where it went says why, and a guest that answers has its console left alone', async () => {
    const console = { source: 'migbench-agent: ready\n', destination: '[    7.053427] BUG: scheduling while atomic: migbench-agent/102/0x00000000\n' };
    const silent = new FakeHypervisor(null, undefined, { agent: { destination: { beats: false } }, console });
    const record = await run(silent);
    expect(record.status).toBe('completed');
    expect(record.integrity).toMatchObject({ guestAlive: false, location: 'destination' });
    expect(record.integrity.problem).toContain('its console on the destination: "BUG: scheduling while atomic: migbench-agent/102/0x00000000"');
    expect(silent.events.filter((e) => e.startsWith('console'))).toEqual(['console destination']);

    const alive = new FakeHypervisor(null, undefined, { agent: {}, console });
    expect((await run(alive)).integrity.problem).toBeNull();
    expect(alive.events.filter((e) => e.startsWith('console'))).toEqual([]);
  });

  test('a source that fails to boot while the destination is being prepared is torn down only once the destination is ready', async () => {
    const hv = withAgent(null, { source: { beats: false } });
    const record = await run(hv);
    expect(record.error).toMatchObject({ phase: 'start-guest' });
    expect(hv.events.indexOf('destination ready')).toBeGreaterThan(-1);
    expect(hv.events.indexOf('destination ready')).toBeLessThan(hv.events.indexOf('tap source stop'));
  });

  test('a teardown step that fails after a failure leaves the first error on the record, the teardown failure as a warning, and the other steps run', async () => {
    const hv = withAgent();
    // The probe never answers, then fails to stop (no summary); the guest is still destroyed.
    const record = await run(hv, undefined, false);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'MB_GUEST', phase: 'start-guest', message: expect.stringMatching(/does not answer the probe/) } });
    expect(record.warnings).toEqual([
      {
        step: 'stop the probe',
        code: 'MB_PROBE',
        message: expect.stringMatching(/^cleanup "stop the probe" failed: observer: probe `\/usr\/bin\/migbench-probe icmp .*` ended without its summary/),
      },
    ]);
    expect(hv.calls.at(-1)).toBe('destroyGuest');
  });

  test('a guest that cannot be destroyed after a failed migration: the record keeps the migration error, with the teardown failure as a warning', async () => {
    const record = await run(withAgent(['migrate', 'destroyGuest']));
    expect(record).toMatchObject({ status: 'failed', error: { code: 'MB_GUEST', message: 'migrate broke', phase: 'migrate' } });
    expect(record.warnings).toEqual([
      { step: expect.stringMatching(/^destroy guest mb[0-9a-f]{6}$/), code: 'MB_SSH_LOST', message: expect.stringMatching(/lost its SSH connection$/) },
    ]);
  });

  test('several teardown steps that fail after a completed migration: the record stays completed, each is a warning, and the measurement is kept', async () => {
    // nftables on the source: the counters read, but the table cannot be removed.
    const counters = JSON.stringify({ nftables: [{ rule: { comment: 'ram', expr: [{ counter: { bytes: 1234 } }] } }] });
    const source = new IncidentRunner('lab src', (argv) =>
      argv.includes('delete') ? { exitCode: 1, stderr: 'Error: No such file or directory' } : argv.includes('-j') ? { stdout: counters } : {},
    );
    const hv = withAgent('destroyGuest');
    const record = await run(hv, source);
    expect(record).toMatchObject({ status: 'completed', error: null, metrics: { wireRamBytes: 1234 } });
    expect(record.warnings?.map((w) => [w.step, w.code])).toEqual([
      ['remove the flow counters', 'MB_COMMAND_FAILED'],
      [expect.stringMatching(/^destroy guest /), 'MB_SSH_LOST'],
    ]);
    expect(stops(hv)).toEqual(['probe stop', 'tap source stop', 'tap destination stop', 'destroyGuest']);
  });

  test.each([
    ['on the destination', { destination: { starts: true } }],
    ['on the source, before the migration', { source: { starts: true } }],
  ] as const)('an agent that starts again %s is a restarted guest: the record says so and calls its memory damaged', async (_where, agent) => {
    const record = await run(withAgent(null, agent));
    expect(record.status).toBe('completed');
    expect(record.integrity).toMatchObject({ restarted: true, guestAlive: false, memoryIntact: false });
    expect(record.integrity.problem).toContain('guest restarted: its agent started again');
  });

  test("what the hosts' runners had to do during the run goes into its notes, and only that", async () => {
    const source = new IncidentRunner('lab src');
    const record = await run(
      new FakeHypervisor(null, () => source.incidents.push({ atMs: Date.now(), host: 'lab src', text: '`rm -rf /x` lost its connection and ran again on a new one' })),
      source,
    );
    expect(record.notes).toEqual(['lab src: `rm -rf /x` lost its connection and ran again on a new one']);
  });
});
