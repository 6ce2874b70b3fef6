/**
 * The candlestick chart as a Vega-Lite spec, built from the daemon's columns: candles (wick rules
 * and body rects), a volume panel, overlays (SMA, EMA, Bollinger Bands) and panels (RSI, MACD,
 * ATR), filled candles marked with a triangle, and gaps shown as breaks. No DOM, so it is tested
 * under plain Node.
 */
import { intervalMs, type Interval } from '../../schemas/intervals.ts';
import type { ChartData, IndicatorChoice } from '../messages.ts';

export interface ChartTheme {
  foreground: string;
  grid: string;
  up: string;
  down: string;
  filled: string;
  lines: string[];
  font: string;
}

export const DEFAULT_THEME: ChartTheme = {
  foreground: '#cccccc',
  grid: '#3c3c3c',
  up: '#26a69a',
  down: '#ef5350',
  filled: '#cca700',
  lines: ['#3794ff', '#b180d7', '#d18616', '#89d185', '#f14c4c'],
  font: 'sans-serif',
};

export type Row = Record<string, number | null | string>;

/** Width of one candle slot: the served interval, or the median step for months. */
function step(data: ChartData): number {
  if (data.interval !== '1M') return intervalMs(data.interval as Interval);
  return 30 * 86_400_000;
}

/** One row per candle, with the drawing coordinates and every indicator output as a column. */
export function chartRows(data: ChartData): Row[] {
  const s = step(data);
  const rows: Row[] = new Array<Row>(data.openTime.length);
  for (let i = 0; i < data.openTime.length; i++) {
    const t = data.openTime[i];
    const row: Row = {
      t,
      x0: t + s * 0.12,
      x1: t + s * 0.88,
      xm: t + s * 0.5,
      o: data.open[i],
      h: data.high[i],
      l: data.low[i],
      c: data.close[i],
      v: data.volume[i],
      f: data.filled[i] ?? 0,
      dir: data.close[i] >= data.open[i] ? 'up' : 'down',
    };
    for (const ind of data.indicators) {
      for (const [out, col] of Object.entries(ind.outputs))
        row[`${ind.key}.${out}`] = col[i] ?? null;
    }
    rows[i] = row;
  }
  return rows;
}

export interface SpecOptions {
  width: number;
  theme: ChartTheme;
  overlays: IndicatorChoice[];
  panels: IndicatorChoice[];
  /** The x domain to show (the visible range after a zoom). */
  domain?: [number, number];
}

const field = (key: string, out: string): string => `${key}\\.${out}`;

function keyOf(data: ChartData, c: IndicatorChoice): string | undefined {
  const prefix = c.name;
  const vals = Object.values(c.params).join('_');
  return (
    data.indicators.find(
      (i) =>
        i.name === prefix &&
        (vals === '' || i.key === `${prefix}_${vals}` || i.key.startsWith(`${prefix}_${vals}`)),
    )?.key ?? data.indicators.find((i) => i.name === prefix)?.key
  );
}

