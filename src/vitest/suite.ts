// What a suite file under suites/ uses: its scenarios from the config, and measure(),
// which runs one migration on the scenario's target and hands the record to the runner.
import { afterAll, inject, recordArtifact, type TestContext } from 'vitest';
import { loadConfig } from '../config/load.js';
import { resolveMatrix, resolveScenarios } from '../config/scenarios.js';
import type { MigbenchConfig } from '../generated/config.js';
import { runMigration } from '../engine/migration.js';
import { errorMessage, runCleanups } from '../model/errors.js';
import { GuestChain } from '../engine/chain.js';
import { PROGRESS_ARTIFACT, RECORD_ARTIFACT, throttleProgress } from './artifact.js';
import { exitIfRunnerGone, runnerGoneSignal, stopRequested } from './stop.js';
import type { MigrationRecord } from '../generated/results.js';
import type { LiveProgress } from '../model/progress.js';
import type { Scenario } from '../model/scenario.js';
import { connectTarget, type ConnectedTarget } from '../engine/target.js';

export interface MigbenchRunContext {
  /** Config file the suites read. */
  readonly configPath: string;
  /** Overrides every scenario's repeat. */
  readonly repeat?: number;
  /** Matrices to run (src/vitest/matrix.suite.ts). */
  readonly matrices?: readonly string[];
  /** A/B run (src/vitest/ab.suite.ts): the two configs and the suites to take from both. */
  readonly ab?: { readonly base: string; readonly head: string; readonly suites: readonly string[]; readonly scenarios: readonly string[] };
  /** Appears when the run is asked to stop: scenarios that have not started are skipped. */
  readonly stopFile?: string;
  /** Send where each migration is as it runs (a terminal's progress bar wants it). */
  readonly liveProgress?: boolean;
}

declare module 'vitest' {
  interface ProvidedContext {
    migbench: MigbenchRunContext;
  }
}

/**
 * Hands a record to the runner and waits until it is in results.json. Not through the
 * test's meta: vitest sends task updates on a 100 ms throttle that can stall until the
 * next test ends (the timer may fire with Date.now() exactly 100 ms on, and is then never
 * re-armed), so a record rode in late with the next one, and a runner killed in between
 * lost a finished measurement. An artifact is an immediate RPC the reporter answers after
 * writing the file.
 */
export async function handOver(task: TestContext['task'], record: MigrationRecord): Promise<void> {
  await recordArtifact(task, { type: RECORD_ARTIFACT, record });
}

/**
 * Where the migration is, for the runner's progress bar. Sent without waiting: a bar that
 * lags (or a runner that is gone) must never hold up or fail a measurement.
 */
function progressSender(task: TestContext['task']): (live: LiveProgress) => void {
  return throttleProgress((progress) => void recordArtifact(task, { type: PROGRESS_ARTIFACT, progress }).catch(() => undefined), 500);
}

export interface SuiteRun {
  readonly scenario: Scenario;
  readonly repetition: number;
  /** Test name: "<scenario> #<repetition>". */
  readonly title: string;
  /** Generous bound for the whole run; migbench's own timeouts fire first. */
  readonly timeoutMs: number;
  /** Matrix axis labels, for a scenario from a matrix. */
  readonly axes?: Readonly<Record<string, string>>;
  /** A/B runs: which configuration. */
  readonly variant?: 'base' | 'head';
  /** The scenario's last repetition: its guest is destroyed after it. */
  readonly last: boolean;
}

export interface SuiteBench {
  readonly runs: readonly SuiteRun[];
  measure(run: SuiteRun, context: TestContext): Promise<MigrationRecord>;
}

function runContext(): MigbenchRunContext {
  const context = inject('migbench');
  if (!context?.configPath) throw new Error('migbench suites run through `migbench run` (it provides the config); run `npm start` or `npx migbench run`');
  return context;
}

/** The matrices `migbench run --matrix` selected. */
export function selectedMatrices(): readonly string[] {
  return runContext().matrices ?? [];
}

function toRuns(context: MigbenchRunContext, scenarios: ReadonlyArray<{ scenario: Scenario; axes?: Record<string, string> }>): SuiteRun[] {
  return scenarios.flatMap(({ scenario, axes }) => {
    const length = context.repeat ?? scenario.repeat;
    return Array.from({ length }, (_, i) => ({
      scenario,
      repetition: i + 1,
      last: i + 1 === length,
      title: `${scenario.name} #${i + 1}`,
      timeoutMs: scenario.bootTimeoutMs + scenario.migration.timeoutMs + 2 * scenario.probe.settleTimeoutMs + scenario.probe.observeAfterMs + 180_000,
      ...(axes && { axes }),
    }));
  });
}

