import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as vl from 'vega-lite';
import {
  DEFAULT_THEME,
  candlestickSpec,
  chartRows,
  displayInterval,
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
    assert.equal(rows[0].xm, H / 2);
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
      'flat_marks',
      'price_vrule_marks',
      'price_hrule_marks',
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
    assert.deepEqual(gaps, [{ g0: 2 * H, g1: 4 * H, n: 2 }]);
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
