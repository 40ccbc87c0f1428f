// Splitting scenarios across runners (a job matrix): deterministic, disjoint, complete.

/**
 * The scenarios shard i of n runs: every scenario name sorted, then every n-th from the
 * i-th, so shards are disjoint, cover everything and do not depend on config order.
 */
export function shardScenarios(names: readonly string[], shard: { index: number; total: number } | null): string[] {
  const sorted = [...new Set(names)].sort();
  return shard ? sorted.filter((_, i) => i % shard.total === shard.index - 1) : sorted;
}
