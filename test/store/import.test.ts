import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync, strToU8, gunzipSync, unzipSync, strFromU8 } from 'fflate';
import { detectInterval } from '../../daemon/engine/parse.ts';
import { Bank } from '../../daemon/store/bank.ts';
import { importFiles } from '../../daemon/jobs/import.ts';
import { updateIndicators } from '../../daemon/jobs/indicators.ts';
import { sha256 } from '../../daemon/store/registry.ts';
import { KLINES, loadKlines } from '../helpers/fixtures.ts';

const tmp = (): Promise<string> => mkdtemp(path.join(tmpdir(), 'threadx-import-'));

test('import: archive zips verified against .CHECKSUM; a corrupted one is rejected, the rest go on', async () => {
  const dir = await tmp();
  const src = path.join(KLINES, 'hal9000cc');
  const good = path.join(dir, 'ETHUSDT-1m-2022-08-14.zip');
  const bad = path.join(dir, 'ETHUSDT-1m-2022-08-15.zip');
  await copyFile(path.join(src, 'ETHUSDT-1m-2022-08-14.zip'), good);
  await copyFile(path.join(src, 'ETHUSDT-1m-2022-08-15.zip'), bad);
  await writeFile(
    `${good}.CHECKSUM`,
    `${sha256(await readFile(good))}  ETHUSDT-1m-2022-08-14.zip\n`,
  );
  await writeFile(`${bad}.CHECKSUM`, `${'0'.repeat(64)}  ETHUSDT-1m-2022-08-15.zip\n`);
  const bank = await Bank.open(path.join(dir, 'data'));
  const s = await importFiles(bank, [good, bad]);
  assert.equal(s.items[0].ok, true);
  assert.equal(s.items[0].checksum, 'verified');
  assert.equal(s.items[1].ok, false);
  assert.equal(s.items[1].checksum, 'failed');
  assert.match(s.items[1].error ?? '', /checksum mismatch/i);
  assert.equal(bank.get('ETHUSDT', '1m')!.rows, 1440, 'only the good day is in the bank');
  await rm(dir, { recursive: true });
});

test('import: spot microsecond timestamps (2025+); futures files with a header go to USD-M, never spot', async () => {
  const dir = await tmp();
  const t0 = Date.UTC(2025, 0, 15);
  const lines = Array.from(
    { length: 3 },
    (_, i) =>
      `${(t0 + i * 60_000) * 1000},100.00000000,101.00000000,99.00000000,100.50000000,1.50000000,${(t0 + i * 60_000 + 59_999) * 1000 + 999},150.75000000,10,0.70000000,70.35000000,0`,
  );
  const zip = path.join(dir, 'BTCUSDT-1m-2025-01-15.zip');
  await writeFile(zip, zipSync({ 'BTCUSDT-1m-2025-01-15.csv': strToU8(lines.join('\n') + '\n') }));
  const bank = await Bank.open(path.join(dir, 'data'));
  const s = await importFiles(bank, [
    zip,
    path.join(KLINES, 'isda_futures_um', 'AVAXUSDT-1m-2026-02.csv.gz'),
  ]);
  assert.equal(s.items[0].ok, true, s.items[0].error);
  const c = await bank.read1m('BTCUSDT');
  assert.deepEqual([...c.openTime], [t0, t0 + 60_000, t0 + 120_000]);
  // A USD-M futures archive (header row, tick-size prices) is never stored as spot: it goes to
  // its futures market.
  assert.equal(s.items[1].ok, true, s.items[1].error);
  assert.equal(s.items[1].symbol, 'AVAXUSDT@um');
  assert.equal(bank.get('AVAXUSDT', '1m'), undefined);
  assert.equal(bank.get('AVAXUSDT@um', '1m')?.rows, 40320);
  await rm(dir, { recursive: true });
});

test('import: bad files get clear errors naming the problem', async () => {
  const dir = await tmp();
  const bank = await Bank.open(path.join(dir, 'data'));
  const garbage = path.join(dir, 'ETHUSDT-1m-2022-08-14.zip');
  await writeFile(garbage, 'not a zip');
  const csv = path.join(dir, 'ETHUSDT-1m-2022-08-16.csv');
  await writeFile(
    csv,
    '1660608000000,1,2,0.5,1.5,10,1660608059999,15,3,5,7,0\n1660608060000,1,0.5,0.9,1.5,10,1660608119999,15,3,5,7,0\n',
  );
  const s = await importFiles(bank, [
    garbage,
    csv,
    path.join(dir, 'missing-file.zip'),
    path.join(KLINES, 'hal9000cc', 'BTCUSDT-1h-2022-09-07.zip'),
  ]);
  assert.match(s.items[0].error ?? '', /not a valid zip/);
  assert.match(s.items[1].error ?? '', /row 1: high 0.5 < max/);
  assert.match(s.items[2].error ?? '', /cannot read .*ENOENT/);
  assert.match(
    s.items[3].error ?? '',
    /holds 1h klines \(detected from its timestamps\): the bank stores 1m only/,
  );
  assert.equal(bank.list().length, 0);
  await rm(dir, { recursive: true });
});

