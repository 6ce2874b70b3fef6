import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as vl from 'vega-lite';
import {
  DEFAULT_THEME,
  candlestickSpec,
  chartRows,
  displayInterval,
  failedReadText,
  formatVolume,
  gapRows,
} from '../../webviews/chart/spec.ts';
import type { ChartData } from '../../webviews/messages.ts';

const H = 3_600_000;
const data: ChartData = {
  seq: 1,
  symbol: 'BTCUSDC',
  interval: '1h',
  requestedInterval: '1h',
  resampled: false,
  truncated: false,
  openTime: [0, H, 2 * H],
  open: [10, 11, 9],
  high: [12, 12, 10],
  low: [9, 10, 8],
  close: [11, 9, 9.5],
  volume: [1, 2, 3],
  filled: [0, 1, 0],
  indicators: [
    { key: 'sma_20', name: 'sma', outputs: { value: [null, 10.5, 10] } },
    { key: 'rsi_14', name: 'rsi', outputs: { value: [null, null, 40] } },
    {
      key: 'macd_12_26_9',
      name: 'macd',
      outputs: { macd: [null, 1, 2], signal: [null, 0.5, 1], hist: [null, 0.5, 1] },
    },
    {
      key: 'bbands_20_2',
      name: 'bbands',
      outputs: { upper: [null, 12, 12], middle: [null, 10, 10], lower: [null, 8, 8] },
    },
  ],
  extent: [0, 2 * H],
};

describe('candlestick spec', () => {
  it('lays out one row per candle with its slot and direction', () => {
    const rows = chartRows(data);
    assert.equal(rows.length, 3);
    assert.equal(rows[0].dir, 'up');
    assert.equal(rows[1].dir, 'down');
    assert.equal(rows[1].f, 1);
    assert.equal(rows[0].xm, 0, 'drawn at its open time');
    assert.ok((rows[0].x0 as number) < (rows[0].x1 as number));
    assert.equal(rows[2]['macd_12_26_9.hist'], 1);
    assert.deepEqual(
      rows.map((r) => r.flat),
      [0, 0, 0],
    );
    const flat = chartRows({ ...data, close: [10, 9, 9.5] });
    assert.equal(flat[0].flat, 1, 'open = close is a flat candle, drawn as a tick');
    assert.ok(Math.abs((rows[1].chg as number) - ((9 - 11) / 11) * 100) < 1e-9, 'change %');
  });

  it('compiles with Vega-Lite, with overlays and panels, marks named for tests', () => {
    const spec = candlestickSpec(data, {
      width: 600,
      theme: DEFAULT_THEME,
      overlays: [
        { name: 'sma', params: { period: 20 } },
        { name: 'bbands', params: { period: 20, k: 2 } },
      ],
      panels: [
        { name: 'rsi', params: { period: 14 } },
        { name: 'macd', params: { fast: 12, slow: 26, signal: 9 } },
      ],
      symbol: 'BTCUSDC',
    });
    const compiled = JSON.stringify(vl.compile(spec as never).spec);
    for (const name of [
      'candles_marks',
      'wicks_marks',
      'volume_marks',
      'filled_marks_marks',
      'overlay_sma_20_marks',
      'panel_rsi_14_marks',
      'panel_macd_12_26_9_hist_marks',
      'bbands_band_marks',
      'price_vrule_marks',
      'volume_vrule_marks',
      'panel_1_vrule_marks',
      'readout_marks',
      'legend_0_marks',
    ]) {
      assert.ok(compiled.includes(`"${name}"`), name);
    }
  });

  it('marks the gaps between loaded candles', () => {
    const gaps = gapRows({ ...data, openTime: [0, H, 4 * H], close: [11, 9, 9.5] });
    // The band covers the missing candles' slots, each centred on its open time (02:00, 03:00).
    assert.deepEqual(gaps, [{ g0: 2 * H, g1: 4 * H, n: 2, o: 0, gx0: 1.5 * H, gx1: 3.5 * H }]);
  });

  it('marks an exchange outage apart from a gap in the bank, and names both in the key', () => {
    const withHoles = {
      ...data,
      openTime: [0, H, 3 * H, 6 * H],
      open: [10, 10, 10, 10],
      high: [11, 11, 11, 11],
      low: [9, 9, 9, 9],
      close: [10, 10, 10, 10],
      volume: [1, 1, 1, 1],
      filled: [0, 0, 0, 0],
      // The exchange has no candle for 04:00-05:00: an outage; 02:00 is missing from the bank.
      outages: [[4 * H + 5 * 60_000, 5 * H] as [number, number]],
    };
    const gaps = gapRows(withHoles);
    assert.deepEqual(gaps, [
      { g0: 2 * H, g1: 3 * H, n: 1, o: 0, gx0: 1.5 * H, gx1: 2.5 * H },
      { g0: 4 * H, g1: 6 * H, n: 2, o: 1, gx0: 3.5 * H, gx1: 5.5 * H },
    ]);
    const spec = JSON.stringify(
      candlestickSpec(withHoles, {
        width: 600,
        theme: DEFAULT_THEME,
        symbol: 'BTCUSDC',
        overlays: [],
        panels: [],
      }),
    );
    assert.ok(spec.includes('"outages"'), 'an outage layer');
    assert.ok(spec.includes('gap (not in the bank)'));
    assert.ok(spec.includes('exchange outage (no candles at Binance)'));
  });

  it('says "not enough candles" in a panel whose indicator has no value yet', () => {
    const spec = candlestickSpec(
      { ...data, indicators: [] },
      {
        width: 600,
        theme: DEFAULT_THEME,
        symbol: 'BTCUSDC',
        overlays: [{ name: 'ema', params: { period: 20 } }],
        panels: [{ name: 'macd', params: { fast: 12, slow: 26, signal: 9 } }],
      },
    );
    assert.equal((spec.vconcat as unknown[]).length, 3, 'price, volume and the MACD panel');
    assert.match(JSON.stringify(spec), /Not enough candles for MACD\(12,26,9\)/);
    vl.compile(spec as never);
  });

  it('formats volume in K, M and B and picks a coarser interval only past the width', () => {
    assert.equal(formatVolume(0), '0');
    assert.equal(formatVolume(0.06), '0.06');
    assert.equal(formatVolume(1234), '1.234K');
    assert.equal(formatVolume(5_600_000), '5.6M');
    assert.equal(formatVolume(7e9), '7B');
    assert.equal(displayInterval('1h', 300 * H, 400), '1h');
    assert.equal(displayInterval('1h', 1000 * H, 400), '3h');
    assert.equal(displayInterval('1m', 365 * 24 * H, 600), '1d');
  });
});

