// The contract every hypervisor driver keeps, as vitest tests that use the `Hypervisor`
// interface (src/hypervisors/hypervisor.ts) and nothing else of the driver. A test file
// wires it to one driver with a setup: how to get a driver and a guest for each scenario
// (a fake host in unit tests, the lab or vcsim in integration tests), which figures that
// driver reports, and what, if anything, it legitimately cannot do (the test is then
// skipped with that reason). What the setup can see from outside the driver (what is left
// on the hosts) backs up what the driver says. What neither the interface nor the engine
// relies on is not asked: destroyGuest, for one, is called once per guest, as the engine
// does; the interface does not say a second call is safe.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_BOOT_TIMEOUT_MS } from '../../src/config/scenarios.js';
import type { HypervisorKind, ProgressSample } from '../../src/generated/results.js';
import { NO_FIGURES, type GuestHandle, type GuestLaunch, type Hypervisor, type HypervisorFigures, type MigrationOutcome } from '../../src/hypervisors/hypervisor.js';
import { VENDOR_HYPERVISORS, type VendorKind } from '../../src/hypervisors/registry.js';
import { MigbenchError } from '../../src/model/errors.js';
import type { MigrationSpec } from '../../src/model/scenario.js';
import { epochMs } from '../../src/model/time.js';
import { AgentTap } from '../../src/probes/agent.js';

export type FigureName = keyof HypervisorFigures;

/** Every figure of the interface; downtimeNetMs is optional there, and absent counts as null. */
export const FIGURES: readonly FigureName[] = [...(Object.keys(NO_FIGURES) as FigureName[]), 'downtimeNetMs'];

/** What a migration is set up to do: complete, outlast its timeout, or fail. */
export type ContractScenario = 'completes' | 'times-out' | 'fails' | 'migrates-back';

/** A driver with a guest to launch and a plan that, migrated, does what the scenario says. */
export interface ContractWorld {
  readonly hypervisor: Hypervisor;
  readonly launch: GuestLaunch;
  readonly plan: MigrationSpec;
  /**
   * What the guest left behind, seen from outside the driver (processes, taps, folders, a
   * pool's VM not back on its source host, tasks not destroyed), in words; empty when nothing.
   */
  leftovers(): Promise<string[]>;
  /** Closes the driver and whatever the world started. */
  close(): Promise<void>;
}

export interface ContractSetup {
  readonly kind: HypervisorKind;
  /**
   * The figures a completed migration in this setup reports. Every other figure must be
   * null: a hypervisor that does not give one is not estimated. A vendor kind may not
   * claim one the registry (src/hypervisors/registry.ts) lists as unreported.
   */
  readonly reports: readonly FigureName[];
  /**
   * The guest's migbench agent: 'none' (a VM the pool or inventory owns), 'endpoint' (the
   * driver says where its channel is; a fake host has no guest behind it), 'heartbeat'
   * (a real guest: the channel is tapped until the agent beats).
   */
  readonly agent: 'none' | 'endpoint' | 'heartbeat';
  /** Which of the interface's optional methods the driver has. */
  readonly optional: { readonly pause: boolean; readonly interfaceCounters: boolean; readonly pingPong: boolean };
  /** A fresh world for a scenario. */
  world(scenario: ContractScenario): Promise<ContractWorld>;
  /** Scenarios this setup cannot bring about, each with why: their tests are skipped, saying so. */
  readonly cannot?: Partial<Record<ContractScenario, string>>;
  /** How long a real guest may take to boot before its agent beats. @default DEFAULT_BOOT_TIMEOUT_MS */
  readonly bootTimeoutMs?: number;
}

export function hypervisorContract(name: string, setup: ContractSetup): void {
  describe(`${name} keeps the Hypervisor contract`, () => {
    describeMigratedGuest(setup);
    describeTimedOutMigration(setup);
    describeFailedMigration(setup);
  });
}

