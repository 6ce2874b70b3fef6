/**
 * The candlestick chart as a Vega-Lite spec: a vconcat of panels sharing one UTC time axis (shown
 * once, under the last panel). Price: wick rules, body rects, a tick for flat candles, overlays
 * (SMA, EMA, Bollinger Bands) with their legend, filled candles and gaps marked. Then volume and
 * the indicator panels (RSI, MACD, ATR).
 *
 * A candle is drawn at its open time, as a trading chart does: the body is centred on the open
 * time, so the 02:00 candle of a 2h chart sits on the 02:00 tick.
 *
 * The crosshair works as TradingView's. One `hover` point selection (`nearest`, `on: pointermove`,
 * projected on x) shared by every panel snaps a vertical rule to the candle under the pointer in
 * each panel, and text marks print that candle (UTC time, O H L C, change %, volume) and each
 * indicator's value; with no pointer they show the last candle in view. The horizontal rule
 * follows the pointer's height in the panel under it, with the value there in a tag on that
 * panel's axis, and the candle's open time has a tag on the time axis: Vega-Lite has no parameter
 * driven by the pointer's position, so `withCrosshair` (scene.ts) adds those signals and marks to
 * the compiled Vega spec (vega-embed's `patch`).
 *
 * Every y scale has an explicit domain set from the candles in view (`viewDomains` in scene.ts),
 * as the x scale is set from the window: no scale is fitted to the data by Vega, so a layer with
 * nothing in view (no gap, no filled candle, no pointer) never makes Vega warn of an infinite
 * extent. Layers whose data is empty in the whole load (gaps, outages, filled and flat candles)
 * are left out.
 *
 * The rows come in through the named data source `rows`; the visible window through the signals
 * `xmin`/`xmax` (so a pan redraws without recompiling). No DOM here, so it is tested under Node.
 */
import { INTERVALS, intervalMs, type Interval } from '../../schemas/intervals.ts';
import type { ChartData, IndicatorChoice } from '../messages.ts';
import {
  type ChartMeta,
  type CrossPanel,
  type DomainSpec,
  type Row,
  timeTagExpr,
} from './scene.ts';

export type { Row } from './scene.ts';

export interface ChartTheme {
  background: string;
  foreground: string;
  muted: string;
  grid: string;
  up: string;
  down: string;
  filled: string;
  gap: string;
  outage: string;
  lines: string[];
  font: string;
}

export const DEFAULT_THEME: ChartTheme = {
  background: '#1e1e1e',
  foreground: '#cccccc',
  muted: '#9d9d9d',
  grid: '#3c3c3c',
  up: '#26a69a',
  down: '#ef5350',
  filled: '#cca700',
  gap: '#f14c4c',
  outage: '#9d9d9d',
  lines: ['#3794ff', '#b180d7', '#d18616', '#89d185', '#f14c4c'],
  font: 'sans-serif',
};

/** Width of one candle slot in ms (a month counts as 30 days). */
export function slotMs(interval: Interval): number {
  return interval === '1M' ? 30 * 86_400_000 : intervalMs(interval);
}

/** The interval drawn for a window: the one chosen, or the finest coarser one that fits. */
export function displayInterval(chosen: Interval, span: number, max: number): Interval {
  for (const iv of INTERVALS.slice(INTERVALS.indexOf(chosen))) {
    if (span / slotMs(iv) <= max) return iv;
  }
  return '1M';
}

/** A candle body's width as a share of its slot. */
const BODY = 0.76;

/**
 * One row per candle, with the drawing coordinates and every indicator output as a column. The
 * candle is drawn at its open time `xm` = `t`, its body [x0, x1] centred on it.
 */
