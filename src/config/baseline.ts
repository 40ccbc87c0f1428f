// What a head's stored baseline must be: for each scenario the head measured, the base's
// fingerprint of it (the base config says what the scenario was before the change) and the
// environment the head ran in. Scenarios the base does not define are new: nothing to find.
import type { MigbenchConfig } from '../generated/config.js';
import type { ResultsFile } from '../generated/results.js';
import { environmentFingerprint } from '../model/fingerprint.js';
import { groupByScenario, type BaselineWant } from '../model/store.js';
import { matrixNames, resolveMatrix, resolveScenarios, suiteNames } from './scenarios.js';

/** Every scenario of a config by `suite\0name`, with its fingerprint. */
function fingerprints(config: MigbenchConfig): Map<string, string> {
  const all = [...suiteNames(config).flatMap((s) => resolveScenarios(config, s)), ...matrixNames(config).flatMap((m) => resolveMatrix(config, m).map((p) => p.resolved))];
  return new Map(all.map((s) => [`${s.suite}\u0000${s.name}`, s.fingerprint!]));
}

export interface Wants {
  readonly wants: BaselineWant[];
  /** Head scenarios the base does not define (or, without a base config, whose records carry no fingerprint). */
  readonly new: Array<{ readonly suite: string; readonly scenario: string }>;
}

/**
 * The stored baseline each head scenario needs. With a base config, its fingerprints (a pull
 * request is judged against the base's scenario); without, the head records' own (a nightly
 * against earlier nights of the same config).
 */
export function baselineWants(head: ResultsFile, base: MigbenchConfig | null): Wants {
  const known = base ? fingerprints(base) : null;
  const groups = groupByScenario(head.records);
  const out: Wants = { wants: [], new: [] };
  for (const [key, records] of groups) {
    const { suite, scenario } = records[0]!;
    const fingerprint = known ? known.get(key) : records[0]!.scenarioFingerprint;
    if (fingerprint) out.wants.push({ suite, scenario, fingerprint, environment: environmentFingerprint(records) });
    else out.new.push({ suite, scenario });
  }
  return out;
}
