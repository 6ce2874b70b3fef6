/**
 * The 1m-truth fidelity bar: resampling Binance's real 1m klines reproduces Binance's own
 * candles for the same intervals. Prices must match exactly; volumes to the precision of the
 * source files (Freqtrade JSON keeps 10 significant digits, so relative 1e-9).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadKlines } from '../helpers/fixtures.ts';
import { synth1m } from '../helpers/synth.ts';
import { fillGaps } from '../../daemon/engine/gaps.ts';
import { resample, resampleAll, compareCandles } from '../../daemon/engine/resample.ts';
import {
  type Interval,
  DERIVED_INTERVALS,
  bucketStart,
  nextBucketStart,
} from '../../schemas/intervals.ts';
import {
  type Candles,
  type FloatColumn,
  concatCandles,
  sliceCandles,
} from '../../schemas/candles.ts';

interface Case {
  name: string;
  fine: string | string[];
  native: string;
  interval: Interval;
  columns?: readonly FloatColumn[];
  volumeRelTol?: number;
  minCompared: number;
  /** The fine file's last row is final (an archive), not the still-open candle of a download. */
  finalLastRow?: boolean;
}

const OHLCV = ['open', 'high', 'low', 'close', 'volume'] as const;
const ALL12 = [...OHLCV, 'quoteVolume', 'trades', 'takerBuyBase', 'takerBuyQuote'] as const;

const CASES: Case[] = [
  ...(['BTC', 'ETH'] as const).flatMap((s) =>
    (['5m', '15m', '30m', '1h'] as const).map((iv) => ({
      name: `${s} 1m -> ${iv} (2023-03-16..05-01, the 2023-03-24 outage included)`,
      fine: `freqtrade_andresciancio/${s}_USDT-1m.json.gz`,
      native: `freqtrade_andresciancio/${s}_USDT-${iv}.json.gz`,
      interval: iv,
      columns: OHLCV,
      minCompared: { '5m': 13000, '15m': 2800, '30m': 1400, '1h': 700 }[iv],
    })),
  ),
  {
    name: 'ETH 1m -> native 12-column 1h (ChainerTrader), outage hour with the odd close_time',
    fine: 'freqtrade_andresciancio/ETH_USDT-1m.json.gz',
    native: 'chainertrader/ETHUSDT-1h-202301-202401.csv.gz',
    interval: '1h',
    columns: OHLCV,
    minCompared: 1100,
  },
  {
    name: 'ETH 1m -> native 1d (2023-03-18..04-30, the outage day of 1360 minutes)',
    fine: 'freqtrade_andresciancio/ETH_USDT-1m.json.gz',
    native: 'chainertrader/ETHUSDT-1d-2023-03-18_04-30.excerpt.csv',
    interval: '1d',
    columns: OHLCV,
    minCompared: 44,
  },
  {
    name: 'BTC 1m (justinbomber) -> 5m',
    fine: 'freqtrade_justinbomber/BTC_USDT-1m.json.gz',
    native: 'freqtrade_justinbomber/BTC_USDT-5m.json.gz',
    interval: '5m',
    columns: OHLCV,
    minCompared: 8600,
  },
  {
    name: 'BTC 1m (justinbomber) -> 1h (andresciancio), cross-repository',
    fine: 'freqtrade_justinbomber/BTC_USDT-1m.json.gz',
    native: 'freqtrade_andresciancio/BTC_USDT-1h.json.gz',
    interval: '1h',
    columns: OHLCV,
    minCompared: 600,
  },
  {
    name: 'BTC 1m (justinbomber) -> 12-column 1h (ChainerTrader)',
    fine: 'freqtrade_justinbomber/BTC_USDT-1m.json.gz',
    native: 'chainertrader/BTCUSDT-1h-2023-05.csv.gz',
    interval: '1h',
    columns: OHLCV,
    minCompared: 100,
  },
  {
    name: 'ETH 1m data.binance.vision archives -> 1h, all 12 columns',
    fine: ['hal9000cc/ETHUSDT-1m-2022-08-14.zip', 'hal9000cc/ETHUSDT-1m-2022-08-15.zip'],
    native: 'chainertrader/ETHUSDT-1h-2022-08-14_15.excerpt.csv',
    interval: '1h',
    columns: ALL12,
    // Base volumes are exact (sums rounded to Binance's 8 decimals); quote volumes near 1e8
    // keep the float sum's last-bit noise, ~1e-15 relative.
    volumeRelTol: 1e-12,
    minCompared: 48,
    finalLastRow: true,
  },
  ...(['BTC', 'ETH'] as const).flatMap((s) =>
    (['2h', '4h'] as const).map((iv) => ({
      name: `${s} 1h -> ${iv} (2017-08-17..2022-10-25, incl. zero-volume hours and partial buckets)`,
      fine: `freqtrade_justinbomber/${s}_USDT-1h.json.gz`,
      native: `freqtrade_justinbomber/${s}_USDT-${iv}.json.gz`,
      interval: iv,
      columns: OHLCV,
      // 10 significant digits in the files: the largest difference seen is 6.7e-10.
      volumeRelTol: 1e-9,
      minCompared: iv === '2h' ? 22600 : 11300,
    })),
  ),
];

/**
 * The native candles that the fine series fully covers: buckets that open at or after the first
 * fine row and close before the last fine row (the last row of a recorded file was still open).
 */
function comparable(
  fine: Candles,
  native: Candles,
  interval: Interval,
  finalLastRow: boolean,
): Candles {
  const first = fine.openTime[0];
  const last =
    fine.openTime[fine.length - 1] + (finalLastRow ? fine.openTime[1] - fine.openTime[0] : 0);
  let s = 0;
  while (s < native.length && bucketStart(native.openTime[s], interval) < first) s++;
  let e = s;
  while (e < native.length && nextBucketStart(native.openTime[e], interval) <= last) e++;
  return sliceCandles(native, s, e);
}

