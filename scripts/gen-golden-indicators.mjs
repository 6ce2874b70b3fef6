// Generates the indicator golden vectors in test/fixtures/indicators/ with TA-Lib itself (the C
// library bundled by the npm package talib@1.1.6, built with node-gyp into bench/node_modules).
//
//   cd bench && npm install && cd ..
//   node --import tsx scripts/gen-golden-indicators.mjs
//
// tsx is needed only to import the seeded synthetic series from bench/indicators.ts, so that the
// benchmark, the generator and the test share one definition (its sha256 is recorded).
//
// Datasets: a slice of real BTC/USDT 1m around the 2023-03-24 Binance halt (a 72-bar flat
// stretch), real ETH/USDT 1h from 2017, and 200,000 rows of the synthetic series near 1e5,
// sampled (every warm-up row, every 97th row, the first flat stretch, the tail) to keep the
// fixtures small. Every value is written with JSON's shortest round-trip form, NaN as null.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { syntheticOhlc } from '../bench/indicators.ts';

const root = new URL('../', import.meta.url);
const require = createRequire(new URL('../bench/package.json', import.meta.url));
const talib = require('talib');
const talibPkg = require('talib/package.json');
const REFERENCE = `talib@${talibPkg.version} (node binding over the bundled TA-Lib C 0.6.0-dev, default compatibility, no unstable period)`;

/** Default parameters plus one non-default set per indicator. */
const CASES = [
  { name: 'sma', params: { period: 20 } },
  { name: 'sma', params: { period: 5 } },
  { name: 'ema', params: { period: 20 } },
  { name: 'ema', params: { period: 50 } },
  { name: 'rsi', params: { period: 14 } },
  { name: 'rsi', params: { period: 7 } },
  { name: 'macd', params: { fast: 12, slow: 26, signal: 9 } },
  { name: 'macd', params: { fast: 5, slow: 35, signal: 5 } },
  { name: 'bbands', params: { period: 20, k: 2 } },
  { name: 'bbands', params: { period: 10, k: 1.5 } },
  { name: 'atr', params: { period: 14 } },
  { name: 'atr', params: { period: 7 } },
];

/** Runs TA-Lib (on plain arrays: the binding silently misreads typed arrays). */
function runTalib(c, d) {
  const n = d.close.length;
  const base = { startIdx: 0, endIdx: n - 1 };
  const close = Array.from(d.close);
  let r;
  let keys;
  switch (c.name) {
    case 'sma':
    case 'ema':
    case 'rsi':
      r = talib.execute({
        ...base,
        name: c.name.toUpperCase(),
        inReal: close,
        optInTimePeriod: c.params.period,
      });
      keys = { [c.name]: 'outReal' };
      break;
    case 'macd':
      r = talib.execute({
        ...base,
        name: 'MACD',
        inReal: close,
        optInFastPeriod: c.params.fast,
        optInSlowPeriod: c.params.slow,
        optInSignalPeriod: c.params.signal,
      });
      keys = { macd: 'outMACD', signal: 'outMACDSignal', hist: 'outMACDHist' };
      break;
    case 'bbands':
      r = talib.execute({
        ...base,
        name: 'BBANDS',
        inReal: close,
        optInTimePeriod: c.params.period,
        optInNbDevUp: c.params.k,
        optInNbDevDn: c.params.k,
        optInMAType: 0,
      });
      keys = { middle: 'outRealMiddleBand', upper: 'outRealUpperBand', lower: 'outRealLowerBand' };
      break;
    case 'atr':
      r = talib.execute({
        ...base,
        name: 'ATR',
        high: Array.from(d.high),
        low: Array.from(d.low),
        close,
        optInTimePeriod: c.params.period,
      });
      keys = { atr: 'outReal' };
      break;
  }
  if (r.error) throw new Error(`TA-Lib ${c.name}: ${JSON.stringify(r.error)}`);
  const outputs = {};
  for (const [name, key] of Object.entries(keys)) {
    const full = new Float64Array(n).fill(NaN);
    r.result[key].forEach((v, i) => (full[r.begIndex + i] = v));
    outputs[name] = full;
  }
  return { begIndex: r.begIndex, outputs };
}

/**
 * Rows where TA-Lib's Bollinger sigma, recovered as (upper - middle) / k, is off from a two-pass
 * population sigma by more than 1e-10 of the price: TA-Lib's sqrt(E[x^2] - mean^2) cancels
 * catastrophically in flat windows. The test holds those rows to the two-pass reference instead.
 */
