// Shared by the integration tests: a config with one lab scenario, and the lab target.
import { parseConfig } from '../../src/config/load.js';
import { resolveScenarios } from '../../src/config/scenarios.js';
import type { MigbenchConfig } from '../../src/generated/config.js';
import type { Scenario } from '../../src/model/scenario.js';

export function labConfig(scenarios: string): MigbenchConfig {
  return parseConfig(`suites:\n  it:\n    scenarios:\n${scenarios}`, 'integration-test.yaml');
}

export function scenario(yaml: string): { config: MigbenchConfig; scenario: Scenario } {
  const config = labConfig(yaml);
  return { config, scenario: resolveScenarios(config, 'it')[0]! };
}
