// Bundles the daemon/CLI, the library entry points, the extension and the webviews.
// esbuild does not type-check: `npm run typecheck` does.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

// The node build of parquet-wasm is CommonJS and loads its .wasm from __dirname: give the ESM
// bundle a CommonJS-compatible prelude and put the .wasm beside it.
const cjsShim = [
  "import { createRequire as __threadxCreateRequire } from 'node:module';",
  "import { fileURLToPath as __threadxFileURLToPath } from 'node:url';",
  "import { dirname as __threadxDirname } from 'node:path';",
  'const require = __threadxCreateRequire(import.meta.url);',
  'const __filename = __threadxFileURLToPath(import.meta.url);',
  'const __dirname = __threadxDirname(__filename);',
].join('\n');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  define: { 'process.env.THREADX_VERSION': JSON.stringify(pkg.version) },
};

const builds = [
  {
    ...common,
    entryPoints: { cli: 'daemon/cli/bin.ts', 'codec-worker': 'daemon/store/codec-worker.ts' },
    outdir: 'dist',
    format: 'esm',
    banner: { js: `#!/usr/bin/env node\n${cjsShim}` },
  },
  {
    ...common,
    entryPoints: {
      'lib/engine': 'daemon/engine/index.ts',
      'lib/store': 'daemon/store/index.ts',
      'lib/schemas': 'schemas/index.ts',
    },
    outdir: 'dist',
    format: 'esm',
    packages: 'external',
  },
];

if (existsSync('extension/main.ts')) {
  builds.push({
    ...common,
    entryPoints: { extension: 'extension/main.ts' },
    outdir: 'dist',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    external: ['vscode'],
  });
}
for (const [name, entry] of [
  ['webviews/manager', 'webviews/manager/main.ts'],
  ['webviews/chart', 'webviews/chart/main.ts'],
]) {
  if (!existsSync(entry)) continue;
  builds.push({
    ...common,
    platform: 'browser',
    target: 'es2022',
    entryPoints: { [name]: entry },
    outdir: 'dist',
    format: 'iife',
    loader: { '.css': 'text' },
  });
}
for (const suite of ['suite', 'smoke']) {
  if (!existsSync(`test/e2e/${suite}/index.ts`)) continue;
  builds.push({
    ...common,
    entryPoints: { [`test/e2e/${suite}/index`]: `test/e2e/${suite}/index.ts` },
    outdir: 'dist',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    external: ['vscode', 'mocha'],
  });
}

mkdirSync('dist', { recursive: true });
copyFileSync('node_modules/parquet-wasm/node/parquet_wasm_bg.wasm', 'dist/parquet_wasm_bg.wasm');

// Each webview's stylesheet is the shared base plus its own file, linked (not inlined) so the
// webview's CSP needs no 'unsafe-inline'.
for (const view of ['manager', 'chart']) {
  const own = `webviews/${view}/${view}.css`;
  if (!existsSync(own)) continue;
  mkdirSync('dist/webviews', { recursive: true });
  writeFileSync(
    `dist/webviews/${view}.css`,
    `${readFileSync('webviews/base.css', 'utf8')}\n${readFileSync(own, 'utf8')}`,
  );
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
