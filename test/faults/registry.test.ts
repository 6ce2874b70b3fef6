/**
 * Edges of the bank's files: exports to one path at once, and a tampered registry whose entries
 * point at another dataset's file or outside the bank. Nothing is mixed, followed or deleted, and
 * verify lists what is wrong (exit 1) instead of aborting. A registry of 200,000 datasets is
 * listed and verified with a bounded heap.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Bank } from '../../daemon/store/bank.ts';
import { exportCsv } from '../../daemon/store/export.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { synth1m } from '../helpers/synth.ts';
import { writeBigRegistry } from '../helpers/big-registry.ts';
import { loadRegistry, registryText, saveRegistry } from '../../daemon/store/registry.ts';
import { emptyRegistry } from '../../schemas/registry.ts';
import { CLI, ensureBuilt, finish, runCli, tempDir } from './harness.ts';
import { spawn } from 'node:child_process';

const JAN = Date.UTC(2024, 0, 1);
let work: string;

before(async () => {
  ensureBuilt();
  work = await tempDir();
});
after(() => fsp.rm(work, { recursive: true, force: true }));

test('ten exports to one path at once: the file is one whole export, no temp file is left', async () => {
  const a = synth1m(JAN, 3000, 1);
  const b = synth1m(JAN, 2000, 2);
  const out = path.join(work, 'out.csv');
  const rows = await Promise.all(
    Array.from({ length: 10 }, (_, i) => exportCsv(i % 2 ? a : b, out)),
  );
  assert.deepEqual(
    rows,
    Array.from({ length: 10 }, (_, i) => (i % 2 ? 3000 : 2000)),
  );
  const text = await fsp.readFile(out, 'utf8');
  const lines = text.trimEnd().split('\n');
  assert.ok(lines.length === 3001 || lines.length === 2001, `${lines.length} lines`);
  const single = path.join(work, 'single.csv');
  await exportCsv(lines.length === 3001 ? a : b, single);
  assert.equal(text, await fsp.readFile(single, 'utf8'), 'byte-identical to a lone export');
  assert.deepEqual(
    (await fsp.readdir(work)).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

async function tamperedBank(): Promise<{ dir: string; ethFile: string }> {
  const dir = await fsp.mkdtemp(path.join(work, 'bank-'));
  const bank = await Bank.open(dir);
  await bank.write1m('BTCUSDT', synth1m(JAN, 2 * 1440, 1), 'test');
  await bank.write1m('ETHUSDT', synth1m(JAN, 2 * 1440, 2), 'test');
  await bank.derive('BTCUSDT', ['1h']);
  const regFile = path.join(dir, 'registry.json');
  const reg = JSON.parse(await fsp.readFile(regFile, 'utf8')) as {
    datasets: Record<string, { files: { path: string }[] }>;
  };
  const ethFile = reg.datasets['ETHUSDT/1m'].files[0].path;
  // BTCUSDT/1h now claims ETH's partition; an extra BTCUSDT/1m file points outside the bank.
  reg.datasets['BTCUSDT/1h'].files[0].path = ethFile;
  reg.datasets['BTCUSDT/1m'].files.push({
    ...reg.datasets['BTCUSDT/1m'].files[0],
    path: '../../outside.parquet',
  });
  await fsp.writeFile(regFile, JSON.stringify(reg));
  return { dir, ethFile };
}

test('a tampered registry: verify lists the entries, delete refuses, the other dataset survives', async () => {
  const { dir, ethFile } = await tamperedBank();
  const bank = await Bank.open(dir);
  const issues = await bank.verify();
  const bad = issues.filter((i) => i.status !== 'ok');
  assert.deepEqual(bad.map((i) => `${i.status} ${i.dataset ?? '-'} ${i.path}`).sort(), [
    `corrupt BTCUSDT/1h ${ethFile}`,
    'corrupt BTCUSDT/1m ../../outside.parquet',
    'unregistered - processed/BTCUSDT/1h.parquet',
  ]);
  // Every other file was checked, and is fine.
  assert.equal(issues.filter((i) => i.status === 'ok').length, 2);
  await assert.rejects(
    bank.deleteDataset('BTCUSDT', '1h'),
    (e: unknown) => e instanceof ThreadxError && e.code === 'CORRUPT' && /verify/.test(e.text),
  );
  await assert.rejects(bank.deleteDataset('BTCUSDT', '1m'), /nothing was deleted|not that dataset/);
  await assert.rejects(bank.write1m('BTCUSDT', synth1m(JAN, 10, 3), 'x'), /not that dataset/);
  await fsp.access(path.join(dir, ethFile));
  const eth = await bank.read1m('ETHUSDT');
  assert.equal(eth.length, 2 * 1440, "ETH's 44,640-candle file is intact");
  // The CLI: verify exits 1 (problems found) and lists them, instead of aborting with 3.
  const r = await runCli(['verify', '--data-dir', dir, '--json'], work);
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { issues: unknown[] };
  assert.equal(out.issues.length, 3);
});

/** `threadx ARGS` with V8's old space capped at `heapMb`; a signal that ended it is in stderr. */
async function runBounded(args: string[], heapMb: number) {
  const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, CLI, ...args], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let signal: string | null = null;
  child.on('exit', (_code, s) => (signal = s));
  const r = await finish(child);
  if (signal) r.stderr += `\n(ended by ${signal})`;
  return r;
}

test('the registry is written in pieces, byte-identical to JSON.stringify(reg, null, 1)', async () => {
  const dir = await fsp.mkdtemp(path.join(work, 'text-'));
  await writeBigRegistry(dir, 40);
  const reg = await loadRegistry(path.join(dir, 'registry.json'));
  reg.confirmedEmpty = { AAAAUSDT: [[1, 2]], AAABUSDT: [] };
  for (const r of [reg, emptyRegistry(), { ...emptyRegistry(), confirmedEmpty: { X: [] } }])
    assert.equal(registryText(r).join(''), JSON.stringify(r, null, 1));
  await saveRegistry(path.join(dir, 'registry.json'), reg);
  assert.equal(
    await fsp.readFile(path.join(dir, 'registry.json'), 'utf8'),
    JSON.stringify(reg, null, 1),
  );
});

test(
  'a registry of 200,000 datasets: list and verify finish with a 768 MB heap, no stack overflow',
  { timeout: 15 * 60_000 },
  async () => {
    const dir = path.join(work, 'big');
    assert.equal(await writeBigRegistry(dir, 200_000), 200_000);
    // Before: "Maximum call stack size exceeded" (exit 3) from both.
    const list = await runBounded(['list', '--data-dir', dir], 768);
    assert.equal(list.code, 0, list.stderr.slice(0, 500));
    const lines = list.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2 + 200_000, 'a header, a rule and one line per dataset');
    // The files are absent: the listing says so at once, though the registry says "verified".
    assert.match(lines[2], /^AAAAUSDT\/12h .* corrupt: the file is missing$/);
    const verify = await runBounded(['verify', '--data-dir', dir], 768);
    assert.equal(verify.code, 1, verify.stderr.slice(0, 500));
    assert.equal(verify.stdout.split('\n')[0], '200000 file(s) checked, 200000 problem(s)');
    assert.doesNotMatch(verify.stderr, /call stack/);
    // Every finding was recorded: a second listing reads them from the registry.
    const again = await runBounded(['list', '--data-dir', dir], 768);
    assert.equal(again.code, 0, again.stderr.slice(0, 500));
    assert.match(again.stdout.split('\n')[2], /corrupt: the file is missing$/);
    await fsp.rm(dir, { recursive: true, force: true });
  },
);
