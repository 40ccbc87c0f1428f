// Bundles the Action (src/action/index.ts) into dist/index.js with a source map.
// `node scripts/build-action.mjs --check` builds in memory and fails if dist/ differs.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
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
