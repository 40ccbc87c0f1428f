// What a suite file under suites/ uses: its scenarios from the config, and measure(),
// which runs one migration on the scenario's target and attaches the record to the test.
import { afterAll, inject, type TestContext } from 'vitest';
import { loadConfig, resolveScenarios } from '../config.js';
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
}

export interface SuiteBench {
  readonly runs: readonly SuiteRun[];
  measure(run: SuiteRun, context: TestContext): Promise<MigrationRecord>;
}

export async function useMigbench(suite: string): Promise<SuiteBench> {
  const context = inject('migbench');
  if (!context?.configPath) throw new Error('migbench suites run through `migbench run` (it provides the config); run `npm start` or `npx migbench run`');
  const { config } = await loadConfig(context.configPath);
  const runs = resolveScenarios(config, suite).flatMap((scenario) =>
    Array.from({ length: context.repeat ?? scenario.repeat }, (_, i) => ({
      scenario,
      repetition: i + 1,
      title: `${scenario.name} #${i + 1}`,
      timeoutMs: scenario.bootTimeoutMs + scenario.migration.timeoutMs + 2 * scenario.probe.settleTimeoutMs + scenario.probe.observeAfterMs + 180_000,
    })),
  );
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
      const record = await runMigration(await target, { scenario: run.scenario, suite, test: testContext.task.name, repetition: run.repetition });
      testContext.task.meta.migbench = record;
      return record;
    },
  };
}
