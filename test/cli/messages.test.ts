/**
 * Every error path of every command, as a person meets it: one line, a sentence that starts with
 * a capital letter and ends with a full stop, at most one hint, no text said twice, the exit code
 * README promises, and nothing asked of the network before what can be checked offline was.
 * Every `threadx ... --help` a hint names exists.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KLINES } from '../helpers/fixtures.ts';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
/** A port nothing listens on: any request to the "exchange" fails at once. */
const OFFLINE = ['--base-url', 'http://127.0.0.1:9', '--archive-url', 'http://127.0.0.1:9'];

const dir = mkdtempSync(path.join(tmpdir(), 'threadx-messages-'));
const bank = ['--data-dir', path.join(dir, 'bank')];
const none = ['--data-dir', path.join(dir, 'no-bank-here')];

async function run(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

before(async () => {
  const zip = path.join(KLINES, 'hal9000cc', 'ETHUSDT-1m-2022-08-14.zip');
  const r = await run(['import', zip, ...bank]);
  assert.equal(r.code, 0, r.stderr);
  await writeFile(path.join(dir, 'notes.txt'), 'not a kline file\n');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** [the command line, the exit code README promises] */
const CASES: Array<[string[], number]> = [
  [['frobnicate'], 2],
  [['ingest', '--start', '2023-01-01'], 2],
  [['ingest', '--symbols', 'BTC-USD!', '--start', '2023-01-01', ...OFFLINE], 2],
  [['ingest', '--group', 'NOPE', '--start', '2023-01-01', ...OFFLINE], 2],
  [['ingest', '--symbols', 'BTCUSDT', ...OFFLINE], 2],
  [['ingest', '--symbols', 'BTCUSDT', '--start', 'yesterday', ...OFFLINE], 2],
  [['ingest', '--symbols', 'BTCUSDT', '--start', '2023-02-01', '--end', '2023-01-01'], 2],
  [['ingest', '--symbols', 'BTCUSDT', '--start', '2023-01-01', '--source', 'ftp'], 2],
  [['ingest', '--symbols', 'BTCUSDT', '--start', '2023-01-01', '--concurrency', '99'], 2],
  [['ingest', '--top', '0', '--start', '2023-01-01'], 2],
  [['ingest', '--symbols', 'BTCUSDT', '--start', '2023-01-01', '--intervals', '7m'], 2],
  [['ingest', '--symbols', 'BTCUSDT', '--start', '2023-01-01', ...OFFLINE, ...bank], 3],
  [['ingest', '--symbols', 'BTCUSDT', '--start'], 2],
  [['import'], 2],
  [['import', 'missing.zip', ...bank], 2],
  [['import', 'notes.txt', '--interval', '1h', ...bank], 2],
  [['validate'], 2],
  [['validate', 'missing.zip'], 2],
  [['list', '--bogus'], 2],
  [['list', ...none], 2],
  [['verify', ...none], 2],
  [['repair', ...none], 2],
  [['check', ...none, '--symbol', 'ETHUSDT'], 2],
  [['check', ...bank], 2],
  [['check', '--symbol', 'DOGEUSDT', ...bank], 2],
  [['resample', ...bank], 2],
  [['resample', '--symbol', 'ETHUSDT', '--intervals', '2m', ...bank], 2],
  [['export', ...bank], 2],
  [['export', '--symbol', 'ETHUSDT', ...bank], 2],
  [['export', '--symbol', 'ETHUSDT', '--interval', '1h', '--start', 'soon', ...bank], 2],
  [['indicators', ...bank], 2],
  [['indicators', '--symbols', 'ETHUSDT', '--indicators', 'nope', ...bank], 2],
  [['serve'], 2],
  [['serve', '--port', 'x'], 2],
  [['serve', '--socket', 's.sock', '--join'], 2],
];

/** The one line a failed command prints, without its `threadx CMD: ` prefix. */
function shape(cmd: string, text: string): void {
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${text}`);
  const prefix = `threadx ${cmd}: `;
  assert.ok(lines[0].startsWith(prefix), `starts with "${prefix}": ${text}`);
  const body = lines[0].slice(prefix.length);
  assert.match(body, /^["A-Z0-9]/, `a capital letter first: ${body}`);
  assert.match(body, /[.!?]["')]?$/, `ends a sentence: ${body}`);
  assert.ok((body.match(/Run "threadx[^"]*--help"/g)?.length ?? 0) <= 1, `one hint: ${body}`);
  const sentences = body.split(/(?<=[.!?])\s+/);
  assert.equal(new Set(sentences).size, sentences.length, `nothing said twice: ${body}`);
  assert.doesNotMatch(body, /[a-z0-9] (Run|Check|Give|Pick|Define|Name) /, `punctuated: ${body}`);
  assert.equal((body.match(/"/g)?.length ?? 0) % 2, 0, `quotes closed: ${body}`);
}

test('every error of every command is one sentence, one hint, and the promised exit code', async () => {
  const hinted = new Set<string>();
  for (const [args, exit] of CASES) {
    const cmd = args[0];
    const r = await run(args);
    const label = args.join(' ');
    assert.equal(r.code, exit, `${label}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    shape(cmd, r.stderr);
    for (const m of r.stderr.matchAll(/"threadx ([a-z]+) --help"/g)) hinted.add(m[1]);
    // With --json the same error is one object: code, message and hint; never the text twice.
    const j = await run([...args, '--json']);
    assert.equal(j.code, exit, `${label} --json`);
    const err = (
      JSON.parse(j.stdout.trim().split('\n').pop()!) as { error: Record<string, unknown> }
    ).error;
    assert.equal(typeof err.code, 'string', label);
    assert.match(String(err.message), /^["A-Z0-9].*[.!?]["')]?$/, label);
    if (err.hint) assert.ok(!String(err.message).includes(String(err.hint)), label);
  }
  // Every command help a hint names exists.
  for (const cmd of hinted) {
    const h = await run([cmd, '--help']);
    assert.equal(h.code, 0, `${cmd} --help`);
    assert.match(h.stdout, new RegExp(`Usage: threadx ${cmd}`));
  }
});

test('syntax before network: a bad symbol or group is refused without asking the exchange', async () => {
  let asked = 0;
  const exchange = createServer((_req, res) => {
    asked++;
    res.writeHead(503).end();
  });
  exchange.listen(0, '127.0.0.1');
  await once(exchange, 'listening');
  const url = `http://127.0.0.1:${(exchange.address() as AddressInfo).port}`;
  try {
    for (const sel of [
      ['--symbols', 'BTC-USD!'],
      ['--group', 'NOPE'],
    ]) {
      const r = await run(['ingest', ...sel, '--start', '2023-01-01', '--base-url', url, ...bank]);
      assert.equal(r.code, 2, r.stderr);
    }
    assert.equal(asked, 0, 'the exchange was asked before the command line was checked');
  } finally {
    exchange.close();
  }
});

test('a network failure in --json carries its hint and details', async () => {
  const r = await run([
    'ingest',
    '--symbols',
    'BTCUSDT',
    '--start',
    '2023-01-01',
    ...OFFLINE,
    ...bank,
    '--json',
  ]);
  assert.equal(r.code, 3);
  const { error } = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    error: { code: string; hint?: string; details?: { url?: string } };
  };
  assert.equal(error.code, 'NETWORK');
  assert.match(error.hint ?? '', /--base-url/);
  assert.match(error.details?.url ?? '', /127\.0\.0\.1:9/);
});
