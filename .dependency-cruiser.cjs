// The layers of src/ and what each may import (docs/architecture.md draws the same table).
// A module may import its own folder and the folders listed for it; never anything else,
// and nothing may form a cycle. Type-only imports count.
const BASE = ['model', 'generated'];
const BELOW_ENGINE = ['config', 'hypervisors', 'probes', 'setup', 'lab', 'render', 'github', 'exec', 'analysis', ...BASE];
const MAY_USE = {
  generated: [],
  model: ['generated'],
  exec: BASE,
  analysis: BASE,
  probes: ['exec', ...BASE],
  setup: ['exec', ...BASE],
  lab: ['exec', ...BASE],
  render: ['analysis', ...BASE],
  github: BASE,
  hypervisors: ['probes', 'setup', 'exec', ...BASE],
  // config validates against the registry of what each hypervisor supports, never a driver.
  config: ['hypervisors/registry\\.ts$', ...BASE],
  engine: BELOW_ENGINE,
  vitest: ['engine', ...BELOW_ENGINE],
  cli: ['vitest', 'engine', ...BELOW_ENGINE],
  action: ['vitest', 'engine', ...BELOW_ENGINE],
};

const forbidden = [
  { name: 'no-cycle', severity: 'error', comment: 'An import cycle: the layers no longer read one way.', from: {}, to: { circular: true } },
  { name: 'no-unresolvable', severity: 'error', from: { path: '^src/' }, to: { couldNotResolve: true } },
  {
    name: 'layers-only',
    severity: 'error',
    comment: "Every module of src/ lives in a layer folder, but src/index.ts: the package's programmatic entry point, above every layer.",
    from: { path: '^src/[^/]+$', pathNot: '^src/index\\.ts$' },
    to: {},
  },
  {
    name: 'registry-is-data',
    severity: 'error',
    comment: 'The registry is a table: it imports the model and generated types only.',
    from: { path: '^src/hypervisors/registry\\.ts$' },
    to: { path: '^src/(?!generated/|model/)' },
  },
];
for (const [layer, allowed] of Object.entries(MAY_USE)) {
  const ok = [layer, ...allowed].map((a) => (a.includes('/') ? a : `${a}/`)).join('|');
  forbidden.push({
    name: `layer-${layer}`,
    severity: 'error',
    comment: `src/${layer} may import only ${allowed.length ? allowed.join(', ') : 'nothing outside itself'}`,
    from: { path: `^src/${layer}/` },
    to: { path: '^src/', pathNot: `^src/(${ok})` },
  });
}

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
