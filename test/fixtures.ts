// Builders for test inputs: a scenario with defaults, overridable piece by piece.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { MigrationRecord, ResultsFile } from '../src/generated/results.js';
import { parseConfig } from '../src/config/load.js';
import { resolveScenarios } from '../src/config/scenarios.js';
import type { Scenario } from '../src/model/scenario.js';

export function scenarioFor(overrides: Partial<Scenario>): Scenario {
  const config = parseConfig('suites:\n  t:\n    scenarios:\n      - { name: t, guest: { memoryMiB: 256 }, migration: { kind: memory } }\n', 'test.yaml');
  return { ...resolveScenarios(config, 't')[0]!, ...overrides };
}

/** The lab's recorded results, each scenario given a fingerprint (files of before migbench recorded one have none). */
export function labResults(overrides: { fingerprint?: (r: MigrationRecord) => string; kernel?: string } = {}): ResultsFile {
  const results = JSON.parse(readFileSync(new URL('../fixtures/results/lab-tcg.json', import.meta.url), 'utf8')) as ResultsFile;
  for (const r of results.records) {
    r.scenarioFingerprint = overrides.fingerprint?.(r) ?? fingerprintOf(r.scenario);
    if (overrides.kernel) for (const h of [r.environment.source, r.environment.destination]) h.kernel = overrides.kernel;
  }
  return results;
}

export const fingerprintOf = (scenario: string, version = 'a') => `scenario:${createHash('sha256').update(`${scenario}/${version}`).digest('hex').slice(0, 16)}`;