export function chartRows(data: ChartData): Row[] {
  const s = slotMs(data.interval);
  const rows: Row[] = new Array<Row>(data.openTime.length);
  for (let i = 0; i < data.openTime.length; i++) {
    const t = data.openTime[i];
    const prev = i > 0 ? data.close[i - 1] : data.open[i];
    const row: Row = {
      t,
      x0: t - (s * BODY) / 2,
      x1: t + (s * BODY) / 2,
      xm: t,
      o: data.open[i],
      h: data.high[i],
      l: data.low[i],
      c: data.close[i],
      v: data.volume[i],
      f: data.filled[i] ?? 0,
      chg: prev ? ((data.close[i] - prev) / prev) * 100 : 0,
      dir: data.close[i] >= data.open[i] ? 'up' : 'down',
      flat: data.open[i] === data.close[i] ? 1 : 0,
    };
    for (const ind of data.indicators) {
      for (const [out, col] of Object.entries(ind.outputs))
        row[`${ind.key}.${out}`] = col[i] ?? null;
    }
    rows[i] = row;
  }
  return rows;
}

/**
 * Missing candles between loaded ones, as [from, to) ranges of open times (for the gap marks). `o`
 * is 1 when the exchange confirmed it has no candle there (an outage), 0 for a gap in the bank.
 * `gx0`/`gx1` are where the band is drawn: the missing candles' slots, each centred on its open
 * time as the candles are.
 */
export function gapRows(data: ChartData): Row[] {
  if (data.interval === '1M') return [];
  const s = slotMs(data.interval);
  const outages = data.outages ?? [];
  const out: Row[] = [];
  for (let i = 1; i < data.openTime.length; i++) {
    const a = data.openTime[i - 1] + s;
    const b = data.openTime[i];
    if (b <= a) continue;
    const o = outages.some(([os, oe]) => os < b && oe > a) ? 1 : 0;
    out.push({ g0: a, g1: b, n: Math.round((b - a) / s), o, gx0: a - s / 2, gx1: b - s / 2 });
  }
  return out;
}

/** A read the chart asked for and did not get. */
export interface ReadFailure {
  symbol: string;
  /** The timeframe chosen: the dropdown's and the tab's. */
  chosen: Interval;
  /** The interval read: the chosen one, or a coarser one for a window wider than the plot. */
  interval: Interval;
  /** The window asked for, [start, end) in ms. */
  window?: [number, number];
  /** Why, in words (the daemon's answer as the extension put it). */
  message: string;
}

/**
 * What the chart says after a failed read. The scene is cleared rather than left as it was: the
 * candles drawn before (another timeframe, another window) would be taken for the ones the
 * dropdown names. So the title names what is shown, which is nothing, and why.
 */
export function failedReadText(
  f: ReadFailure,
  minute: (t: number) => string,
): { title: string; shown: string; detail: string } {
  const span = f.window ? ` for ${minute(f.window[0])} → ${minute(f.window[1])} UTC` : '';
  const coarser = f.interval !== f.chosen ? ` (drawn as ${f.interval} at this zoom)` : '';
  return {
    title: `${f.symbol} · ${f.chosen} · no candles shown`,
    shown: `Nothing is drawn: the ${f.chosen} candles${coarser}${span} could not be read.`,
    detail: f.message,
  };
}

export interface SpecOptions {
  width: number;
  theme: ChartTheme;
  overlays: IndicatorChoice[];
  panels: IndicatorChoice[];
  symbol: string;
  /** Height of the price panel in px (the rest of the panels have fixed heights). */
  priceHeight?: number;
}

const field = (key: string, out: string): string => `${key}\\.${out}`;
const safe = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, '_');

export function keyOf(data: ChartData, c: IndicatorChoice): string | undefined {
  const vals = Object.values(c.params).join('_');
  return (
    data.indicators.find(
      (i) =>
        i.name === c.name &&
        (vals === '' || i.key === `${c.name}_${vals}` || i.key.startsWith(`${c.name}_${vals}`)),
    )?.key ?? data.indicators.find((i) => i.name === c.name)?.key
  );
}

/** A label for an indicator choice: `SMA 20`, `MACD(12,26,9)`. */
export function indicatorLabel(c: IndicatorChoice): string {
  const p = Object.values(c.params);
  if (c.name === 'macd' || c.name === 'bbands') return `${c.name.toUpperCase()}(${p.join(',')})`;
  return `${c.name.toUpperCase()}${p.length ? ` ${p.join(', ')}` : ''}`;
}

