/**
 * The chart spec run through Vega-Lite and Vega under Node, as the webview runs it (compile, the
 * crosshair patch, the rows and signals the page sets): no warning on any timeframe or window, no
 * layer without data, candles at their open time, and the crosshair's rules and tags where the
 * pointer is.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { INTERVALS, type Interval } from '../../schemas/intervals.ts';
import { type ChartMeta, viewDomains, withCrosshair } from '../../webviews/chart/scene.ts';
import {
  DEFAULT_THEME,
  candlestickSpec,
  chartRows,
  gapRows,
  slotMs,
  type SpecOptions,
} from '../../webviews/chart/spec.ts';
import type { ChartData, IndicatorChoice } from '../../webviews/messages.ts';

const T0 = Date.parse('2023-04-17T00:00:00Z');

/** `n` candles of `interval` from T0 (months by the calendar), a random walk, indicators in view. */
function dataset(interval: Interval, n: number, opts: { skip?: number[] } = {}): ChartData {
  const openTime: number[] = [];
  for (let i = 0, t = T0; openTime.length < n; i++) {
    if (!opts.skip?.includes(i)) openTime.push(t);
    t =
      interval === '1M'
        ? Date.UTC(new Date(t).getUTCFullYear(), new Date(t).getUTCMonth() + 1, 1)
        : t + slotMs(interval);
  }
  let p = 30_000;
  const open: number[] = [];
  const close: number[] = [];
  for (let i = 0; i < n; i++) {
    open.push(p);
    p += Math.sin(i * 1.7) * 120 + 15;
    close.push(p);
  }
  const col = (lookback: number, f: (i: number) => number): (number | null)[] =>
    openTime.map((_, i) => (i < lookback ? null : f(i)));
  return {
    seq: 1,
    symbol: 'BTCUSDT',
    interval,
    requestedInterval: interval,
    resampled: false,
    truncated: false,
    openTime,
    open,
    high: open.map((o, i) => Math.max(o, close[i]) + 40),
    low: open.map((o, i) => Math.min(o, close[i]) - 40),
    close,
    volume: open.map((_, i) => 100 + (i % 7) * 30),
    filled: open.map(() => 0),
    indicators: [
      { key: 'sma_20', name: 'sma', outputs: { value: col(19, (i) => close[i] - 10) } },
      {
        key: 'bbands_20_2',
        name: 'bbands',
        outputs: {
          upper: col(19, (i) => close[i] + 200),
          middle: col(19, (i) => close[i]),
          lower: col(19, (i) => close[i] - 200),
        },
      },
      { key: 'rsi_14', name: 'rsi', outputs: { value: col(14, (i) => 40 + (i % 20)) } },
      {
        key: 'macd_12_26_9',
        name: 'macd',
        outputs: {
          macd: col(33, (i) => Math.sin(i / 5) * 30),
          signal: col(33, (i) => Math.sin(i / 6) * 25),
          hist: col(33, (i) => Math.sin(i / 5) * 5),
        },
      },
      { key: 'atr_14', name: 'atr', outputs: { value: col(14, () => 80) } },
    ],
    extent: [openTime[0], openTime[n - 1] + slotMs(interval)],
  };
}

const overlays: IndicatorChoice[] = [
  { name: 'sma', params: { period: 20 } },
  { name: 'bbands', params: { period: 20, k: 2 } },
];
const panels: IndicatorChoice[] = [
  { name: 'rsi', params: { period: 14 } },
  { name: 'macd', params: { fast: 12, slow: 26, signal: 9 } },
  { name: 'atr', params: { period: 14 } },
];

/** A Vega logger that keeps every warning. */
function recorder(): { logger: vega.LoggerInterface; warnings: string[] } {
  const warnings: string[] = [];
  const base = vega.logger(vega.Warn);
  const logger = Object.create(base) as vega.LoggerInterface;
  logger.warn = (...args: readonly unknown[]) => {
    warnings.push(args.map(String).join(' '));
    return logger;
  };
  return { logger, warnings };
}

