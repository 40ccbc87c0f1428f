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

/** How the config's compare section judges: level, judged metrics, thresholds, inconclusive policy. */
export function compareOptions(config: MigbenchConfig | null | undefined): {
  alpha?: number;
  metrics?: NonNullable<NonNullable<MigbenchConfig['compare']>['judge']>;
  thresholds?: ReturnType<typeof compareThresholds>;
  inconclusive?: 'fail' | 'pass';
} {
  const c = config?.compare;
  return {
    ...(c?.alpha !== undefined && { alpha: c.alpha }),
    ...(c?.judge && { metrics: c.judge }),
    ...(config && { thresholds: compareThresholds(config) }),
    ...(c?.inconclusive && { inconclusive: c.inconclusive }),
  };
}
