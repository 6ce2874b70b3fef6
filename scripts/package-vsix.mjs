// Builds threadx-data-<version>.vsix with @vscode/vsce from a staging folder that holds only what
// the extension runs: the bundles in dist/ (extension, daemon CLI, webviews, parquet-wasm binary),
// the icons, the replay exchange's recorded data (for `threadx demo` and offline trials), the
// README (docs/extension.md) and a package.json without dependencies. No node_modules: every
// runtime dependency is bundled by esbuild. Run after `node esbuild.mjs --production`
// (`npm run package` does both).
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stage = path.join(root, '.cache', 'vsix-stage');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const out = path.join(root, `${pkg.name}-${pkg.version}.vsix`);

const need = [
  'dist/extension.cjs',
  'dist/cli.js',
  'dist/codec-worker.js',
  'dist/parquet_wasm_bg.wasm',
  'dist/webviews/manager.js',
  'dist/webviews/chart.js',
];
for (const f of need) {
  if (!existsSync(path.join(root, f))) {
    console.error(`package-vsix: ${f} is missing; run "node esbuild.mjs --production" first`);
    process.exit(1);
  }
}

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const copy = (from, to = from, filter = () => true) =>
  cpSync(path.join(root, from), path.join(stage, to), {
    recursive: true,
    filter: (src) => statSync(src).isDirectory() || filter(src),
  });

// Bundles without source maps, tests or the library entry points.
for (const f of need) copy(f);
copy('dist/webviews', 'dist/webviews', (src) => /\.(js|css)$/.test(src));
copy('extension/media');
// The replay exchange serves the recorded Binance data (the demo and the try-in-browser script).
copy('test/fixtures/binance', 'test/fixtures/binance', (src) => !src.endsWith('.md'));
copy('docs/extension.md', 'README.md');
for (const png of [
  'extension-chart.png',
  'extension-data-manager.png',
  'extension-registry-tree.png',
]) {
  if (existsSync(path.join(root, 'docs', png))) copy(`docs/${png}`);
}
writeFileSync(
  path.join(stage, 'LICENSE'),
  `MIT License\n\nCopyright (c) ThreadX Data contributors\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.\n`,
);

// The manifest as VS Code reads it: no dependencies (all bundled), no scripts, no exports.
const manifest = { ...pkg };
for (const k of ['dependencies', 'devDependencies', 'scripts', 'exports', 'private'])
  delete manifest[k];
manifest.bin = { threadx: 'dist/cli.js' };
writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(path.join(stage, '.vscodeignore'), '**/*.map\n');

const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const r = spawnSync(
  process.execPath,
  [
    vsce,
    'package',
    '--no-dependencies',
    '--allow-missing-repository',
    '--skip-license',
    '--out',
    out,
  ],
  { cwd: stage, stdio: 'inherit' },
);
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(
  `package-vsix: ${path.relative(root, out)} (${(statSync(out).size / 1024 / 1024).toFixed(1)} MB)`,
);