/** A Vega expression formatting `e` as a price: up to 8 significant digits, thousands grouped. */
const price = (e: string): string => `(isValid(${e}) ? format(${e}, ',.8~g') : '-')`;

/** A Vega expression for volume in plain units: 950, 1.2K, 3.4M, 5.6B (never SI milli). */
export const volumeExpr = (e: string): string =>
  `(!isValid(${e}) ? '-' : abs(${e}) >= 1e9 ? format(${e} / 1e9, '.3~f') + 'B' : ` +
  `abs(${e}) >= 1e6 ? format(${e} / 1e6, '.3~f') + 'M' : abs(${e}) >= 1e3 ? ` +
  `format(${e} / 1e3, '.3~f') + 'K' : format(${e}, '.4~f'))`;

/** The same in TypeScript (for the legend and tests). */
export function formatVolume(v: number): string {
  const f = (x: number, d: number): string => String(Number(x.toFixed(d)));
  const a = Math.abs(v);
  if (a >= 1e9) return `${f(v / 1e9, 3)}B`;
  if (a >= 1e6) return `${f(v / 1e6, 3)}M`;
  if (a >= 1e3) return `${f(v / 1e3, 3)}K`;
  return f(v, 4);
}

/** The whole Vega-Lite spec. The rows go to the `rows` data source. */
export function candlestickSpec(data: ChartData, opts: SpecOptions): Record<string, unknown> {
  const { theme } = opts;
  const color = {
    field: 'dir',
    type: 'nominal',
    scale: { domain: ['up', 'down'], range: [theme.up, theme.down] },
    legend: null,
  };
  const hidden = { labels: false, ticks: false, domain: false, title: null };
  // The time axis: UTC, labels only under the last panel; every panel shares the scale.
  const xs = (f: string, axis: boolean): Record<string, unknown> => ({
    field: f,
    type: 'temporal',
    title: null,
    scale: { type: 'utc', domain: { expr: '[xmin, xmax]' } },
    axis: axis
      ? {
          labelOverlap: true,
          labelFlush: true,
          tickCount: Math.max(2, Math.floor(opts.width / 90)),
          // As a trading chart labels time: hours within a day, the date at midnight, the month
          // on its first day and the year on January 1st.
          labelExpr:
            "utchours(datum.value) || utcminutes(datum.value) ? utcFormat(datum.value, '%H:%M') : " +
            "utcdate(datum.value) != 1 ? utcFormat(datum.value, '%b %d') : " +
            "utcmonth(datum.value) ? utcFormat(datum.value, '%b') : utcFormat(datum.value, '%Y')",
          title: 'UTC',
          titleFontWeight: 'normal',
        }
      : hidden,
  });
  const hovered = { filter: { param: 'hover', empty: false } };
  const crossMark = {
    type: 'rule',
    color: theme.muted,
    strokeDash: [4, 3],
    strokeWidth: 1,
    aria: false,
  };
  /**
   * The crosshair of one panel: the points the pointer snaps to (Vega-Lite's `nearest` over x
   * only, so the nearest in time whatever the pointer's height) and a vertical rule on the
   * hovered candle. The horizontal rule and the tags are added to the compiled spec
   * (`withCrosshair`).
   */
  const cross = (name: string, x: Record<string, unknown>) => [
    {
      name: `${name}_hover`,
      mark: { type: 'point', opacity: 0, size: 1, clip: true, aria: false },
      encoding: { x, y: { value: 0 } },
    },
    { name: `${name}_vrule`, transform: [hovered], mark: crossMark, encoding: { x } },
  ];
  const views: string[] = [];
  /** The y domain of each panel, set from the candles in view (see `viewDomains`). */
  const domains: DomainSpec[] = [];
  /** The panels with a horizontal crosshair rule and a value tag on their axis. */
  const crossPanels: CrossPanel[] = [];
  const bottom = (i: number): boolean => i === opts.panels.length; // 0 = volume

  // --- price -----------------------------------------------------------------------------------
  const px = (f: string): Record<string, unknown> => xs(f, false);
  const priceFields = ['l', 'h'];
  const priceY = {
    field: 'l',
    type: 'quantitative',
    scale: { domain: { expr: 'price_domain' }, zero: false, nice: false },
    title: null,
    axis: { orient: 'right', labelExpr: "format(datum.value, ',.8~g')" },
  };
  const price_: Record<string, unknown>[] = [];
  const legend: { label: string; color: string; value: string }[] = [];
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
      price_.push({
        name: 'bbands_band',
        mark: { type: 'area', opacity: 0.1, color: theme.lines[2], clip: true },
        encoding: {
          x: px('xm'),
          y: { field: field(key, lower), type: 'quantitative' },
          y2: { field: field(key, upper) },
        },
      });
      for (const out of [upper, lower, middle].filter((v): v is string => Boolean(v))) {
        price_.push({
          name: safe(`overlay_${key}_${out}`),
          mark: { type: 'line', strokeWidth: 1, color: theme.lines[2], clip: true },
          encoding: { x: px('xm'), y: { field: field(key, out), type: 'quantitative' } },
        });
      }
      priceFields.push(`${key}.${upper}`, `${key}.${lower}`);
      legend.push({
        label: indicatorLabel(o),
        color: theme.lines[2],
        value: `${price(`datum['${key}.${upper}']`)} + ' / ' + ${price(`datum['${key}.${lower}']`)}`,
      });
      continue;
    }
    const out = outs[0];
    const c = theme.lines[li++ % theme.lines.length];
    price_.push({
      name: safe(`overlay_${key}`),
      mark: { type: 'line', strokeWidth: 1.5, color: c, clip: true },
      encoding: { x: px('xm'), y: { field: field(key, out), type: 'quantitative' } },
    });
    priceFields.push(`${key}.${out}`);
    legend.push({ label: indicatorLabel(o), color: c, value: price(`datum['${key}.${out}']`) });
  }
  domains.push({ signal: 'price_domain', fields: priceFields, pad: 0.05 });
  crossPanels.push({ view: 'price_panel', value: price('value') });
  const gaps = gapRows(data);
  const hasGaps = gaps.some((g) => !g.o);
  const hasOutages = gaps.some((g) => g.o);
  const hasFilled = data.filled.some((f) => f === 1);
  const hasFlat = data.open.some((o, i) => o === data.close[i]);
  // Layers with nothing to draw in the whole load are left out of the spec.
  const when = <T>(on: boolean, ...layers: T[]): T[] => (on ? layers : []);
  price_.push(
    ...when(hasGaps, {
      name: 'gaps',
      data: { name: 'gaps' },
      transform: [{ filter: '!datum.o' }],
      mark: { type: 'rect', color: theme.gap, opacity: 0.18, clip: true, aria: false },
      encoding: { x: px('gx0'), x2: { field: 'gx1' } },
    }),
    ...when(hasOutages, {
      name: 'outages',
      data: { name: 'gaps' },
      transform: [{ filter: 'datum.o' }],
      mark: { type: 'rect', color: theme.outage, opacity: 0.25, clip: true, aria: false },
      encoding: { x: px('gx0'), x2: { field: 'gx1' } },
    }),
    {
      name: 'wicks',
      mark: { type: 'rule', strokeWidth: 1, clip: true },
      encoding: { x: px('xm'), y: priceY, y2: { field: 'h' }, color },
    },
    {
      name: 'candles',
      mark: { type: 'rect', clip: true },
      encoding: {
        x: px('x0'),
        x2: { field: 'x1' },
        y: { field: 'o', type: 'quantitative' },
        y2: { field: 'c' },
        color,
      },
    },
    ...when(hasFlat, {
      // A flat candle (open = close: a filled minute, a still market) has no body: a tick.
      name: 'flat',
      transform: [{ filter: 'datum.flat == 1' }],
      mark: { type: 'rule', strokeWidth: 1.5, clip: true, aria: false },
      encoding: {
        x: px('x0'),
        x2: { field: 'x1' },
        y: { field: 'o', type: 'quantitative' },
        color: { value: theme.foreground },
      },
    }),
    ...when(hasFilled, {
      name: 'filled_marks',
      transform: [{ filter: 'datum.f == 1' }],
      mark: {
        type: 'point',
        shape: 'triangle-up',
        filled: true,
        size: 30,
        color: theme.filled,
        yOffset: 8,
        clip: true,
        aria: false,
      },
      encoding: { x: px('xm'), y: { field: 'l', type: 'quantitative' } },
    }),
    ...cross('price', px('xm')),
  );
  views.push('price_hover');

  // The read-out line: the hovered candle, or the last one in view when the pointer is away.
  const readout =
    "utcFormat(datum.t, '%Y-%m-%d %H:%M') + ' UTC   O ' + " +
    `${price('datum.o')} + '  H ' + ${price('datum.h')} + '  L ' + ${price('datum.l')} + ` +
    `'  C ' + ${price('datum.c')} + '  ' + (datum.chg >= 0 ? '+' : '') + ` +
    `format(datum.chg, '.2f') + '%   Vol ' + ${volumeExpr('datum.v')} + ` +
    "(datum.f == 1 ? '   filled' : '')";
  const atLast = "!length(data('hover_store')) && datum.t == lastT";
  const textLayers = (
    name: string,
    expr: string,
    x: number,
    y: number,
    fill: string,
    weight = 'normal',
  ): Record<string, unknown>[] =>
    [
      [`${name}`, hovered],
      [`${name}_last`, { filter: atLast }],
    ].map(([n, filter]) => ({
      name: n,
      transform: [filter, { calculate: expr, as: 'text' }],
      mark: {
        type: 'text',
        align: 'left',
        baseline: 'top',
        x,
        y,
        color: fill,
        font: theme.font,
        fontWeight: weight,
        fontSize: 12,
      },
      encoding: { text: { field: 'text' } },
    }));
  price_.push(...textLayers('readout', readout, 4, 4, theme.foreground));
  // The overlay legend: each overlay's name in its colour and its value at the candle.
  legend.forEach((l, i) => {
    price_.push(
      ...textLayers(safe(`legend_${i}`), `'${l.label} ' + ${l.value}`, 4 + i * 190, 22, l.color),
    );
  });
  // The marks' key: named only when they are in the data.
  const keys: string[] = [];
  if (hasFilled) keys.push('▲ filled candle (synthesised over a short gap)');
  if (hasGaps) keys.push('▮ red: gap (not in the bank)');
  if (hasOutages) keys.push('▮ grey: exchange outage (no candles at Binance)');
  if (keys.length) {
    price_.push({
      name: 'marks_legend',
      data: { values: [{ text: keys.join('    ') }] },
      mark: {
        type: 'text',
        align: 'right',
        baseline: 'top',
        x: { expr: 'width - 4' },
        y: 22,
        color: theme.muted,
        font: theme.font,
        fontSize: 11,
      },
      encoding: { text: { field: 'text' } },
    });
  }

  // --- volume and the lower panels ---------------------------------------------------------------
  const panels: Record<string, unknown>[] = [];
  const volY = {
    field: 'v',
    type: 'quantitative',
    title: null,
    scale: { domain: [0, { expr: 'volMax' }], nice: false },
    // All zero in view: one label, 0 (a scale of zeros has no other honest tick).
    axis: {
      orient: 'right',
      tickCount: 3,
      labelExpr: `volZero ? (datum.value == 0 ? '0' : '') : ${volumeExpr('datum.value')}`,
    },
  };
  panels.push({
    name: 'volume_panel',
    height: 70,
    layer: [
      {
        name: 'volume',
        mark: { type: 'rect', opacity: 0.7, clip: true },
        encoding: {
          x: xs('x0', bottom(0)),
          x2: { field: 'x1' },
          y: volY,
          color,
        },
      },
      {
        name: 'volume_label',
        data: { values: [{ text: 'Volume' }] },
        mark: { type: 'text', align: 'left', baseline: 'top', x: 4, y: 2, color: theme.muted },
        encoding: { text: { field: 'text' } },
      },
      ...cross('volume', xs('xm', bottom(0))),
    ],
  });
  views.push('volume_hover');
  crossPanels.push({ view: 'volume_panel', value: volumeExpr('value') });

  opts.panels.forEach((p, idx) => {
    const i = idx + 1;
    const key = keyOf(data, p);
    const label = indicatorLabel(p);
    const x = (f: string): Record<string, unknown> => xs(f, bottom(i));
    const layers: Record<string, unknown>[] = [];
    const ind = key ? data.indicators.find((d) => d.key === key) : undefined;
    const outs = ind ? Object.keys(ind.outputs) : [];
    const empty = !ind || Object.values(ind.outputs).every((col) => col.every((v) => v == null));
    const shown = empty ? undefined : ind;
    const yAxis = { orient: 'right', tickCount: 3, title: null };
    const dom = `panel_${i}_domain`;
    const yScale = { domain: { expr: dom }, zero: false, nice: false };
    let main = ind ? field(ind.key, outs[0]) : 'c';
    let readoutValue = "''";
    let tagValue = price('value');
    if (shown && p.name === 'rsi') {
      layers.push(
        {
          name: `rsi_bounds_${i}`,
          data: { values: [{ y: 30 }, { y: 70 }] },
          mark: { type: 'rule', strokeDash: [3, 3], color: theme.grid },
          encoding: { y: { field: 'y', type: 'quantitative' } },
        },
        {
          name: safe(`panel_${shown.key}`),
          mark: { type: 'line', strokeWidth: 1.2, color: theme.lines[1], clip: true },
          encoding: {
            x: x('xm'),
            y: { field: main, type: 'quantitative', scale: { domain: [0, 100] }, axis: yAxis },
          },
        },
      );
      readoutValue = `isValid(datum['${shown.key}.${outs[0]}']) ? format(datum['${shown.key}.${outs[0]}'], '.2f') : '-'`;
      tagValue = "format(value, '.2f')";
      domains.push({ signal: dom, fields: [], fixed: [0, 100] });
    } else if (shown && p.name === 'macd') {
      const hist = outs.find((o) => /hist/i.test(o));
      const signal = outs.find((o) => /signal/i.test(o));
      const macd = outs.find((o) => o !== hist && o !== signal) ?? outs[0];
      main = field(shown.key, macd);
      domains.push({
        signal: dom,
        fields: [macd, signal, hist]
          .filter((o): o is string => Boolean(o))
          .map((o) => `${shown.key}.${o}`),
        pad: 0.08,
        zero: Boolean(hist),
      });
      tagValue = "format(value, '.4~g')";
      if (hist) {
        layers.push({
          name: safe(`panel_${shown.key}_hist`),
          mark: { type: 'rect', opacity: 0.6, clip: true },
          encoding: {
            x: x('x0'),
            x2: { field: 'x1' },
            y: { field: field(shown.key, hist), type: 'quantitative', scale: yScale, axis: yAxis },
            y2: { datum: 0 },
            color: {
              condition: { test: `datum['${shown.key}.${hist}'] >= 0`, value: theme.up },
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
          name: safe(`panel_${shown.key}_${out}`),
          mark: { type: 'line', strokeWidth: 1.2, color: c, clip: true },
          encoding: {
            x: x('xm'),
            y: { field: field(shown.key, out), type: 'quantitative', scale: yScale, axis: yAxis },
          },
        });
      }
      readoutValue = [macd, signal, hist]
        .filter((o): o is string => Boolean(o))
        .map(
          (o) =>
            `'${o} ' + (isValid(datum['${shown.key}.${o}']) ? format(datum['${shown.key}.${o}'], '.4~g') : '-')`,
        )
        .join(" + '  ' + ");
    } else if (shown) {
      layers.push({
        name: safe(`panel_${shown.key}`),
        mark: { type: 'line', strokeWidth: 1.2, color: theme.lines[4], clip: true },
        encoding: {
          x: x('xm'),
          y: { field: main, type: 'quantitative', scale: yScale, axis: yAxis },
        },
      });
      domains.push({ signal: dom, fields: [`${shown.key}.${outs[0]}`], pad: 0.08 });
      readoutValue = price(`datum['${shown.key}.${outs[0]}']`);
    }
    if (empty) {
      // Fewer candles than the indicator's lookback: say so instead of a flat zero.
      layers.push(
        {
          name: `panel_${i}_frame`,
          mark: { type: 'rule', opacity: 0 },
          encoding: { x: x('xm') },
        },
        {
          name: `panel_${i}_empty`,
          data: { values: [{ text: `Not enough candles for ${label}` }] },
          mark: { type: 'text', color: theme.muted, x: { expr: 'width / 2' }, y: 40 },
          encoding: { text: { field: 'text' } },
        },
      );
    } else {
      layers.push(
        ...cross(`panel_${i}`, x('xm')),
        ...textLayers(`panel_${i}_readout`, `'${label}  ' + (${readoutValue})`, 4, 2, theme.muted),
      );
      views.push(`panel_${i}_hover`);
      crossPanels.push({ view: `panel_${i}`, value: tagValue });
    }
    if (empty) {
      layers.push({
        name: `panel_${i}_label`,
        data: { values: [{ text: label }] },
        mark: { type: 'text', align: 'left', baseline: 'top', x: 4, y: 2, color: theme.muted },
        encoding: { text: { field: 'text' } },
      });
    }
    panels.push({ name: `panel_${i}`, height: 80, layer: layers });
  });

  const meta: ChartMeta = {
    domains,
    gaps: hasGaps || hasOutages,
    crosshair: {
      panels: crossPanels,
      timeView: panels.length ? String(panels[panels.length - 1].name) : 'price_panel',
      time: timeTagExpr(data.interval),
      rule: theme.muted,
      tag: theme.foreground,
      tagText: theme.background,
      font: theme.font,
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: `${opts.symbol} ${data.interval} candlestick chart`,
    usermeta: meta,
    data: { name: 'rows' },
    ...(hasGaps || hasOutages ? { datasets: { gaps: [] } } : {}),
    background: theme.background,
    padding: { left: 8, right: 8, top: 6, bottom: 6 },
    // Re-measured on every update: the axes' labels change with the data in view.
    autosize: { type: 'pad', resize: true },
    title: {
      text: { expr: 'titleText' },
      subtitle: { expr: 'subtitleText' },
      anchor: 'start',
      color: theme.foreground,
      subtitleColor: theme.muted,
      font: theme.font,
      subtitleFont: theme.font,
      fontSize: 13,
      subtitleFontSize: 12,
    },
    params: [
      { name: 'xmin', value: 0 },
      { name: 'xmax', value: 1 },
      { name: 'volMax', value: 1 },
      { name: 'volZero', value: false },
      { name: 'lastT', value: 0 },
      { name: 'titleText', value: opts.symbol },
      { name: 'subtitleText', value: ' ' },
      ...domains.map((d) => ({ name: d.signal, value: d.fixed ?? [0, 1] })),
      {
        name: 'hover',
        select: {
          type: 'point',
          encodings: ['x'],
          nearest: true,
          on: 'pointermove',
          clear: 'pointerout',
        },
        views,
      },
    ],
    // Only what is in view takes part (y scales fit the visible candles; the rest is a buffer).
    transform: [{ filter: 'datum.x1 > xmin && datum.x0 < xmax' }],
    config: {
      view: { stroke: theme.grid },
      axis: {
        labelColor: theme.foreground,
        titleColor: theme.muted,
        gridColor: theme.grid,
        gridOpacity: 0.5,
        domainColor: theme.grid,
        tickColor: theme.grid,
        labelFont: theme.font,
        titleFont: theme.font,
        labelFontSize: 11,
      },
      text: { font: theme.font },
    },
    spacing: 4,
    resolve: { scale: { x: 'shared' } },
    vconcat: [
      { name: 'price_panel', width: opts.width, height: opts.priceHeight ?? 320, layer: price_ },
      ...panels.map((p) => ({ width: opts.width, ...p })),
    ],
  };
}