for (const c of CASES) {
  test(`fidelity: ${c.name}`, () => {
    const files = Array.isArray(c.fine) ? c.fine : [c.fine];
    const fine = concatCandles(files.map(loadKlines));
    const native = comparable(fine, loadKlines(c.native), c.interval, c.finalLastRow ?? false);
    const ours = resample(fine, c.interval);
    const lo = native.openTime[0];
    const hi = native.openTime[native.length - 1];
    let s = 0;
    while (s < ours.length && ours.openTime[s] < lo) s++;
    let e = s;
    while (e < ours.length && ours.openTime[e] <= hi) e++;
    const mine = sliceCandles(ours, s, e);
    const { diffs, total } = compareCandles(native, mine, {
      columns: c.columns,
      volumeRelTol: c.volumeRelTol ?? 1e-9,
    });
    assert.ok(native.length >= c.minCompared, `compared only ${native.length} candles`);
    assert.equal(total, 0, `${total} differences, first: ${JSON.stringify(diffs.slice(0, 5))}`);
  });
}

test('fidelity: the 2023-03-24 outage: no 13:00 hour, a zero-volume 12:00 hour, the day exists', () => {
  const fine = loadKlines('freqtrade_andresciancio/ETH_USDT-1m.json.gz');
  const h = resample(fine, '1h');
  const at = (t: string): number => Array.prototype.indexOf.call(h.openTime, Date.parse(t));
  assert.equal(at('2023-03-24T13:00Z'), -1);
  const noon = at('2023-03-24T12:00Z');
  assert.ok(noon > 0);
  assert.equal(h.volume[noon], 0);
  assert.equal(h.open[noon], h.close[noon]);
  const d = resample(fine, '1d');
  assert.ok(Array.prototype.indexOf.call(d.openTime, Date.parse('2023-03-24T00:00Z')) >= 0);
});

test('fidelity: ETH 2017-09-10 04:00: Binance ignores the zero-volume hour for open and high', () => {
  const fine = loadKlines('freqtrade_justinbomber/ETH_USDT-1h.json.gz');
  const t = Date.parse('2017-09-10T04:00Z');
  const i = Array.prototype.indexOf.call(fine.openTime, t);
  assert.equal(fine.volume[i], 0, 'the 04:00 hour is the real zero-volume filler');
  const h2 = resample(fine, '2h');
  const j = Array.prototype.indexOf.call(h2.openTime, t);
  assert.equal(h2.open[j], 298.62);
});

test('resampleAll: deriving each interval from a finer one equals resampling 1m directly', () => {
  const eth = loadKlines('freqtrade_andresciancio/ETH_USDT-1m.json.gz');
  const all = resampleAll(eth, DERIVED_INTERVALS);
  assert.equal(all.size, DERIVED_INTERVALS.length);
  for (const iv of DERIVED_INTERVALS) {
    const { total, diffs } = compareCandles(resample(eth, iv), all.get(iv)!, {
      volumeRelTol: 1e-12,
    });
    assert.equal(total, 0, `${iv}: ${JSON.stringify(diffs.slice(0, 3))}`);
  }
});

test('fidelity: a fully filled hour (120 flagged minutes over a 2-hour hole) is a flagged candle at every timeframe', () => {
  const day = Date.UTC(2024, 0, 1);
  const c = synth1m(day, 1440, 7);
  // Minutes 10:00..11:59 missing, then filled flat at 09:59's close, as the bank stores them.
  const holed = concatCandles([sliceCandles(c, 0, 600), sliceCandles(c, 720, 1440)]);
  const { candles: m1, filledCount } = fillGaps(holed, 240);
  assert.equal(filledCount, 120);
  const h = resample(m1, '1h');
  assert.equal(h.length, 24, 'every hour is a candle: the filled ones are not a gap');
  const prevClose = c.close[599];
  for (const hour of [10, 11]) {
    const i = h.openTime.indexOf(day + hour * 3_600_000);
    assert.equal(h.filled[i], 1, `${hour}:00 is flagged filled, like its minutes`);
    assert.deepEqual(
      [h.open[i], h.high[i], h.low[i], h.close[i], h.volume[i], h.trades[i]],
      [prevClose, prevClose, prevClose, prevClose, 0, 0],
    );
  }
  // A bucket with real minutes ignores its filled ones: 2h 10:00 is filled, 2h 08:00 is real.
  const h2 = resample(m1, '2h');
  assert.equal(h2.filled[h2.openTime.indexOf(day + 10 * 3_600_000)], 1);
  assert.equal(h2.filled[h2.openTime.indexOf(day + 8 * 3_600_000)], 0);
  const real = resample(holed, '1d');
  const d = resample(m1, '1d');
  assert.equal(compareCandles(real, d).total, 0, 'the day is the real minutes only');
  assert.equal(d.filled[0], 0);
  // The cascade (1m -> 5m -> 15m -> 30m -> 1h -> 2h ...) agrees with resampling 1m directly.
  const all = resampleAll(m1, DERIVED_INTERVALS);
  for (const iv of DERIVED_INTERVALS) {
    const direct = resample(m1, iv);
    const cascaded = all.get(iv)!;
    assert.equal(compareCandles(direct, cascaded, { volumeRelTol: 1e-12 }).total, 0, iv);
    assert.deepEqual(
      [...cascaded.filled.subarray(0, cascaded.length)],
      [...direct.filled.subarray(0, direct.length)],
      iv,
    );
  }
});