test('import: the interval comes from the timestamps, not the name; non-1m files, and futures files told spot, leave the bank unchanged', async () => {
  const dir = await tmp();
  const bank = await Bank.open(path.join(dir, 'data'));
  await importFiles(bank, [path.join(KLINES, 'hal9000cc', 'ETHUSDT-1m-2022-08-14.zip')]);
  const before = await readFile(path.join(dir, 'data', 'registry.json'), 'utf8');
  // Real Binance files under names that hide what they hold.
  const copy = async (gz: string, name: string): Promise<string> => {
    const out = path.join(dir, name);
    await writeFile(out, gunzipSync(await readFile(path.join(KLINES, gz))));
    return out;
  };
  const hourly = await copy('chainertrader/ETHUSDT-1h-202301-202401.csv.gz', 'eth-data.csv');
  const fiveMin = await copy(
    'freqtrade_andresciancio/ETH_USDT-5m.json.gz',
    'ETHUSDT-1m-2023-04.json',
  );
  const futures = await copy('isda_futures_um/AVAXUSDT-1m-2026-02.csv.gz', 'avax.csv');
  const futuresZip = path.join(KLINES, 'hal9000cc', 'BTCUSDT-1m-2022-09-05.zip');
  // Told spot, futures files are refused.
  const s = await importFiles(bank, [hourly, fiveMin, futures, futuresZip], {
    symbol: 'ETHUSDT',
    market: 'spot',
  });
  assert.deepEqual(
    s.items.map((i) => [i.ok, i.code, i.detectedInterval, i.market]),
    [
      [false, 'WRONG_INTERVAL', '1h', 'spot'],
      [false, 'WRONG_INTERVAL', '5m', 'spot'],
      [false, 'WRONG_MARKET', '1m', 'futures'],
      [false, 'WRONG_MARKET', '1m', 'futures'],
    ],
  );
  assert.match(
    s.items[0].error ?? '',
    /eth-data\.csv holds 1h klines \(detected from its timestamps\)/,
  );
  assert.equal(
    await readFile(path.join(dir, 'data', 'registry.json'), 'utf8'),
    before,
    'bank unchanged',
  );
  assert.equal(bank.get('ETHUSDT', '1m')!.rows, 1440);
  await rm(dir, { recursive: true });
});

test('import: a 1s kline file is refused, naming its step', async () => {
  const dir = await tmp();
  const bank = await Bank.open(path.join(dir, 'data'));
  const t0 = Date.UTC(2024, 0, 15);
  const rows = Array.from(
    { length: 120 },
    (_, i) =>
      `${t0 + i * 1000},1.00000000,1.00000000,1.00000000,1.00000000,1.00000000,${t0 + i * 1000 + 999},1.00000000,1,0.50000000,0.50000000,0`,
  );
  const f = path.join(dir, 'BTCUSDT-1m-2024-01-15.csv');
  await writeFile(f, rows.join('\n') + '\n');
  const s = await importFiles(bank, [f]);
  assert.equal(s.items[0].code, 'WRONG_INTERVAL');
  assert.match(s.items[0].error ?? '', /1 s apart/);
  assert.equal(bank.list().length, 0);
  await rm(dir, { recursive: true });
});

test('parse: detectInterval on real files of every kind', () => {
  const cases: [string, string][] = [
    ['hal9000cc/ETHUSDT-1m-2022-08-14.zip', '1m'],
    ['freqtrade_andresciancio/BTC_USDT-5m.json.gz', '5m'],
    ['freqtrade_andresciancio/BTC_USDT-15m.json.gz', '15m'],
    ['freqtrade_justinbomber/BTC_USDT-4h.json.gz', '4h'],
    ['chainertrader/ETHUSDT-1d-2023-03-18_04-30.excerpt.csv', '1d'],
    ['chainertrader/ETHUSDT-1h-202301-202401.csv.gz', '1h'],
  ];
  for (const [f, iv] of cases) {
    const c = loadKlines(f);
    assert.equal(detectInterval(c.openTime, c.length), iv, f);
  }
  assert.equal(detectInterval(new Float64Array([0]), 1), null, 'one row cannot tell');
});

test('import: every stored timeframe and indicator cache follows the new 1m, asked for or not', async () => {
  const dir = await tmp();
  const bank = await Bank.open(path.join(dir, 'data'));
  const day = (d: string): string => path.join(KLINES, 'hal9000cc', `ETHUSDT-1m-2022-08-${d}.zip`);
  await importFiles(bank, [day('15')], { intervals: ['1h', '1d'] });
  await updateIndicators(bank, {
    symbols: ['ETHUSDT'],
    intervals: ['1h'],
    indicators: [{ name: 'rsi' }],
  });
  assert.equal(bank.get('ETHUSDT', '1h')!.rows, 24);
  // Backwards by a day, without --intervals.
  await importFiles(bank, [day('14')]);
  for (const [iv, rows] of [
    ['1h', 48],
    ['1d', 2],
  ] as const) {
    const e = bank.get('ETHUSDT', iv)!;
    assert.equal(e.rows, rows, iv);
    assert.equal((await bank.read('ETHUSDT', iv)).length, rows, iv);
    assert.equal(e.first, Date.UTC(2022, 7, 14), iv);
  }
  const rsi = bank.getIndicator('ETHUSDT', '1h', 'rsi-14')!;
  assert.equal(rsi.rows, 48);
  assert.equal(rsi.sourceChecksum, bank.datasetChecksum('ETHUSDT', '1h'));
  await rm(dir, { recursive: true });
});