/** The page's drawing of `data` over `window`, headless: the view and every warning on the way. */
async function draw(
  data: ChartData,
  window: [number, number],
  options: Partial<SpecOptions> = {},
): Promise<{ view: vega.View; meta: ChartMeta; warnings: string[] }> {
  const spec = candlestickSpec(data, {
    width: 700,
    theme: DEFAULT_THEME,
    overlays,
    panels,
    symbol: data.symbol,
    ...options,
  });
  const { logger, warnings } = recorder();
  const vg = withCrosshair(vl.compile(spec as never, { logger }).spec as never);
  const view = new vega.View(vega.parse(vg as never), { renderer: 'none', logger });
  const meta = spec.usermeta as ChartMeta;
  const rows = chartRows(data);
  if (meta.gaps) view.data('gaps', gapRows(data));
  for (const [k, v] of Object.entries(viewDomains(rows, window, meta.domains))) view.signal(k, v);
  view.data('rows', rows).signal('xmin', window[0]).signal('xmax', window[1]);
  await view.runAsync();
  return { view, meta, warnings };
}

/** The text of the marks named `name` in the view's SVG. */
async function texts(view: vega.View, name: string): Promise<string[]> {
  const svg = await view.toSVG();
  const g = new RegExp(`class="[^"]*\\b${name}\\b[^"]*"[^>]*>(.*?)</g>`).exec(svg)?.[1] ?? '';
  return [...g.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

describe('the chart under Vega', () => {
  it('draws every timeframe and window without one Vega warning', async () => {
    for (const iv of INTERVALS) {
      const data = dataset(iv, 120);
      const s = slotMs(iv);
      const last = data.openTime[data.openTime.length - 1];
      for (const window of [
        [data.openTime[0] - 2 * s, data.openTime[0] + 40 * s], // the start: indicators not yet
        [last - 60 * s, last + 3 * s], // the latest candles
        [last + 10 * s, last + 70 * s], // past the data: nothing in view
      ] as [number, number][]) {
        const { view, warnings } = await draw(data, window);
        // The pointer on each panel, and away.
        for (const g of ['price_panel_group', 'volume_panel_group', 'panel_1_group']) {
          view.signal('cross', { g, y: 30 });
          await view.runAsync();
        }
        view.signal('cross', null);
        await view.runAsync();
        assert.deepEqual(
          warnings,
          [],
          `${iv} over ${window.map((t) => new Date(t).toISOString())}`,
        );
      }
    }
  });

  it('is quiet with gaps, outages, filled and flat candles in the load but not in view', async () => {
    const base = dataset('1h', 200, { skip: [10, 11, 30] });
    const data: ChartData = {
      ...base,
      filled: base.open.map((_, i) => (i === 5 ? 1 : 0)),
      close: base.close.map((c, i) => (i === 6 ? base.open[i] : c)),
      outages: [[base.openTime[27] + 3_600_000, base.openTime[28]]], // the missing 30th hour
    };
    const last = data.openTime[data.openTime.length - 1];
    const { meta, warnings } = await draw(data, [last - 50 * 3_600_000, last]);
    assert.ok(meta.gaps, 'the gaps are drawn');
    assert.deepEqual(warnings, []);
    // The layers are drawn (in the spec) though nothing of theirs is in the window.
    const spec = JSON.stringify(
      candlestickSpec(data, { width: 700, theme: DEFAULT_THEME, overlays, panels, symbol: 'X' }),
    );
    for (const name of ['gaps', 'outages', 'filled_marks', 'flat'])
      assert.ok(spec.includes(`"name":"${name}"`), name);
  });

  it('leaves out the layers with nothing to draw', async () => {
    const data = dataset('1h', 60);
    const spec = JSON.stringify(
      candlestickSpec(data, { width: 700, theme: DEFAULT_THEME, overlays, panels, symbol: 'X' }),
    );
    for (const name of ['"gaps"', '"outages"', '"filled_marks"', '"flat"', '"marks_legend"'])
      assert.ok(!spec.includes(`"name":${name}`), `${name} has no data: not in the spec`);
    // Every layer left draws from the candles or from values of its own.
    const layers = (
      JSON.parse(spec) as {
        vconcat: { layer: { name: string; data?: { values?: unknown[] } }[] }[];
      }
    ).vconcat.flatMap((v) => v.layer);
    for (const l of layers) {
      if (l.data) assert.ok(l.data.values?.length, `${l.name} has values`);
    }
  });

  it('draws each candle on its open time, for every timeframe', async () => {
    for (const iv of INTERVALS) {
      const data = dataset(iv, 30);
      for (const r of chartRows(data)) {
        assert.equal(r.xm, r.t, `${iv}: the candle at its open time`);
        assert.equal(
          ((r.x0 as number) + (r.x1 as number)) / 2,
          r.t,
          `${iv}: the body centred on it`,
        );
      }
    }
    // On 2h, the 02:00 candle's wick is on the 02:00 tick: where the x scale puts 02:00.
    const data = dataset('2h', 40);
    const t = data.openTime[1];
    assert.equal(new Date(t).toISOString(), '2023-04-17T02:00:00.000Z');
    const { view } = await draw(data, [data.openTime[0] - 3_600_000, data.openTime[20]]);
    const x = (view.scale('x') as (v: number) => number)(t);
    const svg = await view.toSVG();
    const wick = /class="[^"]*wicks_marks[^"]*"[^>]*>(.*?)<\/g>/.exec(svg)?.[1] ?? '';
    const xs = [...wick.matchAll(/translate\(([\d.]+),/g)].map((m) => Number(m[1]));
    assert.ok(
      xs.some((v) => Math.abs(v - x) < 0.01),
      `a wick at x=${x} (02:00): ${xs.slice(0, 4)}`,
    );
  });

  it('crosshair: the rule and value tag at the pointer height in its panel only, the time tag on the axis', async () => {
    const data = dataset('1h', 120);
    const last = data.openTime[data.openTime.length - 1];
    const { view } = await draw(data, [last - 60 * 3_600_000, last + 3_600_000]);
    const y = view.scale('price_panel_y') as ((v: number) => number) & {
      invert(y: number): number;
    };
    view.signal('cross', { g: 'price_panel_group', y: 100 });
    await view.runAsync();
    const price = y.invert(100);
    const [tag] = await texts(view, 'price_panel_ytag');
    assert.equal(Number(tag.replaceAll(',', '')).toPrecision(6), price.toPrecision(6), tag);
    assert.deepEqual(await texts(view, 'volume_panel_ytag'), [], 'no tag on the volume panel');
    // The same in an indicator panel: RSI's tag is its value at the pointer.
    view.signal('cross', { g: 'panel_1_group', y: 40 });
    await view.runAsync();
    const rsi = (view.scale('panel_1_y') as { invert(y: number): number }).invert(40);
    assert.deepEqual(await texts(view, 'panel_1_ytag'), [rsi.toFixed(2)]);
    assert.deepEqual(await texts(view, 'price_panel_ytag'), []);
    // The hovered candle's open time on the time axis (the bottom panel, ATR's).
    view.data('hover_store', [
      {
        unit: 'concat_0',
        fields: [{ field: 'xm', channel: 'x', type: 'E' }],
        values: [data.openTime[100]],
      },
    ]);
    await view.runAsync();
    assert.equal(new Date(data.openTime[100]).toISOString(), '2023-04-21T04:00:00.000Z');
    assert.deepEqual(await texts(view, 'time_tag'), ['Fri 21 Apr 2023  04:00']);
  });

  it('fits each panel to the candles in view', () => {
    const data = dataset('1h', 120);
    const rows = chartRows(data);
    const spec = candlestickSpec(data, {
      width: 700,
      theme: DEFAULT_THEME,
      overlays,
      panels,
      symbol: 'X',
    });
    const w: [number, number] = [data.openTime[50], data.openTime[80]];
    const d = viewDomains(rows, w, (spec.usermeta as ChartMeta).domains);
    const inView = rows.filter((r) => (r.x1 as number) > w[0] && (r.x0 as number) < w[1]);
    const lo = Math.min(
      ...inView.map((r) => Math.min(r.l as number, r['bbands_20_2.lower'] as number)),
    );
    const hi = Math.max(
      ...inView.map((r) => Math.max(r.h as number, r['bbands_20_2.upper'] as number)),
    );
    assert.ok(d.price_domain[0] < lo && d.price_domain[0] > lo - (hi - lo) * 0.1, 'room below');
    assert.ok(d.price_domain[1] > hi && d.price_domain[1] < hi + (hi - lo) * 0.1, 'room above');
    assert.deepEqual(d.panel_1_domain, [0, 100], 'RSI on 0-100');
    assert.ok(d.panel_2_domain[0] < 0 && d.panel_2_domain[1] > 0, 'MACD around 0');
    // Nothing in view: a domain all the same, not an infinite one.
    const none = viewDomains(rows, [0, 1], (spec.usermeta as ChartMeta).domains);
    assert.deepEqual(none.price_domain, [0, 1]);
  });
});
