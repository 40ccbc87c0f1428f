import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { resolveScenarios } from '../../src/config/scenarios.js';
import { minimal, problems } from './problems.js';

describe(parseConfig, () => {
  test('unknown keys, wrong types and out-of-range values: JSON path, line, expected and found', () => {
    const text = `suites:
  memory-migration:
    scenarios:
      - name: idle-256
        guest: { memoryMiB: "lots", cpus: 2 }
        migration: { kind: memory, downtimeLimitMs: 0 }
        thresholds: { observedDowntimeMs: 500, latencyMs: 3 }
`;
    expect(problems(text)).toEqual([
      'suites.memory-migration.scenarios[0].guest.cpus (line 5): unknown key "cpus": did you mean "vcpus"? (expected one of: memoryMiB, vcpus, diskMiB, diskDataMiB)',
      'suites.memory-migration.scenarios[0].guest.memoryMiB (line 5): expected integer, found "lots"',
      'suites.memory-migration.scenarios[0].migration.downtimeLimitMs (line 6): expected an integer >= 1, found 0',
      'suites.memory-migration.scenarios[0].thresholds.latencyMs (line 7): unknown metric "latencyMs" (expected one of: totalTimeMs, wallTimeMs, downtimeMs, observedDowntimeMs, guestPauseMs, setupTimeMs, transferredBytes, wireBytes, iterations, stopToResumeMs)',
    ]);
  });

  test('broken YAML is reported with its position', () => {
    expect(problems('suites:\n  s: [\n')[0]).toMatch(/^\(line \d+, column \d+\): /);
    expect(problems('suites: {}\nsuites: {}\n')[0]).toMatch(/unique/i);
  });

  test('JSON configs work the same way', () => {
    expect(() => parseConfig('{"suites": {"s": {"scenarios": [{"name": "a", "guest": {"memoryMiB": 256}, "migration": {"kind": "memory"}}]}}}', 'c.json')).not.toThrow();
  });
});

describe(loadConfig, () => {
  test('a missing file names the file', async () => {
    await expect(loadConfig('/nonexistent/migbench.yaml')).rejects.toMatchObject({ code: 'MB_CONFIG_READ', message: expect.stringContaining('/nonexistent/migbench.yaml') });
  });

  test('hashes the file so results say exactly which config produced them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-config-'));
    await writeFile(join(dir, 'c.yaml'), minimal);
    const loaded = await loadConfig(join(dir, 'c.yaml'));
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('the shipped default config is valid', async () => {
    const { config } = await loadConfig('suites/migbench.config.yaml');
    expect(resolveScenarios(config, 'memory-migration').map((s) => s.name)).toEqual(['idle-256', 'dirty-64m-32mbps']);
  });
});

describe('loadConfig: files that cannot be read', () => {
  test('a missing file and a directory: one line naming the file, what was expected and found', async () => {
    await expect(loadConfig('/nonexistent/migbench.yaml')).rejects.toMatchObject({
      code: 'MB_CONFIG_READ',
      userError: true,
      message: '/nonexistent/migbench.yaml: cannot read config: expected a YAML or JSON file, found no such file',
    });
    const dir = await mkdtemp(join(tmpdir(), 'migbench-dir-'));
    await expect(loadConfig(dir)).rejects.toMatchObject({ code: 'MB_CONFIG_READ', message: `${dir}: cannot read config: expected a YAML or JSON file, found a directory` });
  });
});
