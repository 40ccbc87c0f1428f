// dist/index.js is what GitHub runs: it must be built from the sources in this commit.
import { spawnSync } from 'node:child_process';
import { expect, test } from 'vitest';
import { projectPath } from '../../src/model/paths.js';

test('dist/index.js is built from the current sources (npm run build:action)', () => {
  const check = spawnSync(process.execPath, [projectPath('scripts/build-action.mjs'), '--check'], { cwd: projectPath(), encoding: 'utf8' });
  expect(check.status, check.stderr).toBe(0);
});
