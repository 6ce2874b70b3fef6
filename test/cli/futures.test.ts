/**
 * Futures through the CLI (`dist/cli.js`) against the replay exchange: `ingest --market um`
 * (archive) and `--kind mark` (REST), `import` of a Binance futures archive, and `list`,
 * `export`, `verify` with `--market`/`--kind`; a kind spot lacks is bad input (exit 2).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import { KLINES } from '../helpers/fixtures.ts';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Runs the CLI without blocking this process (the replay exchange answers from here). */
function run(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

let server: ReplayServer;
let dir: string;
before(async () => {
  server = await startReplayServer({ now: Date.UTC(2022, 8, 8) });
  dir = await mkdtemp(path.join(tmpdir(), 'threadx-cli-futures-'));
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true });
});

test('cli: ingest, list, export and verify a USD-M series beside spot', async () => {
  const data = ['--data-dir', path.join(dir, 'bank')];
  const window = ['--start', '2022-09-05', '--end', '2022-09-07', '--intervals', '1h'];
  const urls = ['--base-url', server.url, '--archive-url', server.url];
  let r = await run([
    'ingest',
    '--market',
    'um',
    '--symbols',
    'BTCUSDT',
    ...window,
    ...urls,
    ...data,
  ]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /BTCUSDT@um\s+ok\s+2880/);
  r = await run([
    'ingest',
    '--market',
    'um',
    '--kind',
    'mark',
    '--symbols',
    'BTCUSDT',
    '--source',
    'rest',
    ...window,
    ...urls,
    ...data,
  ]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /BTCUSDT@um\.mark\s+ok\s+2880\s+1\s+6\s/);
  r = await run(['ingest', '--symbols', 'BTCUSDT', ...window, ...urls, ...data]);
  assert.equal(r.status, 0, r.stderr);
  r = await run(['list', '--market', 'um', '--json', ...data]);
  assert.equal(r.status, 0, r.stderr);
  const listed = JSON.parse(r.stdout).datasets as {
    id: string;
    market: string;
    klineKind: string;
  }[];
  assert.deepEqual(
    listed.map((d) => [d.id, d.market, d.klineKind]),
    [
      ['BTCUSDT@um.mark/1h', 'um', 'mark'],
      ['BTCUSDT@um.mark/1m', 'um', 'mark'],
      ['BTCUSDT@um/1h', 'um', 'klines'],
      ['BTCUSDT@um/1m', 'um', 'klines'],
    ],
  );
  r = await run(['list', ...data]);
  assert.match(r.stdout, /^BTCUSDT\/1m\s+spot\s+klines\s+2880/m);
  const out = path.join(dir, 'mark-1h.csv');
  r = await run([
    'export',
    '--market',
    'um',
    '--kind',
    'mark',
    '--symbol',
    'BTCUSDT',
    '--interval',
    '1h',
    '--out',
    out,
    ...data,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const csv = (await readFile(out, 'utf8')).trim().split('\n');
  assert.equal(csv.length, 49);
  assert.equal(csv[1].split(',')[0], '2022-09-05T00:00:00.000Z');
  r = await run(['verify', '--market', 'um', ...data]);
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /^4 file\(s\) checked, 0 problem/m);
  r = await run(['verify', ...data]);
  assert.match(r.stdout, /^6 file\(s\) checked, 0 problem/m);
  // Spot has no mark klines: bad input, named, with the fix.
  r = await run(['ingest', '--kind', 'mark', '--symbols', 'BTCUSDT', ...window, ...urls, ...data]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Spot has no mark klines\. Add --market um/);
  r = await run(['list', '--market', 'usdm', ...data]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--market must be spot, um, cm/);
});

test('cli: import stores a futures archive in USD-M; --market spot refuses it (exit 2)', async () => {
  const data = ['--data-dir', path.join(dir, 'imported')];
  const zip = path.join(KLINES, 'hal9000cc', 'BTCUSDT-1m-2022-09-05.zip');
  let r = await run(['import', zip, '--market', 'spot', ...data]);
  assert.equal(r.status, 2);
  assert.match(r.stdout, /futures kline file/);
  r = await run(['import', zip, '--intervals', '1h', ...data]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /BTCUSDT-1m-2022-09-05\.zip\s+BTCUSDT@um\s+1440/);
  r = await run(['check', '--market', 'um', '--symbol', 'BTCUSDT', ...data]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /BTCUSDT@um\/1h: consistent with 1m/);
});

test('cli: ingest and export a funding-rate history (interval hours from the timestamps)', async () => {
  const data = ['--data-dir', path.join(dir, 'funding')];
  let r = await run([
    'ingest',
    '--market',
    'um',
    '--kind',
    'funding',
    '--symbols',
    'BTCUSDT',
    '--start',
    '2022-09-01',
    '--end',
    '2022-09-05',
    '--base-url',
    server.url,
    ...data,
  ]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /BTCUSDT\s+ok\s+12\s+12\s+1/);
  const out = path.join(dir, 'funding.csv');
  r = await run([
    'export',
    '--market',
    'um',
    '--kind',
    'funding',
    '--symbol',
    'BTCUSDT',
    '--out',
    out,
    ...data,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const csv = (await readFile(out, 'utf8')).trim().split('\n');
  assert.equal(csv[0], 'fundingTime,fundingRate,markPrice,intervalHours');
  assert.equal(csv.length, 13);
  assert.match(csv[1], /^2022-09-01T00:00:00\.00\dZ,-?0\.\d+,\d+\.\d+,8$/);
  r = await run([
    'ingest',
    '--kind',
    'funding',
    '--symbols',
    'BTCUSDT',
    '--start',
    '2022-09-01',
    ...data,
  ]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Spot has no funding rates/);
});

test('cli: premium index klines (signed prices) ingest, export and verify; a delivered contract exits 0', async () => {
  const data = ['--data-dir', path.join(dir, 'premium')];
  const urls = ['--base-url', server.url, '--archive-url', server.url];
  const window = ['--start', '2022-09-05', '--end', '2022-09-06', '--intervals', '1h'];
  const series = ['--market', 'um', '--kind', 'premium'];
  let r = await run(['ingest', ...series, '--symbols', 'BTCUSDT', ...window, ...urls, ...data]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /BTCUSDT@um\.premium\s+ok\s+1440/);
  const out = path.join(dir, 'premium-1h.csv');
  r = await run([
    'export',
    ...series,
    '--symbol',
    'BTCUSDT',
    '--interval',
    '1h',
    '--out',
    out,
    ...data,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const csv = (await readFile(out, 'utf8')).trim().split('\n');
  assert.equal(csv.length, 25);
  assert.match(csv[1], /^2022-09-05T00:00:00\.000Z,/);
  // Signed prices come out as they are.
  assert.ok(
    csv.slice(1).some((l) =>
      l
        .split(',')
        .slice(1, 5)
        .some((v) => Number(v) < 0),
    ),
  );
  r = await run(['verify', ...series, ...data]);
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /^2 file\(s\) checked, 0 problem/m);
  // The delivered COIN-M quarter, on an exchange whose clock is past its delivery.
  const later = await startReplayServer({ now: Date.UTC(2024, 6, 2) });
  try {
    r = await run([
      'ingest',
      '--market',
      'cm',
      '--symbols',
      'BTCUSD_240628',
      '--start',
      '2024-06-28',
      '--end',
      '2024-06-29',
      '--source',
      'rest',
      '--dry-run',
      '--base-url',
      later.url,
      ...data,
    ]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(
      r.stdout,
      /BTCUSD_240628@cm was delivered at 2024-06-28T08:00:00\.000Z: planned up to its delivery; 960 minute\(s\)/,
    );
    r = await run([
      'ingest',
      '--market',
      'cm',
      '--symbols',
      'BTCUSD_240628',
      '--start',
      '2024-06-28',
      '--end',
      '2024-06-29',
      '--source',
      'rest',
      '--base-url',
      later.url,
      ...data,
    ]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /BTCUSD_240628@cm\s+ok\s+480/);
    assert.match(
      r.stdout,
      /delivered at 2024-06-28T08:00:00\.000Z.*960 minute\(s\).*after delivery/,
    );
  } finally {
    await later.close();
  }
});
