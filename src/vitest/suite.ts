// What a suite file under suites/ uses: its scenarios from the config, and measure(),
// which runs one migration on the scenario's target and attaches the record to the test.
import { afterAll, inject, type TestContext } from 'vitest';
import { loadConfig, resolveMatrix, resolveScenarios } from '../config.js';
import type { MigbenchConfig } from '../generated/config.js';
import { runMigration } from '../engine.js';
import { runCleanups } from '../errors.js';
import type { MigrationRecord } from '../generated/results.js';
import type { Scenario } from '../scenario.js';
import { connectTarget, type ConnectedTarget } from '../target.js';

export interface MigbenchRunContext {
  /** Config file the suites read. */
  readonly configPath: string;
  /** Overrides every scenario's repeat. */
  readonly repeat?: number;
  /** Matrices to run (suites/matrix.test.ts). */
  readonly matrices?: readonly string[];
}

declare module 'vitest' {
  interface ProvidedContext {
    migbench: MigbenchRunContext;
  }
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
  return scenarios.flatMap(({ scenario, axes }) =>
    Array.from({ length: context.repeat ?? scenario.repeat }, (_, i) => ({
      scenario,
      repetition: i + 1,
      title: `${scenario.name} #${i + 1}`,
      timeoutMs: scenario.bootTimeoutMs + scenario.migration.timeoutMs + 2 * scenario.probe.settleTimeoutMs + scenario.probe.observeAfterMs + 180_000,
      ...(axes && { axes }),
    })),
  );
}

export async function useMigbench(suite: string): Promise<SuiteBench> {
  const context = runContext();
  const { config } = await loadConfig(context.configPath);
  return bench(config, suite, toRuns(context, resolveScenarios(config, suite).map((scenario) => ({ scenario }))));
}

/** A matrix's scenarios as runs; the matrix's name is their suite. */
export async function useMigbenchMatrix(name: string): Promise<SuiteBench> {
  const context = runContext();
  const { config } = await loadConfig(context.configPath);
  const points = resolveMatrix(config, name).map((p) => ({ scenario: p.resolved, axes: Object.fromEntries(Object.entries(p.axes).map(([k, v]) => [k, v.label])) }));
  return bench(config, name, toRuns(context, points));
}

function bench(config: MigbenchConfig, suite: string, runs: SuiteRun[]): SuiteBench {
  const targets = new Map<string, Promise<ConnectedTarget>>();
  afterAll(async () => {
    const connected = await Promise.allSettled(targets.values());
    await runCleanups(connected.flatMap((c) => (c.status === 'fulfilled' ? [[`close target ${c.value.name}`, () => c.value.close()] as const] : [])));
  });
  return {
    runs,
    async measure(run, testContext) {
      let target = targets.get(run.scenario.target);
      if (!target) {
        target = connectTarget(config, run.scenario.target);
        target.catch(() => targets.delete(run.scenario.target));
        targets.set(run.scenario.target, target);
      }
      const record = await runMigration(await target, { scenario: run.scenario, suite, test: testContext.task.name, repetition: run.repetition, ...(run.axes && { axes: run.axes }) });
      testContext.task.meta.migbench = record;
      return record;
    },
  };
}
