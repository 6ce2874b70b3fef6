// Builds threadx-data-<version>.vsix with @vscode/vsce from a staging folder that holds only what
// the extension runs and may redistribute: the bundles in dist/ (extension, daemon CLI, webviews,
// parquet-wasm binary), the icons, the replay exchange's data (assets/replay: Binance's own
// data.binance.vision archives; everything else it serves is synthetic), the README
// (docs/extension.md, whose images resolve against the repository), CHANGELOG.md, LICENSE, the
// licences of the bundled third-party code, and a package.json without dependencies. No
// node_modules: every runtime dependency is bundled by esbuild. Run after
// `node esbuild.mjs --production` (`npm run package` does both).
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
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
// The replay exchange's data (the demo and the try-in-browser script), with its provenance.
copy('assets/replay');
copy('docs/extension.md', 'README.md');
copy('CHANGELOG.md');
copy('LICENSE');
writeFileSync(path.join(stage, 'THIRD-PARTY-NOTICES.txt'), thirdPartyNotices());

// The manifest as VS Code reads it: no dependencies (all bundled), no scripts, no exports.
const manifest = { ...pkg };
for (const k of ['dependencies', 'devDependencies', 'scripts', 'exports', 'private'])
  delete manifest[k];
manifest.bin = { threadx: 'dist/cli.js' };
writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(path.join(stage, '.vscodeignore'), '**/*.map\n');

// The README's relative links and images point into docs/ of the repository (package.json
// `repository`), where the marketplace page fetches them.
const repo = String(pkg.repository?.url ?? pkg.repository ?? '')
  .replace(/^git\+/, '')
  .replace(/\.git$/, '');
if (!/^https:\/\/github\.com\/[^/]+\/[^/]+$/.test(repo)) {
  console.error('package-vsix: package.json needs a GitHub "repository" URL for the README links');
  process.exit(1);
}
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const r = spawnSync(
  process.execPath,
  [
    vsce,
    'package',
    '--no-dependencies',
    '--baseContentUrl',
    `${repo}/blob/HEAD/docs/`,
    '--baseImagesUrl',
    `${repo}/raw/HEAD/docs/`,
    '--out',
    out,
  ],
  { cwd: stage, stdio: 'inherit' },
);
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(
  `package-vsix: ${path.relative(root, out)} (${(statSync(out).size / 1024 / 1024).toFixed(1)} MB)`,
);

/**
 * The licence texts of every package bundled into dist/: the production dependencies and their
 * own dependencies, as the lock file lists them (dev-only packages are not shipped).
 */
function thirdPartyNotices() {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const parts = [
    'ThreadX Data bundles the following third-party packages. Their licences follow.\n',
  ];
  const names = Object.entries(lock.packages)
    .filter(([p, e]) => p.startsWith('node_modules/') && !e.dev && !e.optional)
    .map(([p]) => p)
    .sort();
  for (const dir of names) {
    const abs = path.join(root, dir);
    if (!existsSync(abs)) continue;
    const meta = JSON.parse(readFileSync(path.join(abs, 'package.json'), 'utf8'));
    const file = readdirSync(abs).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = file
      ? readFileSync(path.join(abs, file), 'utf8').trim()
      : `License: ${meta.license}`;
    parts.push(
      `${'-'.repeat(78)}\n${meta.name}@${meta.version} (${meta.license ?? 'see below'})\n\n${text}\n`,
    );
  }
  return parts.join('\n');
}