test('import: minutes a checksum-verified archive lacks are absent at the exchange, so its day is whole', async () => {
  const dir = await tmp();
  const src = unzipSync(
    await readFile(path.join(KLINES, 'hal9000cc', 'ETHUSDT-1m-2022-08-14.zip')),
  );
  const csv = strFromU8(Object.values(src)[0]).trim().split('\n').slice(100).join('\n') + '\n';
  const name = 'ETHUSDT-1m-2022-08-14.zip';
  const zip = zipSync({ 'ETHUSDT-1m-2022-08-14.csv': strToU8(csv) });
  const withSum = path.join(dir, 'a', name);
  const without = path.join(dir, 'b', name);
  await mkdir(path.dirname(withSum));
  await mkdir(path.dirname(without));
  await writeFile(withSum, zip);
  await writeFile(`${withSum}.CHECKSUM`, `${sha256(zip)}  ${name}\n`);
  await writeFile(without, zip);
  const a = await Bank.open(path.join(dir, 'da'));
  await importFiles(a, [withSum], { intervals: ['1h', '1d'] });
  assert.deepEqual(a.confirmedEmpty('ETHUSDT'), [
    [Date.UTC(2022, 7, 14), Date.UTC(2022, 7, 14, 1, 40)],
  ]);
  assert.equal(a.get('ETHUSDT', '1d')!.rows, 1);
  assert.equal(a.get('ETHUSDT', '1h')!.rows, 23); // 00:00 had no minute at all: no candle
  const b = await Bank.open(path.join(dir, 'db'));
  await importFiles(b, [without], { intervals: ['1h', '1d'] });
  assert.equal(b.get('ETHUSDT', '1d')!.rows, 0, 'unverified: the first 100 minutes are unknown');
  assert.equal(b.get('ETHUSDT', '1d')!.pending?.length, 1);
  assert.equal(b.get('ETHUSDT', '1h')!.rows, 22);
  await rm(dir, { recursive: true });
});

test('import: consecutive monthly archives are written in groups, each month once, with the bytes a file-by-file import gives', async () => {
  const dir = await tmp();
  const { synth1m } = await import('../helpers/synth.ts');
  const files: string[] = [];
  for (const [y, m] of [
    [2024, 0],
    [2024, 1],
    [2024, 2],
  ]) {
    const start = Date.UTC(y, m, 1);
    const rows = (Date.UTC(y, m + 1, 1) - start) / 60_000;
    const c = synth1m(start, rows, 3 + m);
    const lines: string[] = [];
    // A two-hour outage in February: the archive lacks it, the checksum vouches for the rest.
    for (let i = 0; i < c.length; i++) {
      if (m === 1 && i >= 600 && i < 720) continue;
      const t = c.openTime[i];
      lines.push(
        `${t},${c.open[i]},${c.high[i]},${c.low[i]},${c.close[i]},${c.volume[i]},${t + 59_999},${c.quoteVolume[i]},${c.trades[i]},${c.takerBuyBase[i]},${c.takerBuyQuote[i]},0`,
      );
    }
    const key = `${y}-${String(m + 1).padStart(2, '0')}`;
    const name = `GRPUSDT-1m-${key}.zip`;
    const zip = zipSync({ [`GRPUSDT-1m-${key}.csv`]: strToU8(lines.join('\n') + '\n') });
    await writeFile(path.join(dir, name), zip);
    await writeFile(path.join(dir, `${name}.CHECKSUM`), `${sha256(zip)}  ${name}\n`);
    files.push(path.join(dir, name));
  }
  const together = await Bank.open(path.join(dir, 'a'));
  const s = await importFiles(together, files, { intervals: ['1h'] });
  assert.deepEqual(
    s.items.map((i) => [i.ok, i.written, i.unchanged]),
    [
      [true, 1, 0],
      [true, 1, 0],
      [true, 1, 0],
    ],
  );
  const apart = await Bank.open(path.join(dir, 'b'));
  for (const f of files) await importFiles(apart, [f], { intervals: ['1h'] });
  const sums = (b: Bank): string[][] =>
    b.list().flatMap((d) => d.files.map((f) => [f.path, f.sha256, String(f.rows)]));
  assert.deepEqual(sums(together), sums(apart), 'the same files, byte for byte');
  assert.equal(together.get('GRPUSDT', '1m')!.filledCount, 120, 'the outage is filled');
  // Again: every month unchanged, nothing encoded or written.
  const again = await importFiles(together, files);
  assert.deepEqual(
    again.items.map((i) => [i.ok, i.written, i.unchanged]),
    [
      [true, 0, 1],
      [true, 0, 1],
      [true, 0, 1],
    ],
  );
  await rm(dir, { recursive: true });
});
