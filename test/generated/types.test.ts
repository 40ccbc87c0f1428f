import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { GENERATED, generateTypes } from '../../scripts/generate-types.js';
import { projectPath } from '../../src/model/paths.js';

describe('generated types', () => {
  test.each(GENERATED)('$output is up to date with $schema (npm run generate)', async ({ schema, output }) => {
    expect(await readFile(projectPath(output), 'utf8')).toBe(await generateTypes(schema));
  });
});
