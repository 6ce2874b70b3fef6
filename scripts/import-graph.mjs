#!/usr/bin/env node
// Counts the import edges between layers of the source tree (static `import`/`export ... from`
// and dynamic `import()` of relative paths). Usage: node scripts/import-graph.mjs [--edges]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOTS = ['schemas', 'daemon', 'extension', 'webviews'];
const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The layer of a file: its top folder, or the sub-folder under daemon/. */
function layer(file) {
  const parts = relative(root, file).split('/');
  if (parts[0] === 'daemon') return parts.length > 2 ? `daemon/${parts[1]}` : 'daemon/*';
  return parts[0];
}

const files = ROOTS.flatMap((r) => walk(join(root, r)));
const pairs = new Map();
const edges = [];
let total = 0;
const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  for (const m of src.matchAll(re)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(f), spec).replace(/\.js$/, '.ts');
    total++;
    const a = layer(f);
    const b = layer(target);
    if (a === b) continue;
    const key = `${a} -> ${b}`;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
    edges.push(`${relative(root, f)} -> ${relative(root, target)}`);
  }
}
/** What each layer may import (ARCHITECTURE.md, "Layers"); anything else is a violation. */
const ALLOWED = {
  schemas: [],
  'daemon/engine': ['schemas'],
  'daemon/store': ['schemas', 'daemon/engine'],
  'daemon/sources': ['schemas', 'daemon/engine'],
  'daemon/jobs': ['schemas', 'daemon/engine', 'daemon/store', 'daemon/sources', 'daemon/*'],
  'daemon/app': [
    'schemas',
    'daemon/engine',
    'daemon/store',
    'daemon/sources',
    'daemon/jobs',
    'daemon/*',
  ],
  'daemon/rpc': ['schemas', 'daemon/app', 'daemon/*'],
  'daemon/cli': ['schemas', 'daemon/app', 'daemon/replay', 'daemon/*'],
  'daemon/replay': ['schemas', 'daemon/engine', 'daemon/*'],
  'daemon/*': ['schemas'],
  extension: ['schemas', 'webviews', 'daemon/rpc'],
  webviews: ['schemas'],
};
/** The composition root may join cli/ and rpc/; the extension may use only the client. */
function allowed(from, to) {
  if (from === 'daemon/cli/bin.ts' && layer(join(root, to)) === 'daemon/rpc') return true;
  const a = layer(join(root, from));
  const b = layer(join(root, to));
  if (a === 'extension' && b === 'daemon/rpc') return to === 'daemon/rpc/client.ts';
  return (ALLOWED[a] ?? []).includes(b);
}
const violations = edges.filter((e) => {
  const [from, to] = e.split(' -> ');
  return !allowed(from, to);
});
const cross = [...pairs.values()].reduce((s, n) => s + n, 0);
for (const [k, n] of [...pairs].sort()) console.log(`${String(n).padStart(4)}  ${k}`);
console.log(
  `files ${files.length}, relative import edges ${total}, cross-layer ${cross}, layer pairs ${pairs.size}, against the layer rules ${violations.length}`,
);
if (process.argv.includes('--violations')) for (const e of violations) console.log(`  ${e}`);
if (process.argv.includes('--edges')) for (const e of edges.sort()) console.log(e);