export async function useMigbench(suite: string): Promise<SuiteBench> {
  const context = runContext();
  const { config } = await loadConfig(context.configPath);
  return bench(
    config,
    suite,
    toRuns(
      context,
      resolveScenarios(config, suite).map((scenario) => ({ scenario })),
    ),
  );
}

/** A matrix's scenarios as runs; the matrix's name is their suite. */
export async function useMigbenchMatrix(name: string): Promise<SuiteBench> {
  const context = runContext();
  const { config } = await loadConfig(context.configPath);
  const points = resolveMatrix(config, name).map((p) => ({ scenario: p.resolved, axes: Object.fromEntries(Object.entries(p.axes).map(([k, v]) => [k, v.label])) }));
  return bench(config, name, toRuns(context, points));
}

/**
 * A/B: every scenario both configs have, base and head interleaved run by run (base #1,
 * head #1, base #2, ...), so drift of the hosts over the run falls on both sides alike.
 */
export async function useMigbenchAb(): Promise<SuiteBench & { readonly suites: readonly string[] }> {
  const context = runContext();
  const ab = context.ab;
  if (!ab) throw new Error('the A/B suite runs through `migbench run --ab BASE_CONFIG HEAD_CONFIG`');
  const [base, head] = [(await loadConfig(ab.base)).config, (await loadConfig(ab.head)).config];
  const runs: SuiteRun[] = [];
  for (const suite of ab.suites) {
    const heads = new Map(resolveScenarios(head, suite).map((s) => [s.name, s]));
    for (const b of resolveScenarios(base, suite)) {
      const h = heads.get(b.name);
      if (!h || (ab.scenarios.length && !ab.scenarios.includes(b.name))) continue;
      const [baseRuns, headRuns] = [toRuns(context, [{ scenario: b }]), toRuns(context, [{ scenario: h }])];
      for (let i = 0; i < Math.max(baseRuns.length, headRuns.length); i++) {
        if (baseRuns[i]) runs.push({ ...baseRuns[i]!, variant: 'base', title: `${baseRuns[i]!.title} base` });
        if (headRuns[i]) runs.push({ ...headRuns[i]!, variant: 'head', title: `${headRuns[i]!.title} head` });
      }
    }
  }
  const benches = { base: bench(base, '', []), head: bench(head, '', []) };
  return {
    suites: ab.suites,
    runs,
    measure: (run, testContext) => benches[run.variant ?? 'head'].measure(run, testContext),
  };
}

function bench(config: MigbenchConfig, suite: string, runs: SuiteRun[]): SuiteBench {
  const targets = new Map<string, Promise<ConnectedTarget>>();
  // One chain per scenario: its repetitions migrate one guest back and forth.
  const chains = new Map<string, GuestChain>();
  const chainOf = ({ scenario, variant }: SuiteRun) => {
    const key = `${scenario.suite}\0${scenario.name}\0${scenario.fingerprint ?? ''}`;
    let chain = chains.get(key);
    if (!chain) chains.set(key, (chain = new GuestChain(`${variant ? `${variant} ` : ''}${scenario.name}`, scenario)));
    return chain;
  };
  afterAll(async () => {
    // Guests kept for runs that never came (a stop, a skipped test) go before their targets.
    await runCleanups([...chains.values()].map((chain) => [`end the chain of ${chain.label}`, () => chain.end()] as const));
    const connected = await Promise.allSettled(targets.values());
    await runCleanups(connected.flatMap((c) => (c.status === 'fulfilled' ? [[`close target ${c.value.name}`, () => c.value.close()] as const] : [])));
  });
  return {
    runs,
    async measure(run, testContext) {
      const stop = stopRequested(runContext().stopFile);
      if (stop) testContext.skip(`not run: ${stop}`);
      let target = targets.get(run.scenario.target);
      if (!target) {
        target = connectTarget(config, run.scenario.target);
        target.catch(() => targets.delete(run.scenario.target));
        targets.set(run.scenario.target, target);
      }
      const chain = chainOf(run);
      const record = await runMigration(await target, {
        scenario: run.scenario,
        chain,
        suite: suite || run.scenario.suite,
        test: testContext.task.name,
        repetition: run.repetition,
        ...(run.axes && { axes: run.axes }),
        ...(run.variant && { variant: run.variant }),
        ...(runContext().liveProgress && { onProgress: progressSender(testContext.task) }),
      });
      if (run.last) await chain.end().catch((error: unknown) => console.error(`${chain.label}: ${errorMessage(error)}`));
      // With the runner gone there is nobody to hand the record to (nor an answer to wait for).
      exitIfRunnerGone();
      await Promise.race([handOver(testContext.task, record), runnerGoneSignal]);
      exitIfRunnerGone();
      return record;
    },
  };
}