/** One guest, launched, migrated and destroyed, its steps one test each. */
function describeMigratedGuest(setup: ContractSetup): void {
  describe('a guest launched, migrated and destroyed', () => {
    if (skipped(setup, 'completes', 'the guest is launched, migrated and destroyed')) return;
    let world: ContractWorld;
    const guest: { handle?: GuestHandle; destroyed: boolean } = { destroyed: false };
    const launched = (): GuestHandle => guest.handle ?? expect.fail('no guest: launching it failed above');
    beforeAll(async () => {
      world = await setup.world('completes');
    });
    afterAll(async () => {
      if (guest.handle && !guest.destroyed) await world.hypervisor.destroyGuest(guest.handle).catch(() => undefined);
      await world?.close();
    });

    test('states its kind, the optional methods it has, and both hosts', async () => {
      expectIdentity(world.hypervisor, setup);
      expectHosts(await world.hypervisor.describe());
    });

    test('launches (or finds) the guest on the source, where it runs and can be reached', async () => {
      // Kept at once, so whatever fails below, the guest is destroyed afterwards.
      guest.handle = await world.hypervisor.startGuest(world.launch);
      await expectLaunched(world, guest.handle, setup);
    });

    test('migrates it: completed, the figures it reports and only those, progress samples in order', async () => {
      await expectMigrated(world, world.hypervisor, launched(), setup);
    });

    if (setup.optional.pingPong && !skipped(setup, 'migrates-back', 'turned around, it waits paused and migrates back')) {
      test('turned around, it waits paused and migrates back: the reversed driver has it on its source', async () => {
        const turned = await world.hypervisor.turnAround!(launched());
        guest.handle = turned.guest;
        expect(turned.guest).toMatchObject({ vmId: world.launch.vmId, location: 'source' });
        await expectRunning(turned.hypervisor, turned.guest);
        await turned.hypervisor.setPaused!(turned.guest, true);
        expect((await turned.hypervisor.inspect(turned.guest)).running, 'paused').toBe(false);
        await turned.hypervisor.setPaused!(turned.guest, false);
        await expectMigrated(world, turned.hypervisor, turned.guest, setup);
      });
    }

    test('destroying the guest leaves nothing behind', async () => {
      const g = launched();
      // The world must see what a guest leaves, or an empty list below would prove nothing.
      expect(await world.leftovers(), 'before the guest is destroyed').not.toEqual([]);
      await world.hypervisor.destroyGuest(g);
      guest.destroyed = true;
      expect(await world.leftovers()).toEqual([]);
    });
  });
}

async function expectLaunched(world: ContractWorld, guest: GuestHandle, setup: ContractSetup): Promise<void> {
  expect(guest).toMatchObject({ vmId: world.launch.vmId, launch: world.launch, location: 'source' });
  expect(
    guest.workarounds.every((w) => typeof w === 'string' && w.length > 0),
    `workarounds: ${JSON.stringify(guest.workarounds)}`,
  ).toBe(true);
  await expectRunning(world.hypervisor, guest);
  await expectReachable(world.hypervisor, guest, setup);
  expect(typeof (await world.hypervisor.diagnostics(guest, 'source'))).toBe('string');
  if (world.hypervisor.guestConsole && setup.agent === 'heartbeat') {
    // The console the engine reads to say why a guest was lost: the agent said there it was ready.
    expect(await world.hypervisor.guestConsole(guest, 'source')).toContain('migbench-agent: ready');
  }
}

async function expectMigrated(world: ContractWorld, hypervisor: Hypervisor, guest: GuestHandle, setup: ContractSetup): Promise<void> {
  await hypervisor.prepareDestination(guest, world.plan);
  const beganAtMs = epochMs();
  const outcome = await hypervisor.migrate(guest, world.plan);
  const returnedAtMs = epochMs();
  expect(outcome.error?.message ?? null).toBeNull();
  expect(outcome.status).toBe('completed');
  expect(guest.location).toBe('destination');
  expect(outcome.startedAtMs).toBeGreaterThanOrEqual(beganAtMs);
  expect(outcome.endedAtMs).toBeGreaterThanOrEqual(outcome.startedAtMs);
  expect(outcome.endedAtMs).toBeLessThanOrEqual(returnedAtMs);
  expect(figureKinds(outcome.figures), 'the figures the setup says the driver reports, and null for the rest').toEqual(expectedFigureKinds(setup.reports));
  expectTimeline(outcome);
  expectOutcomeShape(outcome, world.plan);
  await expectRunning(hypervisor, guest);
  // Where a lost guest's console is read from: the destination's must be there to read.
  if (hypervisor.guestConsole) expect(typeof (await hypervisor.guestConsole(guest, 'destination'))).toBe('string');
}

