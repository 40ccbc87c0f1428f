import { describe, expect, test } from 'vitest';
import { shardScenarios } from '../../src/config/shard.js';

describe(shardScenarios, () => {
  const names = ['256-idle-memory', '1024-dirty-storage', '512-idle-storage', '256-dirty-memory', '512-dirty-memory', '1024-idle-memory', '256-idle-memory'];

  test('shards are disjoint, cover every scenario once, and ignore config order', () => {
    const shards = [1, 2, 3].map((index) => shardScenarios(names, { index, total: 3 }));
    expect(shards.flat().sort()).toEqual([...new Set(names)].sort());
    expect(new Set(shards.flat()).size).toBe(shards.flat().length);
    expect(shards.map((s) => s.length)).toEqual([2, 2, 2]);
    expect(shardScenarios([...names].reverse(), { index: 2, total: 3 })).toEqual(shards[1]);
    expect(shards[0]).toEqual(['1024-dirty-storage', '256-idle-memory']);
  });

  test('more shards than scenarios leaves some empty; no shard is everything', () => {
    expect(shardScenarios(['a'], { index: 2, total: 2 })).toEqual([]);
    expect(shardScenarios(['b', 'a'], null)).toEqual(['a', 'b']);
  });
});
