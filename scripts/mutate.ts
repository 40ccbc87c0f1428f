// `npm run mutate`: proves the tests bite. Breaks the code one way at a time (the gap
// analysis, the integrity check, the host-key check, the gate's decision and its step-down
// adjustment, the cleanup after a failure), runs the unit tests that cover it, and restores
// the file. Prints a table; exits 1 if any mutation survived (its tests stayed green).
// On demand, not in CI: it runs the covering tests once per mutation.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { projectPath } from '../src/model/paths.js';

interface Mutation {
  readonly name: string;
  readonly file: string;
  readonly find: string;
  readonly replace: string;
  readonly tests: readonly string[];
}

const MUTATIONS: readonly Mutation[] = [
  {
    name: 'gap analysis: the smallest gap taken for the largest',
    file: 'src/probes/gaps.ts',
    find: '} else if (!largest || durationMs > largest.durationMs) {',
    replace: '} else if (!largest || durationMs < largest.durationMs) {',
    tests: ['test/probes/gaps.test.ts', 'test/engine/record.test.ts'],
  },
  {
    name: 'gap analysis: a silence that never ended measured as a gap',
    file: 'src/probes/gaps.ts',
    find: 'if (open && (!largest || open.durationMs >= largest.durationMs)) {',
    replace: 'if (false) {',
    tests: ['test/probes/gaps.test.ts', 'test/engine/record.test.ts'],
  },
  {
    name: 'integrity: damaged pages still called intact',
    file: 'src/engine/record.ts',
    find: 'i.verification ? badPages === 0 : null',
    replace: 'i.verification ? badPages !== null : null',
    tests: ['test/engine/record.test.ts', 'test/engine/migration.test.ts'],
  },
  {
    name: 'integrity: a restarted agent not noticed',
    file: 'src/engine/migration.ts',
    find: '(taps.source?.starts.length ?? 0) > (run.held ? 0 : 1)',
    replace: '(taps.source?.starts.length ?? 0) > 99',
    tests: ['test/engine/migration.test.ts', 'test/engine/record.test.ts'],
  },
  {
    name: 'host keys: any key accepted',
    file: 'src/exec/hostkey.ts',
    find: 'if ((policy.fingerprints ?? []).includes(presented)) return { accepted: true };',
    replace: 'return { accepted: true };',
    tests: ['test/exec/hostkey.test.ts'],
  },
  {
    name: 'host keys: a revoked key not refused',
    file: 'src/exec/hostkey.ts',
    find: "known.some((e) => e.marker === 'revoked' && e.keyBlob.equals(keyBlob))",
    replace: 'false',
    tests: ['test/exec/hostkey.test.ts'],
  },
  {
    name: 'decision: a regression confirmed whatever the adjusted p',
    file: 'src/analysis/comparison.ts',
    find: 'const confirmed = pAdjusted !== null && pAdjusted < ctx.alpha;',
    replace: 'const confirmed = pAdjusted !== null;',
    tests: ['test/analysis/comparison.test.ts', 'test/analysis/gate-rule.test.ts'],
  },
  {
    name: 'step-down minP: adjusted p no longer monotone (nor above the raw p)',
    file: 'src/analysis/permutation.ts',
    find: 'running = Math.max(running, h.p, Math.min(1, combined[j]!));',
    replace: 'running = Math.min(1, combined[j]!);',
    tests: ['test/analysis/permutation.test.ts', 'test/analysis/comparison.test.ts'],
  },
  {
    name: 'cleanup: the first failing step stops the rest',
    file: 'src/model/errors.ts',
    find: '        failures.push(failed(what, error));\n      }',
    replace: '        failures.push(failed(what, error));\n        break;\n      }',
    tests: ['test/model/errors.test.ts', 'test/engine/migration.test.ts'],
  },
  {
    name: 'cleanup: a failed sample leaves its guest running',
    file: 'src/engine/cleanup.ts',
    find: 'return [[`destroy guest ${run.vmId}`, destroy]];',
    replace: 'return [];',
    tests: ['test/engine/migration.test.ts'],
  },
];

/** Runs the covering tests; the failing ones' names, or [] when all passed. */
function failingTests(tests: readonly string[]): { failed: string[]; ok: boolean } {
  const run = spawnSync(process.execPath, [projectPath('node_modules/vitest/vitest.mjs'), 'run', '--project', 'unit', '--reporter', 'json', ...tests], {
    cwd: projectPath('.'),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const json = run.stdout.slice(run.stdout.indexOf('{'));
  const report = JSON.parse(json) as { testResults: Array<{ assertionResults: Array<{ fullName: string; status: string }> }> };
  const failed = report.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => a.fullName));
  return { failed, ok: run.status === 0 };
}

const rows: string[][] = [];
let survived = 0;
for (const m of MUTATIONS) {
  const path = projectPath(m.file);
  const original = await readFile(path, 'utf8');
  if (original.split(m.find).length !== 2) throw new Error(`${m.file}: the text to mutate for "${m.name}" is not there exactly once; update scripts/mutate.ts`);
  await writeFile(path, original.replace(m.find, m.replace));
  let result: { failed: string[]; ok: boolean };
  try {
    result = failingTests(m.tests);
  } finally {
    await writeFile(path, original);
  }
  const caught = !result.ok && result.failed.length > 0;
  if (!caught) survived++;
  rows.push([m.name, m.file, caught ? `caught: ${result.failed.length} failed, e.g. "${result.failed[0]}"` : 'SURVIVED']);
  process.stderr.write(`mutate: ${m.name}: ${caught ? 'caught' : 'SURVIVED'}\n`);
}

process.stdout.write(`| mutation | file | tests |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`);
process.stdout.write(`\n${MUTATIONS.length - survived} of ${MUTATIONS.length} mutations caught\n`);
process.exit(survived ? 1 : 0);
