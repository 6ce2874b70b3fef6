/** The CLI's answers about files it refuses, run in-process through `main`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../daemon/cli/main.ts';
import '../../daemon/cli/commands.ts';
import { KLINES } from '../helpers/fixtures.ts';
import { startReplayServer } from '../../daemon/replay/server.ts';

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (
    chunks.push(String(s)),
    true
  )) as typeof process.stdout.write;
  try {
    const code = await main(argv);
    return { code, out: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

test('cli: import refuses a 1h file and a futures file told spot with exit 2, the bank unchanged; validate names interval and market', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-truth-'));
  const data = ['--data-dir', path.join(dir, 'data')];
  let r = await capture([
    'import',
    path.join(KLINES, 'hal9000cc', 'ETHUSDT-1m-2022-08-14.zip'),
    ...data,
  ]);
  assert.equal(r.code, 0);
  const before = await readFile(path.join(dir, 'data', 'registry.json'), 'utf8');
  r = await capture([
    'import',
    path.join(KLINES, 'hal9000cc', 'BTCUSDT-1h-2022-09-07.zip'),
    '--symbol',
    'ETHUSDT',
    '--json',
    ...data,
  ]);
  assert.equal(r.code, 2);
  assert.match(r.out, /WRONG_INTERVAL/);
  r = await capture([
    'import',
    path.join(KLINES, 'hal9000cc', 'BTCUSDT-1m-2022-09-05.zip'),
    // A futures file goes to its futures market, unless spot is asked for.
    '--market',
    'spot',
    '--json',
    ...data,
  ]);
  assert.equal(r.code, 2);
  assert.match(r.out, /WRONG_MARKET/);
  assert.equal(await readFile(path.join(dir, 'data', 'registry.json'), 'utf8'), before);
  r = await capture([
    'validate',
    path.join(KLINES, 'chainertrader', 'ETHUSDT-1h-202301-202401.csv.gz'),
    '--json',
    ...data,
  ]);
  const v = JSON.parse(r.out) as { results: { interval: string; market: string }[] };
  assert.equal(v.results[0].interval, '1h');
  assert.equal(v.results[0].market, 'spot');
  r = await capture([
    'validate',
    path.join(KLINES, 'hal9000cc', 'ETHUSDT-1h-2022-08-24.zip'),
    ...data,
  ]);
  assert.match(r.out, /24 rows, 1h \(detected from timestamps\), futures/);
  // An interval asked for is never silently ignored.
  r = await capture([
    'import',
    path.join(KLINES, 'hal9000cc', 'ETHUSDT-1m-2022-08-15.zip'),
    '--interval',
    '1h',
    ...data,
  ]);
  assert.equal(r.code, 2);
  r = await capture([
    'validate',
    path.join(KLINES, 'hal9000cc', 'ETHUSDT-1m-2022-08-15.zip'),
    '--interval',
    '1h',
    ...data,
  ]);
  assert.equal(r.code, 1);
  assert.equal(await readFile(path.join(dir, 'data', 'registry.json'), 'utf8'), before);
  await rm(dir, { recursive: true });
});

test('cli: ingest lists unknown and non-trading symbols in the plan and the result, and exits 1', async () => {
  const server = await startReplayServer({ now: Date.parse('2023-05-01T21:03:30Z') });
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-truth-'));
  try {
    const args = [
      'ingest',
      '--symbols',
      'BTCUSDT,NOPEUSDT,MATICUSDC',
      '--start',
      '2023-05-01T00:00Z',
      '--end',
      '2023-05-01T02:00Z',
      '--intervals',
      '1h',
      '--source',
      'rest',
      '--base-url',
      server.url,
      '--archive-url',
      server.archiveUrl,
      '--data-dir',
      path.join(dir, 'data'),
    ];
    let r = await capture([...args, '--dry-run']);
    assert.equal(r.code, 1);
    assert.match(r.out, /will not download NOPEUSDT: .*not listed/);
    assert.match(r.out, /will not download MATICUSDC: .*does not trade/);
    r = await capture([...args, '--json']);
    assert.equal(r.code, 1);
    const last = JSON.parse(r.out.trim().split('\n').at(-1)!) as {
      ok: boolean;
      summary: { skipped: { symbol: string }[]; results: { symbol: string; ok: boolean }[] };
    };
    assert.equal(last.ok, false);
    assert.deepEqual(last.summary.skipped.map((s) => s.symbol).sort(), ['MATICUSDC', 'NOPEUSDT']);
    assert.deepEqual(
      last.summary.results.map((x) => [x.symbol, x.ok]),
      [['BTCUSDT', true]],
    );
  } finally {
    await server.close();
    await rm(dir, { recursive: true });
  }
});

test('cli: export of a damaged dataset fails naming the file and the fix; verify says how to repair', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-truth-'));
  const data = ['--data-dir', path.join(dir, 'data')];
  try {
    const zip = path.join(KLINES, 'hal9000cc', 'ETHUSDT-1m-2022-08-14.zip');
    assert.equal((await capture(['import', zip, '--intervals', '1h', ...data])).code, 0);
    await writeFile(path.join(dir, 'data', 'processed', 'ETHUSDT', '1h.parquet'), 'damaged');
    let r = await capture(['verify', ...data]);
    assert.equal(r.code, 1);
    assert.match(r.out, /Fix: threadx repair --symbol ETHUSDT/);
    r = await capture(['list', ...data]);
    assert.match(r.out, /ETHUSDT\/1h .*corrupt: the file is (truncated|damaged)/);
    r = await capture([
      'export',
      '--symbol',
      'ETHUSDT',
      '--interval',
      '1h',
      '--out',
      path.join(dir, 'x.csv'),
      '--json',
      ...data,
    ]);
    assert.equal(r.code, 3);
    assert.match(
      r.out,
      /processed\/ETHUSDT\/1h\.parquet is damaged.*threadx repair --symbol ETHUSDT/,
    );
    r = await capture(['repair', '--symbol', 'ETHUSDT', ...data]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /repaired, verified/);
    r = await capture([
      'export',
      '--symbol',
      'ETHUSDT',
      '--interval',
      '1h',
      '--out',
      path.join(dir, 'x.csv'),
      ...data,
    ]);
    assert.equal(r.code, 0);
    assert.match(r.out, /wrote 24 1h candle/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('cli: list says "changed since <verify>" for a file edited after the last verify', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-truth-'));
  const data = ['--data-dir', path.join(dir, 'data')];
  try {
    const zip = path.join(KLINES, 'hal9000cc', 'ETHUSDT-1m-2022-08-14.zip');
    assert.equal((await capture(['import', zip, '--intervals', '1h', ...data])).code, 0);
    assert.equal((await capture(['verify', ...data])).code, 0);
    let r = await capture(['list', ...data]);
    assert.match(r.out, /ETHUSDT\/1h .* verified \d{4}-\d\d-\d\dT/);
    const file = path.join(dir, 'data', 'processed', 'ETHUSDT', '1h.parquet');
    await writeFile(file, Buffer.concat([await readFile(file), Buffer.from('x')]));
    r = await capture(['list', ...data]);
    assert.match(r.out, /ETHUSDT\/1h .* changed since \d{4}-\d\d-\d\dT/);
    assert.match(r.out, /ETHUSDT\/1m .* verified \d{4}-/);
    r = await capture(['list', '--json', ...data]);
    const j = JSON.parse(r.out) as { datasets: { id: string; integrity: { state: string } }[] };
    assert.equal(j.datasets.find((d) => d.id === 'ETHUSDT/1h')!.integrity.state, 'changed');
  } finally {
    await rm(dir, { recursive: true });
  }
});
