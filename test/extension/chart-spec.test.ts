import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as vl from 'vega-lite';
import { DEFAULT_THEME, candlestickSpec, chartRows } from '../../webviews/chart/spec.ts';
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
      domain: [0, 2 * H],
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
    ]) {
      assert.ok(compiled.includes(`"${name}"`), name);
    }
  });

  it('leaves out indicators the daemon did not send', () => {
    const spec = candlestickSpec(
      { ...data, indicators: [] },
      {
        width: 600,
        theme: DEFAULT_THEME,
        overlays: [{ name: 'ema', params: { period: 20 } }],
        panels: [{ name: 'rsi', params: { period: 14 } }],
      },
    );
    assert.equal((spec.vconcat as unknown[]).length, 2, 'price and volume only');
    vl.compile(spec as never);
  });
});
