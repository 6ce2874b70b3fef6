import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const layer = (name) => [`**/${name}/*`, `**/${name}/**`];
const LAYERS = {
  engine: [...layer('store'), ...layer('sources'), ...layer('jobs'), ...layer('app')],
  io: [...layer('jobs'), ...layer('app')],
  top: [...layer('rpc'), ...layer('cli'), ...layer('mcp')],
};

/** `no-restricted-imports` (typescript-eslint's, for type-only imports) per folder. */
function layerRules() {
  const rule = (files, patterns, message, { types, regex, ...extra } = {}) => ({
    files,
    ...extra,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            regex
              ? { regex, message, allowTypeImports: types ?? false }
              : { group: patterns, message, allowTypeImports: types ?? false },
          ],
        },
      ],
    },
  });
  const daemonFolders = ['engine', 'store', 'sources', 'jobs', 'app', 'rpc', 'cli', 'replay'];
  return [
    rule(
      ['schemas/**/*.ts'],
      ['**/daemon/**', '**/extension/**', '**/webviews/**', '../*.ts'].concat(
        daemonFolders.flatMap(layer),
      ),
      'schemas/ is the contract: it imports nothing of the product.',
    ),
    rule(
      ['daemon/engine/**/*.ts'],
      [...LAYERS.engine, ...LAYERS.top, ...layer('replay'), '../*.ts'],
      'The engine is pure computation: it imports only schemas/.',
    ),
    rule(
      ['daemon/store/**/*.ts'],
      [...layer('sources'), ...LAYERS.io, ...LAYERS.top, ...layer('replay')],
      'store/ imports only schemas/ and engine/ (sources/ is a sibling).',
    ),
    rule(
      ['daemon/sources/**/*.ts'],
      [...layer('store'), ...LAYERS.io, ...LAYERS.top, ...layer('replay')],
      'sources/ imports only schemas/ and engine/ (store/ is a sibling).',
    ),
    rule(
      ['daemon/jobs/**/*.ts'],
      [...layer('app'), ...LAYERS.top, ...layer('replay')],
      "jobs/ (the application layer's workers) import engine, store, sources and schemas.",
    ),
    rule(
      ['daemon/app/**/*.ts'],
      [...LAYERS.top, ...layer('replay')],
      'app/ uses engine, store, sources and jobs; rpc/ and cli/ use app/, never the reverse.',
    ),
    rule(
      ['daemon/rpc/**/*.ts'],
      [
        ...layer('cli'),
        ...layer('mcp'),
        ...layer('engine'),
        ...layer('store'),
        ...layer('sources'),
        ...layer('jobs'),
        ...layer('replay'),
      ],
      'rpc/ is framing, transports and a thin method table over app/; it never imports cli/.',
    ),
    rule(
      ['daemon/mcp/**/*.ts'],
      [
        ...layer('cli'),
        ...layer('engine'),
        ...layer('store'),
        ...layer('sources'),
        ...layer('jobs'),
        ...layer('replay'),
      ],
      'mcp/ is a thin adapter over app/ (and rpc/ to reach the daemon); it never imports cli/.',
    ),
    rule(
      ['daemon/cli/**/*.ts'],
      [
        ...layer('rpc'),
        ...layer('mcp'),
        ...layer('engine'),
        ...layer('store'),
        ...layer('sources'),
        ...layer('jobs'),
      ],
      'cli/ parses, calls app/ and renders; it never imports rpc/ (bin.ts joins the two).',
      { ignores: ['daemon/cli/bin.ts'] },
    ),
    rule(
      ['daemon/replay/**/*.ts'],
      [...LAYERS.engine, ...LAYERS.top, '**/extension/**', '**/webviews/**'],
      'The replay exchange stands apart: it imports only schemas/, engine/ and daemon/paths.ts.',
    ),
    rule(
      ['extension/**/*.ts'],
      [],
      'The extension talks to the daemon only through the client (daemon/rpc/client.ts).',
      { regex: '^(\\.\\./)+daemon/(?!rpc/client\\.ts$)' },
    ),
    rule(
      ['webviews/**/*.ts'],
      [],
      'A webview imports its messages (webviews/messages.ts) and, from schemas/, types, the interval constants and the integrity text (no zod in the bundle).',
      {
        regex: '^(\\.\\./)+(daemon|extension)/|^(\\.\\./)+schemas/(?!(intervals|integrity)\\.ts$)',
        types: true,
      },
    ),
  ];
}

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      '.cache',
      'data',
      'bench/node_modules',
      'test/fixtures',
      'schemas/json',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  { files: ['daemon/**/*.ts'], rules: { 'no-console': 'error' } },
  { files: ['daemon/cli/**/*.ts', 'daemon/replay/cli.ts'], rules: { 'no-console': 'off' } },
  // Layer rules (ARCHITECTURE.md, "Layers"): each folder imports only the layers below it.
  // Type-only imports are allowed where noted: they vanish from the built code.
  ...layerRules(),
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs', 'examples/**'],
    ...tseslint.configs.disableTypeChecked,
  },
);
