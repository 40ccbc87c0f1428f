import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultSuitesConfig, findConfig } from '../../src/config/find.js';
import { UsageError } from '../../src/model/errors.js';
import { projectPath } from '../../src/model/paths.js';

function scratch(files: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'migbench-find-'));
  for (const file of files) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), 'schemaVersion: 1\n');
  }
  return dir;
}

describe(findConfig, () => {
  test('a named config is taken as named, found or not', () => {
    expect(findConfig('elsewhere/c.yaml', scratch([]))).toBe('elsewhere/c.yaml');
  });

  test("the user's migbench.yaml first, then .yml, then migbench's own checkout layout", () => {
    expect(findConfig(undefined, scratch(['migbench.yaml', 'migbench.yml', 'suites/migbench.config.yaml']))).toBe('migbench.yaml');
    expect(findConfig(undefined, scratch(['migbench.yml', 'suites/migbench.config.yaml']))).toBe('migbench.yml');
    expect(findConfig(undefined, scratch(['suites/migbench.config.yaml']))).toBe(join('suites', 'migbench.config.yaml'));
  });

  test('none: a UsageError that says where it looked and how to get one', () => {
    const dir = scratch(['migbench.json']);
    expect(() => findConfig(undefined, dir)).toThrow(UsageError);
    expect(() => findConfig(undefined, dir)).toThrow(/looked for migbench\.yaml, migbench\.yml, suites\/migbench\.config\.yaml\): `migbench init`/);
  });

  test("`start`'s default suites are the ones shipped beside the code, whatever the current directory", () => {
    expect(defaultSuitesConfig()).toBe(projectPath('suites', 'migbench.config.yaml'));
  });
});