describe('a failed read', () => {
  const minute = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
  const W: [number, number] = [Date.parse('2023-04-30T18:00Z'), Date.parse('2023-04-30T20:00Z')];

  it('names what is shown, nothing, under the timeframe the dropdown names', () => {
    // Stepping 1h → 1m over a damaged month: the 1h candles are not left under "1m".
    const f = failedReadText(
      {
        symbol: 'BTCUSDT',
        chosen: '1m',
        interval: '1m',
        window: W,
        message: 'BTCUSDT/1m cannot be read: processed/BTCUSDT/1m/2023-04.parquet is damaged.',
      },
      minute,
    );
    assert.equal(f.title, 'BTCUSDT · 1m · no candles shown');
    assert.equal(
      f.shown,
      'Nothing is drawn: the 1m candles for 2023-04-30 18:00 → 2023-04-30 20:00 UTC could not be read.',
    );
    assert.match(f.detail, /2023-04\.parquet is damaged/);
    assert.doesNotMatch(`${f.title} ${f.shown}`, /1h/, 'no word of the timeframe drawn before');
  });

  it('says when the read was of a coarser interval than the one chosen', () => {
    const f = failedReadText(
      { symbol: 'ETHUSDT', chosen: '15m', interval: '2h', message: 'The daemon is not running.' },
      minute,
    );
    assert.equal(f.title, 'ETHUSDT · 15m · no candles shown');
    assert.equal(
      f.shown,
      'Nothing is drawn: the 15m candles (drawn as 2h at this zoom) could not be read.',
    );
  });
});
