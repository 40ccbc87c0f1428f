// The compare section: which change in a metric `migbench compare` warns about or fails on.
import type { MigbenchConfig } from '../generated/config.js';

/** Change thresholds for `migbench compare`: scenario, then metric, then default, else migbench's own. */
export function compareThresholds(config: MigbenchConfig): (scenario: string, metric: string) => { warnPct: number; failPct: number } | undefined {
  const c = config.compare;
  return (scenario, metric) => {
    const pick = (t: Record<string, { warnPct: number; failPct: number } | undefined> | undefined) => t?.[metric];
    return pick(c?.scenarios?.[scenario] as never) ?? pick(c?.metrics as never) ?? c?.default;
  };
}