function describeTimedOutMigration(setup: ContractSetup): void {
  describe('a migration that cannot finish by its timeout', () => {
    if (skipped(setup, 'times-out', 'it is cancelled and the guest still runs on the source')) return;
    const guest = worldGuest(setup, 'times-out');

    test('is cancelled no earlier than its timeout, as a named MB_TIMEOUT error; the guest still runs on the source; nothing is left', async () => {
      const { world, guest: g, outcome } = await guest.migrate();
      expect(outcome.status).toBe('cancelled');
      expectNamedError(outcome.error, 'MB_TIMEOUT');
      expect(outcome.endedAtMs - outcome.startedAtMs).toBeGreaterThanOrEqual(world.plan.timeoutMs - 5);
      expect(g.location).toBe('source');
      // No switchover happened: there is no downtime to report.
      expect({ downtimeMs: outcome.figures.downtimeMs, downtimeNetMs: outcome.figures.downtimeNetMs ?? null, stopToResumeMs: outcome.figures.stopToResumeMs }).toEqual({
        downtimeMs: null,
        downtimeNetMs: null,
        stopToResumeMs: null,
      });
      expectTimeline(outcome);
      await expectRunning(world.hypervisor, g);
      await guest.destroy();
      expect(await world.leftovers()).toEqual([]);
    });
  });
}

function describeFailedMigration(setup: ContractSetup): void {
  describe('a migration that fails', () => {
    if (skipped(setup, 'fails', 'it resolves with a named error')) return;
    const guest = worldGuest(setup, 'fails');

    test('resolves as failed with a named error (a MigbenchError code and the host), not a stack trace; nothing is left', async () => {
      const { world, guest: g, outcome } = await guest.migrate();
      expect(outcome.status).toBe('failed');
      expectNamedError(outcome.error);
      expect(g.location).toBe('source');
      await guest.destroy();
      expect(await world.leftovers()).toEqual([]);
    });
  });
}

/** A world for a scenario, its guest launched and migrated once, destroyed afterwards whatever happened. */
function worldGuest(setup: ContractSetup, scenario: ContractScenario) {
  let world: ContractWorld | undefined;
  let guest: GuestHandle | undefined;
  beforeAll(async () => {
    world = await setup.world(scenario);
  });
  afterAll(async () => {
    if (guest) await world!.hypervisor.destroyGuest(guest).catch(() => undefined);
    await world?.close();
  });
  return {
    async migrate(): Promise<{ world: ContractWorld; guest: GuestHandle; outcome: MigrationOutcome }> {
      const w = world!;
      guest = await w.hypervisor.startGuest(w.launch);
      await w.hypervisor.prepareDestination(guest, w.plan);
      // The interface: a failed or cancelled migration resolves, it does not throw.
      const outcome = await w.hypervisor
        .migrate(guest, w.plan)
        .catch((error: unknown) => expect.fail(`migrate threw instead of resolving: ${error instanceof Error ? error.message : String(error)}`));
      return { world: w, guest, outcome };
    },
    async destroy(): Promise<void> {
      const g = guest!;
      guest = undefined;
      await world!.hypervisor.destroyGuest(g);
    },
  };
}

/** Declares the scenario's test as skipped with the setup's reason; true if it was. */
function skipped(setup: ContractSetup, scenario: ContractScenario, what: string): boolean {
  const reason = setup.cannot?.[scenario];
  if (reason === undefined) return false;
  test(`${what}: not done here`, ({ skip }) => skip(reason));
  return true;
}

function expectIdentity(hv: Hypervisor, setup: ContractSetup): void {
  expect(hv.kind).toBe(setup.kind);
  expect({
    pause: typeof hv.pause === 'function',
    interfaceCounters: typeof hv.interfaceCounters === 'function',
    pingPong: typeof hv.turnAround === 'function' && typeof hv.setPaused === 'function',
  }).toEqual(setup.optional);
  const vendor = setup.kind in VENDOR_HYPERVISORS ? VENDOR_HYPERVISORS[setup.kind as VendorKind] : undefined;
  const unreported: readonly string[] = vendor?.unreported ?? [];
  expect(
    setup.reports.filter((f) => unreported.includes(f)),
    'figures the registry says this kind never reports',
  ).toEqual([]);
}

function expectHosts(hosts: Awaited<ReturnType<Hypervisor['describe']>>): void {
  const text = expect.stringMatching(/\S/);
  for (const side of ['source', 'destination'] as const) {
    expect(hosts[side], side).toMatchObject({ host: text, kernel: text, cpuModel: expect.any(String), hypervisorVersion: text, accel: text });
    expect(Number.isInteger(hosts[side].cpuCount) && hosts[side].cpuCount >= 0, `${side} cpuCount ${hosts[side].cpuCount}`).toBe(true);
  }
}

async function expectRunning(hv: Hypervisor, guest: GuestHandle): Promise<void> {
  const seen = await hv.inspect(guest);
  expect(seen, `the guest on the ${guest.location}`).toMatchObject({ running: true, panicked: false, status: expect.stringMatching(/\S/) });
  expect(Array.isArray(seen.events)).toBe(true);
}

