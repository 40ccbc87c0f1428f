// Bundles the Action (src/action/index.ts) into dist/index.js with a source map.
// `node scripts/build-action.mjs --check` builds in memory and fails if dist/ differs.
// `--runtime` also installs the packed package with its production dependencies into
// dist/runtime: the migbench the Action runs to measure. It holds native binaries (vitest's
// bundler), so it is committed on release tags only (.github/workflows/release.yml).
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

export const options = {
  entryPoints: ['src/action/index.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  legalComments: 'none',
  outfile: 'dist/index.js',
  // Bundled CommonJS dependencies call require(); ESM output has none of its own.
  banner: { js: "import { createRequire as __mbCreateRequire } from 'node:module'; const require = __mbCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  write: false,
};

const result = await build(options);
let stale = [];
for (const file of result.outputFiles) {
  if (process.argv.includes('--check')) {
    const current = await readFile(file.path).catch(() => Buffer.alloc(0));
    if (!current.equals(Buffer.from(file.contents))) stale.push(file.path);
  } else {
    await mkdir(new URL('../dist/', import.meta.url), { recursive: true });
    await writeFile(file.path, file.contents);
  }
}
if (stale.length) {
  console.error(`dist is not built from the current sources: ${stale.join(', ')}; run npm run build:action and commit dist/`);
  process.exit(1);
}

if (process.argv.includes('--runtime')) {
  const packed = await mkdtemp(join(tmpdir(), 'migbench-runtime-'));
  const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', packed], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  const runtime = new URL('../dist/runtime/', import.meta.url).pathname;
  await rm(runtime, { recursive: true, force: true });
  await mkdir(runtime, { recursive: true });
  await writeFile(join(runtime, 'package.json'), '{ "private": true, "description": "migbench as the Action runs it (npm run build:action -- --runtime)" }\n');
  execFileSync('npm', ['install', '--omit=dev', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', join(packed, filename)], { cwd: runtime, stdio: 'inherit' });
  await rm(packed, { recursive: true, force: true });
  // Type declarations and source maps are for editors, not for running: 147 MB → 55 MB.
  await rm(join(runtime, 'node_modules', '@types'), { recursive: true, force: true });
  for (const file of await readdir(join(runtime, 'node_modules'), { recursive: true })) {
    if (/\.d\.[cm]?ts$|\.map$/.test(file)) await rm(join(runtime, 'node_modules', file), { force: true });
  }
}