function talibUnstableRows(close, period, k, out) {
  const rows = [];
  for (let i = period - 1; i < close.length; i++) {
    let s = 0;
    for (let j = i - period + 1; j <= i; j++) s += close[j];
    const mean = s / period;
    let m2 = 0;
    for (let j = i - period + 1; j <= i; j++) m2 += (close[j] - mean) ** 2;
    const sigma = Math.sqrt(m2 / period);
    const talibSigma = (out.upper[i] - out.middle[i]) / k;
    if (Math.abs(talibSigma - sigma) > 1e-10 * Math.abs(mean)) rows.push(i);
  }
  return rows;
}

function sha256(d) {
  const h = createHash('sha256');
  for (const col of [d.high, d.low, d.close])
    h.update(new Uint8Array(col.buffer, col.byteOffset, col.byteLength));
  return h.digest('hex');
}

const num = (x) => (Number.isNaN(x) ? null : x);

function build(meta, d, sample) {
  const cases = CASES.map((c) => {
    const { begIndex, outputs } = runTalib(c, d);
    const entry = { name: c.name, params: c.params, begIndex, outputs: {} };
    for (const [k, v] of Object.entries(outputs)) {
      entry.outputs[k] = sample ? sample.map((i) => num(v[i])) : Array.from(v, num);
    }
    if (c.name === 'bbands') {
      const unstable = talibUnstableRows(d.close, c.params.period, c.params.k, outputs);
      entry.talibUnstableRows = sample ? unstable.filter((i) => sample.includes(i)) : unstable;
      console.log(
        `  ${meta.id} ${c.name} ${JSON.stringify(c.params)}: TA-Lib sigma unstable on ${unstable.length} rows`,
      );
    }
    return entry;
  });
  return {
    ...meta,
    reference: REFERENCE,
    generator: 'node --import tsx scripts/gen-golden-indicators.mjs',
    length: d.close.length,
    inputSha256: sha256(d),
    rows: sample ?? null,
    cases,
  };
}

function klines(file, start, count) {
  const all = JSON.parse(gunzipSync(readFileSync(new URL(file, root))).toString('utf8'));
  const rows = all.slice(start, start + count);
  if (rows.length !== count) throw new Error(`${file}: wanted ${count} rows from ${start}`);
  return {
    openTime: rows.map((r) => r[0]),
    high: Float64Array.from(rows, (r) => r[2]),
    low: Float64Array.from(rows, (r) => r[3]),
    close: Float64Array.from(rows, (r) => r[4]),
  };
}

const outDir = new URL('test/fixtures/indicators/', root);
mkdirSync(outDir, { recursive: true });

function write(name, obj) {
  const text = JSON.stringify(obj) + '\n';
  writeFileSync(new URL(name, outDir), text);
  console.log(`wrote test/fixtures/indicators/${name} (${(text.length / 1024).toFixed(0)} KiB)`);
}

for (const spec of [
  {
    id: 'btc-usdt-1m',
    file: 'test/fixtures/binance/klines/freqtrade_andresciancio/BTC_USDT-1m.json.gz',
    // 2023-03-23 10:33 UTC onward: includes the 72-bar flat stretch of the 2023-03-24 halt.
    start: 9_373,
    count: 2_000,
  },
  {
    id: 'eth-usdt-1h',
    file: 'test/fixtures/binance/klines/freqtrade_justinbomber/ETH_USDT-1h.json.gz',
    start: 0,
    count: 2_000,
  },
]) {
  const d = klines(spec.file, spec.start, spec.count);
  const meta = {
    id: spec.id,
    description: `Real Binance candles: rows ${spec.start}..${spec.start + spec.count - 1} of ${spec.file} (${new Date(d.openTime[0]).toISOString()} to ${new Date(d.openTime[d.openTime.length - 1]).toISOString()})`,
    input: { kind: 'klines', file: spec.file, start: spec.start, count: spec.count },
  };
  const golden = build(meta, d, null);
  golden.input.high = Array.from(d.high);
  golden.input.low = Array.from(d.low);
  golden.input.close = Array.from(d.close);
  write(`${spec.id}.json`, golden);
}

{
  const rows = 200_000;
  const seed = 20240101;
  const d = syntheticOhlc(rows, seed);
  const sample = new Set();
  for (let i = 0; i < 300; i++) sample.add(i);
  for (let i = 0; i < rows; i += 97) sample.add(i);
  for (let i = 24_990; i < 25_130; i++) sample.add(i);
  for (let i = rows - 100; i < rows; i++) sample.add(i);
  const sorted = [...sample].sort((a, b) => a - b);
  const meta = {
    id: 'synthetic-1e5',
    description: `syntheticOhlc(${rows}, ${seed}) from bench/indicators.ts: prices near 1e5 with cent ticks and 90-bar flat stretches from row 25000 every 50000 rows; outputs sampled at the listed rows`,
    input: { kind: 'synthetic', seed, count: rows },
  };
  write('synthetic-1e5.json', build(meta, d, sorted));
}