/** The agent's channel where the setup says there is one, and its heartbeat where a real guest is behind it. */
async function expectReachable(hv: Hypervisor, guest: GuestHandle, setup: ContractSetup): Promise<void> {
  const endpoint = hv.agentEndpoint(guest, 'source');
  if (setup.agent === 'none') {
    expect(endpoint).toBeNull();
    return;
  }
  expect(endpoint).toMatchObject({ side: 'source', socketPath: expect.stringMatching(/\S/), toolPath: expect.stringMatching(/\S/) });
  if (setup.agent !== 'heartbeat') return;
  const tap = new AgentTap({ ...endpoint!, side: 'source' });
  try {
    const beating = await tap.waitFor(() => tap.heartbeats.length > 0, setup.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS);
    expect(beating, `no heartbeat on ${endpoint!.socketPath}: ${await tap.diagnostics()}`).toBe(true);
  } finally {
    await tap.stop();
  }
}

type FigureKind = 'null' | 'reported' | `not a figure: ${string}`;

function figureKinds(figures: HypervisorFigures): Record<FigureName, FigureKind> {
  const kind = (value: number | null | undefined): FigureKind =>
    value === null || value === undefined ? 'null' : typeof value === 'number' && Number.isFinite(value) && value >= 0 ? 'reported' : `not a figure: ${String(value)}`;
  return Object.fromEntries(FIGURES.map((f) => [f, kind(figures[f])])) as Record<FigureName, FigureKind>;
}

function expectedFigureKinds(reports: readonly FigureName[]): Record<FigureName, FigureKind> {
  return Object.fromEntries(FIGURES.map((f) => [f, reports.includes(f) ? 'reported' : 'null'])) as Record<FigureName, FigureKind>;
}

const SAMPLE_NUMBERS = [
  'transferredBytes',
  'remainingBytes',
  'totalBytes',
  'dirtyRatePagesPerSec',
  'bandwidthMbps',
  'iteration',
  'expectedDowntimeMs',
] as const satisfies ReadonlyArray<keyof ProgressSample>;

/** At least one sample, each within the migration and after the one before, with a status and numbers or nulls. */
function expectTimeline(outcome: MigrationOutcome): void {
  const { timeline } = outcome;
  expect(timeline.length, 'progress samples').toBeGreaterThan(0);
  const spanMs = outcome.endedAtMs - outcome.startedAtMs;
  const times = timeline.map((s) => s.tMs);
  expect(
    times.filter((t) => !Number.isFinite(t) || t < 0 || t > spanMs + 0.001),
    `sample times outside the migration's ${spanMs} ms`,
  ).toEqual([]);
  expect(times, 'sample times in order').toEqual([...times].sort((a, b) => a - b));
  expect(
    timeline.filter((s) => typeof s.status !== 'string' || !s.status),
    'samples without a status',
  ).toEqual([]);
  const bad = timeline.flatMap((s) => SAMPLE_NUMBERS.filter((k) => s[k] !== null && !(Number.isFinite(s[k]) && s[k]! >= 0)).map((k) => `${s.tMs} ms ${k}=${String(s[k])}`));
  expect(bad, 'sample values that are neither a number nor null').toEqual([]);
}

function expectOutcomeShape(outcome: MigrationOutcome, plan: MigrationSpec): void {
  if (plan.kind === 'memory') expect(outcome.storage).toBeNull();
  expect(
    outcome.events.filter((e) => (e.side !== 'source' && e.side !== 'destination') || !e.name || !Number.isFinite(e.tMs)),
    'events with no side, name or time',
  ).toEqual([]);
  expect(
    outcome.capabilities.every((c) => typeof c === 'string' && c.length > 0),
    `capabilities: ${JSON.stringify(outcome.capabilities)}`,
  ).toBe(true);
  expect(typeof outcome.parameters).toBe('object');
}

/** A MigbenchError with a code and the host it concerns, whose message is words, not a stack trace. */
function expectNamedError(error: MigbenchError | null, code?: string): void {
  expect(error).toBeInstanceOf(MigbenchError);
  const e = error!;
  expect(e.code).toMatch(code ? new RegExp(`^${code}$`) : /^MB_[A-Z_]+$/);
  expect(e.context.host, `context of "${e.message}"`).toEqual(expect.stringMatching(/\S/));
  expect(e.message).toMatch(/\S/);
  expect(e.message, 'a stack trace in the message').not.toMatch(/\n\s+at \S/);
  expect(e.message, 'a JavaScript error in the message').not.toMatch(/^(?:\w*Error|undefined|null|\[object \w+\])\b/);
  expect(e.message.length).toBeLessThan(4000);
}