/** The full Vega-Lite spec (a vconcat of the price panel and the lower panels, x shared). */
export function candlestickSpec(data: ChartData, opts: SpecOptions): Record<string, unknown> {
  const { theme } = opts;
  const color = {
    field: 'dir',
    type: 'nominal',
    scale: { domain: ['up', 'down'], range: [theme.up, theme.down] },
    legend: null,
  };
  const x = (f: string, title: string | null = null, axis = false): Record<string, unknown> => ({
    field: f,
    type: 'temporal',
    title,
    scale: opts.domain ? { domain: opts.domain } : {},
    axis: axis
      ? { format: '%Y-%m-%d %H:%M', labelOverlap: true, tickCount: 6 }
      : { labels: false, ticks: false, title: null },
  });
  const tooltip = [
    {
      field: 't',
      type: 'temporal',
      title: 'open (UTC)',
      format: '%Y-%m-%d %H:%M',
      scale: undefined,
    },
    { field: 'o', type: 'quantitative', title: 'open', format: ',.8~g' },
    { field: 'h', type: 'quantitative', title: 'high', format: ',.8~g' },
    { field: 'l', type: 'quantitative', title: 'low', format: ',.8~g' },
    { field: 'c', type: 'quantitative', title: 'close', format: ',.8~g' },
    { field: 'v', type: 'quantitative', title: 'volume', format: ',.6~g' },
    { field: 'f', type: 'quantitative', title: 'filled' },
  ].map(({ scale: _s, ...t }) => t);
  const price: Record<string, unknown>[] = [
    {
      name: 'wicks',
      mark: { type: 'rule', strokeWidth: 1 },
      params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }],
      encoding: {
        x: x('xm'),
        y: { field: 'l', type: 'quantitative', scale: { zero: false }, title: data.symbol },
        y2: { field: 'h' },
        color,
      },
    },
    {
      name: 'candles',
      mark: { type: 'rect' },
      encoding: {
        x: x('x0'),
        x2: { field: 'x1' },
        y: { field: 'o', type: 'quantitative' },
        y2: { field: 'c' },
        color,
        tooltip,
      },
    },
  ];
  let li = 0;
  for (const o of opts.overlays) {
    const key = keyOf(data, o);
    if (!key) continue;
    const ind = data.indicators.find((i) => i.key === key)!;
    const outs = Object.keys(ind.outputs);
    if (o.name === 'bbands') {
      const upper = outs.find((k) => /upper/i.test(k)) ?? outs[0];
      const lower = outs.find((k) => /lower/i.test(k)) ?? outs[outs.length - 1];
      const middle = outs.find((k) => /middle|mid/i.test(k));
      price.unshift({
        name: 'bbands_band',
        mark: { type: 'area', opacity: 0.12, color: theme.lines[2] },
        encoding: {
          x: x('xm'),
          y: { field: field(key, lower), type: 'quantitative' },
          y2: { field: field(key, upper) },
        },
      });
      for (const out of [upper, lower, middle].filter((v): v is string => Boolean(v))) {
        price.push({
          name: `overlay_${key}_${out}`.replace(/[^A-Za-z0-9_]/g, '_'),
          mark: {
            type: 'line',
            strokeWidth: 1,
            color: theme.lines[2],
            opacity: out === middle ? 0.6 : 0.9,
          },
          encoding: { x: x('xm'), y: { field: field(key, out), type: 'quantitative' } },
        });
      }
      continue;
    }
    const out = outs[0];
    price.push({
      name: `overlay_${key}`.replace(/[^A-Za-z0-9_]/g, '_'),
      mark: { type: 'line', strokeWidth: 1.5, color: theme.lines[li++ % theme.lines.length] },
      encoding: {
        x: x('xm'),
        y: { field: field(key, out), type: 'quantitative' },
        tooltip: [{ field: field(key, out), type: 'quantitative', title: key, format: ',.8~g' }],
      },
    });
  }
  // Filled candles (synthesised over short gaps) get a marker under the candle.
  price.push({
    name: 'filled_marks',
    transform: [{ filter: 'datum.f == 1' }],
    mark: { type: 'point', shape: 'triangle-up', filled: true, size: 40, color: theme.filled },
    encoding: {
      x: x('xm'),
      y: { field: 'l', type: 'quantitative' },
      tooltip: [{ field: 't', type: 'temporal', title: 'filled candle', format: '%Y-%m-%d %H:%M' }],
    },
  });

  const panels: Record<string, unknown>[] = [
    {
      name: 'volume',
      height: 70,
      mark: { type: 'rect', opacity: 0.7 },
      encoding: {
        x: x('x0', null, opts.panels.length === 0),
        x2: { field: 'x1' },
        y: {
          field: 'v',
          type: 'quantitative',
          title: 'volume',
          axis: { format: '~s', tickCount: 3 },
        },
        color,
        tooltip: [{ field: 'v', type: 'quantitative', title: 'volume', format: ',.6~g' }],
      },
    },
  ];
  opts.panels.forEach((p, i) => {
    const key = keyOf(data, p);
    if (!key) return;
    const ind = data.indicators.find((d) => d.key === key)!;
    const outs = Object.keys(ind.outputs);
    const last = i === opts.panels.length - 1;
    const layers: Record<string, unknown>[] = [];
    if (p.name === 'rsi') {
      layers.push(
        {
          name: `rsi_bounds_${i}`,
          data: { values: [{ y: 30 }, { y: 70 }] },
          mark: { type: 'rule', strokeDash: [3, 3], color: theme.grid },
          encoding: { y: { field: 'y', type: 'quantitative' } },
        },
        {
          name: `panel_${key}`.replace(/[^A-Za-z0-9_]/g, '_'),
          mark: { type: 'line', strokeWidth: 1.2, color: theme.lines[1] },
          encoding: {
            x: x('xm', null, last),
            y: {
              field: field(key, outs[0]),
              type: 'quantitative',
              title: key,
              scale: { domain: [0, 100] },
            },
            tooltip: [
              { field: field(key, outs[0]), type: 'quantitative', title: key, format: '.2f' },
            ],
          },
        },
      );
    } else if (p.name === 'macd') {
      const hist = outs.find((o) => /hist/i.test(o));
      const signal = outs.find((o) => /signal/i.test(o));
      const macd = outs.find((o) => o !== hist && o !== signal) ?? outs[0];
      if (hist) {
        layers.push({
          name: `panel_${key}_hist`.replace(/[^A-Za-z0-9_]/g, '_'),
          mark: { type: 'rect', opacity: 0.6 },
          encoding: {
            x: x('x0', null, last),
            x2: { field: 'x1' },
            y: { field: field(key, hist), type: 'quantitative', title: key },
            y2: { datum: 0 },
            color: {
              condition: { test: `datum['${key}.${hist}'] >= 0`, value: theme.up },
              value: theme.down,
            },
          },
        });
      }
      for (const [out, c] of [
        [macd, theme.lines[0]],
        [signal, theme.lines[3]],
      ] as const) {
        if (!out) continue;
        layers.push({
          name: `panel_${key}_${out}`.replace(/[^A-Za-z0-9_]/g, '_'),
          mark: { type: 'line', strokeWidth: 1.2, color: c },
          encoding: {
            x: x('xm', null, last && !hist),
            y: { field: field(key, out), type: 'quantitative', title: key },
            tooltip: [
              {
                field: field(key, out),
                type: 'quantitative',
                title: `${key} ${out}`,
                format: '.4~g',
              },
            ],
          },
        });
      }
    } else {
      layers.push({
        name: `panel_${key}`.replace(/[^A-Za-z0-9_]/g, '_'),
        mark: { type: 'line', strokeWidth: 1.2, color: theme.lines[4] },
        encoding: {
          x: x('xm', null, last),
          y: { field: field(key, outs[0]), type: 'quantitative', title: key },
        },
      });
    }
    panels.push({ height: 80, layer: layers });
  });

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: chartRows(data) },
    background: null,
    autosize: { type: 'fit-x', contains: 'padding' },
    config: {
      view: { stroke: theme.grid },
      axis: {
        labelColor: theme.foreground,
        titleColor: theme.foreground,
        gridColor: theme.grid,
        domainColor: theme.grid,
        tickColor: theme.grid,
        labelFont: theme.font,
        titleFont: theme.font,
      },
      concat: { spacing: 6 },
    },
    spacing: 6,
    resolve: { scale: { x: 'shared' } },
    vconcat: [
      { name: 'price', width: opts.width, height: 300, layer: price },
      ...panels.map((p) => ({ width: opts.width, ...p })),
    ],
  };
}
