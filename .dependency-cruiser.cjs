/**
 * dependency-cruiser rules (`npm run lint:deps`): no import cycle between files of src, no
 * cycle between its top-level folders, and no test code in production code.
 *
 * Type-only imports count. TypeScript erases them (verbatimModuleSyntax), so they cannot
 * break module loading, but they couple a module to another's definitions as much as a
 * value import does, and a type cycle becomes a load-order cycle the day one side imports a
 * value.
 *
 * Folder cycles are checked against LAYERS, the top-level entries of src from the bottom up:
 * an entry may import only entries below it. Any cycle between folders needs one import
 * upwards, so a cycle cannot pass. (The cruiser's own folder-level cycle check,
 * `scope: 'folder'` with `circular`, links a folder to the innermost folder of each file it
 * imports, so a cycle that enters a subfolder such as rollout/step or target/process goes
 * unseen.) A newcomer reads the data flow off this list; a new top-level folder must be
 * placed in it.
 */

/** Tests and the helpers only tests use; leaves of the graph, so they may import anything. */
const TEST_CODE = '(?:\\.test\\.ts|test-support\\.ts)$';

/**
 * Top-level entries of src, lowest first: each may import only the entries before it. `id`
 * names the rule in reports; `path` matches the entry below `src/`.
 */
const LAYERS = [
  { id: 'root-files', name: 'the root files (errors.ts, registry.ts, …)', path: '(?!runtime\\.ts$)[^/]+$' },
  { id: 'clock', name: 'clock (telling a wall-clock jump from time passing)', path: 'clock/' },
  { id: 'config', name: 'config', path: 'config/' },
  { id: 'http', name: 'http', path: 'http/' },
  { id: 'kubernetes', name: 'kubernetes (the API client)', path: 'kubernetes/' },
  { id: 'analysis', name: 'analysis', path: 'analysis/' },
  { id: 'proxy', name: 'proxy', path: 'proxy/' },
  { id: 'metrics', name: 'metrics', path: 'metrics/' },
  { id: 'notify', name: 'notify', path: 'notify/' },
  { id: 'router', name: 'router', path: 'router/' },
  { id: 'target', name: 'target', path: 'target/' },
  { id: 'rollout', name: 'rollout', path: 'rollout/' },
  { id: 'pipelines', name: 'pipelines (webhooks, git, builds, artifacts)', path: 'pipelines/' },
  { id: 'api', name: 'api', path: 'api/' },
  { id: 'web', name: 'web', path: 'web/' },
  { id: 'runtime', name: 'runtime.ts', path: 'runtime\\.ts$' },
  { id: 'operator', name: 'operator (the Kubernetes composition root)', path: 'operator/' },
  { id: 'cli', name: 'cli', path: 'cli/' },
];

const FOLDERS = LAYERS.filter((layer) => layer.path.endsWith('/')).map((layer) => layer.path);
const LISTED_FOLDER = `^src/(?:${FOLDERS.join('|')})`;

/** One rule per layer (the reporters show a rule's comment by its name, so each has its own). */
const layerRules = LAYERS.slice(0, -1).map((layer, index) => {
  const below = LAYERS.slice(0, index).map((l) => l.name);
  const above = LAYERS.slice(index + 1);
  return {
    name: `layers-${layer.id}-imports-upwards`,
    comment:
      `${layer.name} may import only ${below.length === 0 ? 'one another, npm packages and node' : below.join(', ')}: ` +
      'the entries before it in LAYERS (.dependency-cruiser.cjs). An import upwards is how a cycle ' +
      'between folders starts: move the shared code down, or pass it in from above.',
    severity: 'error',
    from: { path: `^src/${layer.path}`, pathNot: TEST_CODE },
    to: { path: `^src/(?:${above.map((l) => l.path).join('|')})` },
  };
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'This import closes a cycle between files (type-only imports included). Move what both ' +
        'sides need into a module of its own, or let the lower side declare the interface it uses.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'folder-not-layered',
      comment:
        'A top-level folder of src that LAYERS (.dependency-cruiser.cjs) does not list: add it ' +
        'where it belongs in the data flow, so cycles through it are caught.',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: LISTED_FOLDER },
      to: {},
    },
    {
      name: 'import-of-folder-not-layered',
      comment:
        'An import of a top-level folder of src that LAYERS (.dependency-cruiser.cjs) does not ' +
        'list: add it where it belongs in the data flow, so cycles through it are caught.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/[^/]+/', pathNot: LISTED_FOLDER },
    },
    {
      name: 'no-test-code-in-src',
      comment:
        'Production code imports a test, a test helper, a fake under test/ or a bench. Fakes are ' +
        'passed in by the tests that need them (e.g. registered in a registry), never imported.',
      severity: 'error',
      from: { path: '^src/', pathNot: TEST_CODE },
      to: { path: ['^test/', '^bench/', TEST_CODE] },
    },
  ],
  options: {
    // Count `import type` too (see the header).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Tests and benches under test/ and bench/ appear where src imports them, but are not cruised.
    doNotFollow: { path: ['node_modules', '^test/', '^bench/'] },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
