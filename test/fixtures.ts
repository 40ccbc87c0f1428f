// Builders for test inputs: a scenario with defaults, overridable piece by piece.
import { parseConfig } from '../src/config/load.js';
import { resolveScenarios } from '../src/config/scenarios.js';
import type { Scenario } from '../src/model/scenario.js';

export function scenarioFor(overrides: Partial<Scenario>): Scenario {
  const config = parseConfig('suites:\n  t:\n    scenarios:\n      - { name: t, guest: { memoryMiB: 256 }, migration: { kind: memory } }\n', 'test.yaml');
  return { ...resolveScenarios(config, 't')[0]!, ...overrides };
}
