/**
 * The candlestick chart webview. The timeframe chosen is the timeframe drawn: the view keeps a
 * visible window [start, end) and asks the extension for exactly that interval over the window
 * plus one screen each side (`read` with `exact`), so a pan shows buffered candles at once and
 * loads the next window when it settles. Only when the window holds more candles than the width
 * can draw (2 px each) does it draw a coarser interval, and the subtitle says so.
 *
 * Zoom and pan (wheel, drag, keyboard: + - arrows Home End 0) are bounded to the data. The
 * crosshair, read-out and legends are Vega-Lite selection params and marks (`spec.ts`); a pan only
 * changes the `xmin`/`xmax` signals and the `rows` data of the same view.
 *
 * The CSP has no 'unsafe-eval': vega-embed runs with `ast: true` and vega's expression
 * interpreter, and its default styles and action menu (which inject inline CSS) are off.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { logger as vegaLogger, Warn, type LoggerInterface } from 'vega';
import embed, { type Result as EmbedResult } from 'vega-embed';
import { expressionInterpreter } from 'vega-interpreter';
import { INTERVALS, type Interval } from '../../schemas/intervals.ts';
import {
  type ChartData,
  type ChartState,
  type IndicatorChoice,
  INDICATOR_PRESETS,
  sameChoice,
} from '../messages.ts';
import { h, onHostMessage, utcMinute, vscodeApi } from '../vscode.ts';
import {
  type ChartTheme,
  DEFAULT_THEME,
  candlestickSpec,
  chartRows,
  gapRows,
  displayInterval,
  failedReadText,
  type Row,
  slotMs,
} from './spec.ts';
import { type ChartMeta, viewDomains, withCrosshair } from './scene.ts';

const vscode = vscodeApi<ChartState>();
let state: ChartState | undefined;
let seq = 0;
let current: EmbedResult | undefined;
let currentSpec = '';
/** The candles loaded (the window plus a screen each side) and what they cover. */
let loaded: { data: ChartData; rows: Row[]; from: number; to: number } | undefined;
/** The last read asked for: what a failure names. */
let asked: { seq: number; interval: Interval; range?: [number, number] } | undefined;
/** The interval last drawn, offered after a failed read to step back to it. */
let lastDrawn: Interval | undefined;
/** The data's extent [first open, end) from the 1m dataset. */
let extent: [number, number] | null = null;
/** When the interaction being answered started, and what it was (for the timing figures). */
let pending: { t0: number; kind: string } | undefined;
let loadTimer: ReturnType<typeof setTimeout> | undefined;
let frames = 0;
let measured = 0;
let warnings = 0;

/**
 * Vega's and Vega-Lite's warnings go to the console as before, and are counted on the chart
 * (`data-vega-warnings`, the last one in `data-vega-warning`): a chart that draws right is quiet.
 */
const logger: LoggerInterface = (() => {
  const base = vegaLogger(Warn);
  const l = Object.create(base) as LoggerInterface;
  l.warn = (...args: readonly unknown[]) => {
    warnings++;
    const el = document.getElementById('chart');
    if (el) {
      el.dataset.vegaWarnings = String(warnings);
      el.dataset.vegaWarning = args.map(String).join(' ').slice(0, 300);
    }
    base.warn(...args);
    return l;
  };
  return l;
})();

const app = document.getElementById('app')!;

/** An interaction to answer: its start (for the timings) and, on the chart, `data-pending`. */
function begin(kind: string): { t0: number; kind: string } {
  const el = document.getElementById('chart');
  if (el) el.dataset.pending = kind;
  return { t0: performance.now(), kind };
}

function theme(): ChartTheme {
  const css = getComputedStyle(document.body);
  const v = (name: string, fallback: string): string =>
    css.getPropertyValue(name).trim() || fallback;
  return {
    background: v('--vscode-editor-background', DEFAULT_THEME.background),
    foreground: v('--vscode-editor-foreground', v('--vscode-foreground', DEFAULT_THEME.foreground)),
    muted: v('--vscode-descriptionForeground', DEFAULT_THEME.muted),
    grid: v('--vscode-editorWidget-border', v('--vscode-panel-border', DEFAULT_THEME.grid)),
    up: v('--vscode-charts-green', DEFAULT_THEME.up),
    down: v('--vscode-charts-red', DEFAULT_THEME.down),
    filled: v('--vscode-charts-yellow', DEFAULT_THEME.filled),
    gap: v('--vscode-charts-red', DEFAULT_THEME.gap),
    outage: v('--vscode-descriptionForeground', DEFAULT_THEME.outage),
    lines: [
      v('--vscode-charts-blue', DEFAULT_THEME.lines[0]),
      v('--vscode-charts-purple', DEFAULT_THEME.lines[1]),
      v('--vscode-charts-orange', DEFAULT_THEME.lines[2]),
      v('--vscode-charts-green', DEFAULT_THEME.lines[3]),
      v('--vscode-charts-red', DEFAULT_THEME.lines[4]),
    ],
    font: v('--vscode-font-family', DEFAULT_THEME.font),
  };
}

/** Width of the plot area in px (the chart minus the right-hand price axis and padding). */
function plotWidth(): number {
  return Math.max(240, (document.getElementById('chart')?.clientWidth ?? window.innerWidth) - 110);
}

/** The price panel fills the window's height left by the toolbar, title and lower panels. */
function priceHeight(): number {
  const top = document.getElementById('chart')?.getBoundingClientRect().top ?? 150;
  const lower = 74 + 84 * (state?.panels.length ?? 0);
  return Math.round(Math.max(160, Math.min(560, window.innerHeight - top - lower - 90)));
}

/** Candles shown on opening and after a reset: about 8 px each. */
const defaultCount = (): number => Math.max(20, Math.floor(plotWidth() / 8));
/** The most candles the width can draw (2 px each); past that a coarser interval is drawn. */
const drawable = (): number => Math.floor(plotWidth() / 2);
/** The fewest candles a zoom-in shows. */
const MIN_CANDLES = 12;

/** Keeps a window within the data: a bounded zoom, and a pan that cannot leave the candles. */
function clampWindow(w: [number, number]): [number, number] {
  const chosen = state!.interval;
  let span = Math.max(w[1] - w[0], MIN_CANDLES * slotMs(chosen));
  if (!extent) return [w[1] - span, w[1]];
  const len = extent[1] - extent[0];
  const maxSpan = Math.max(len * 1.1, MIN_CANDLES * slotMs(chosen));
  span = Math.min(span, maxSpan);
  if (span >= len) {
    const mid = (extent[0] + extent[1]) / 2;
    return [mid - span / 2, mid + span / 2];
  }
  const margin = span * 0.2;
  let a = w[1] - span;
  a = Math.max(extent[0] - margin, Math.min(a, extent[1] + margin - span));
  return [a, a + span];
}

let announced = '';
function save(): void {
  if (!state) return;
  vscode.setState(state);
  // The host keeps the state for the tab title and a restored panel (not on every pan frame).
  const key = JSON.stringify({ ...state, range: undefined });
  if (key !== announced) {
    announced = key;
    vscode.postMessage({ type: 'chartState', state });
  }
}

function setStatus(text: string, error = false): void {
  const el = document.getElementById('chart-status');
  if (!el) return;
  el.textContent = text;
  el.classList.toggle('error', error);
}

/** Asks for the candles around the window (or the latest ones when there is no window yet). */
function request(kind: string): void {
  if (!state) return;
  const indicators: IndicatorChoice[] = [...state.overlays, ...state.panels];
  pending ??= begin(kind);
  const w = state.range;
  let range: [number, number] | undefined;
  let iv = state.interval;
  let maxPoints = defaultCount();
  if (w) {
    const span = w[1] - w[0];
    iv = displayInterval(state.interval, span, drawable());
    const lo = extent ? extent[0] : -Infinity;
    const hi = extent ? extent[1] : Infinity;
    range = [Math.max(0, lo, w[0] - span), Math.min(hi, w[1] + span)];
    if (range[1] <= range[0]) range = [Math.max(0, w[0]), Math.max(0, w[0]) + slotMs(iv)];
    maxPoints = Math.ceil((range[1] - range[0]) / slotMs(iv)) + 2;
  }
  setStatus(`Loading ${iv} candles…`);
  // Candles of another interval stay in view until the answer: greyed, so they are not taken
  // for the timeframe the dropdown names.
  document
    .getElementById('chart')
    ?.classList.toggle('stale', loaded !== undefined && loaded.data.interval !== iv);
  asked = { seq: seq + 1, interval: iv, range };
  vscode.postMessage({
    type: 'read',
    seq: ++seq,
    symbol: state.symbol,
    interval: iv,
    range,
    maxPoints: Math.max(2, Math.min(1_000_000, maxPoints)),
    exact: true,
    indicators,
  });
}

/** Loads again when the window left the candles loaded or needs another interval. */
function ensureLoaded(kind: string): void {
  if (!state?.range) return request(kind);
  const w = state.range;
  const iv = displayInterval(state.interval, w[1] - w[0], drawable());
  const covers =
    loaded &&
    loaded.data.interval === iv &&
    (loaded.from <= w[0] || (extent !== null && loaded.from <= extent[0])) &&
    (loaded.to >= w[1] || (extent !== null && loaded.to >= extent[1]));
  if (covers) return;
  clearTimeout(loadTimer);
  pending ??= begin(kind);
  loadTimer = setTimeout(() => request(kind), 60);
}

/** Moves the view to a window: redraws at once with what is loaded, then loads what is missing. */
function moveTo(w: [number, number], kind: string): void {
  if (!state) return;
  pending = begin(kind);
  state.range = clampWindow(w);
  save();
  void redraw();
  ensureLoaded(kind);
}

function toggles(kind: 'overlays' | 'panels'): HTMLElement {
  const presets = INDICATOR_PRESETS.filter((p) => p.panel === (kind === 'panels'));
  return h(
    'div',
    {
      className: 'checks',
      id: kind,
      role: 'group',
      'aria-label': kind === 'overlays' ? 'Overlays' : 'Panels',
    },
    ...presets.map((p) =>
      h('vscode-checkbox', {
        label: p.label,
        'aria-label': p.label,
        id: `${kind}-${p.choice.name}-${Object.values(p.choice.params).join('-')}`,
        checked: state![kind].some((c) => sameChoice(c, p.choice)),
        onchange: (e: Event) => {
          const on = (e.target as HTMLElement & { checked: boolean }).checked;
          state![kind] = state![kind].filter((c) => !sameChoice(c, p.choice));
          if (on) state![kind].push(p.choice);
          save();
          request('indicators');
        },
      }),
    ),
  );
}

function render(): void {
  if (!state) return;
  const interval = h(
    'vscode-single-select',
    { id: 'interval', 'aria-label': 'Timeframe' },
    ...INTERVALS.map((i) => h('vscode-option', { value: i, selected: i === state!.interval }, i)),
  ) as HTMLElement & { value: string };
  interval.addEventListener('change', () => switchInterval(interval.value as Interval));
  const button = (id: string, label: string, onclick: () => void, title?: string) =>
    h(
      'vscode-button',
      { id, secondary: true, onclick, title, 'aria-label': title ?? label },
      label,
    );
  // Its accessible name says what is drawn (Vega sets it from the view's description after each
  // draw); the keys are its description.
  const chart = h('div', {
    id: 'chart',
    tabindex: 0,
    role: 'application',
    'aria-roledescription': 'candlestick chart',
    'aria-label': `${state.symbol} ${state.interval} candlestick chart`,
    'aria-describedby': 'chart-keys',
  });
  const keysHelp = h(
    'p',
    { id: 'chart-keys', className: 'visually-hidden' },
    'Plus and minus zoom, arrows pan, Home and End jump to the first and latest candles, 0 resets, brackets change the timeframe.',
  );
  chart.addEventListener('keydown', onKey);
  chart.addEventListener('wheel', onWheel, { passive: false });
  chart.addEventListener('pointerdown', onPointerDown);
  app.replaceChildren(
    h(
      'div',
      { className: 'toolbar' },
      h('h1', { id: 'chart-title' }, state.symbol),
      h('vscode-label', { for: 'interval' }, 'Timeframe'),
      interval,
      toggles('overlays'),
      toggles('panels'),
      h(
        'div',
        { className: 'buttons' },
        button('reset-zoom', 'Reset', () => reset(), 'Reset: the latest candles (key 0)'),
        button('export-png', 'PNG', () => void exportImage('png'), 'Export as PNG'),
        button('export-svg', 'SVG', () => void exportImage('svg'), 'Export as SVG'),
      ),
    ),
    h('div', { id: 'chart-status', role: 'status' }),
    keysHelp,
    chart,
  );
}

function switchInterval(iv: Interval): void {
  if (!state || iv === state.interval) return;
  let end = state.range?.[1] ?? (extent ? extent[1] : Date.now());
  // Past the latest candle, the new timeframe opens on it (as on opening), not on empty space.
  if (extent && end > extent[1]) end = extent[1] + 2 * slotMs(iv);
  state.interval = iv;
  pending = begin('switch');
  state.range = clampWindow([end - defaultCount() * slotMs(iv), end]);
  save();
  request('switch');
}

/** The latest candles at the default density. */
function latestWindow(): [number, number] {
  const s = slotMs(state!.interval);
  const end = (extent ? extent[1] : Date.now()) + 2 * s;
  return [end - defaultCount() * s, end];
}

function reset(): void {
  if (!state) return;
  moveTo(latestWindow(), 'reset');
}

function zoom(factor: number, anchor?: number): void {
  if (!state?.range) return;
  const [a, b] = state.range;
  const at = anchor ?? b;
  moveTo([at - (at - a) * factor, at + (b - at) * factor], 'zoom');
}

function pan(fraction: number, kind = 'pan'): void {
  if (!state?.range) return;
  const [a, b] = state.range;
  const d = (b - a) * fraction;
  moveTo([a + d, b + d], kind);
}

function onKey(e: KeyboardEvent): void {
  if (!state?.range) return;
  const span = state.range[1] - state.range[0];
  switch (e.key) {
    case '+':
    case '=':
      zoom(1 / 1.5);
      break;
    case '-':
    case '_':
      zoom(1.5);
      break;
    case 'ArrowLeft':
      pan(e.shiftKey ? -0.5 : -0.1);
      break;
    case 'ArrowRight':
      pan(e.shiftKey ? 0.5 : 0.1);
      break;
    case 'Home':
      if (extent) moveTo([extent[0] - span * 0.05, extent[0] + span * 0.95], 'home');
      break;
    case 'End':
      if (extent) moveTo([extent[1] - span * 0.95, extent[1] + span * 0.05], 'end');
      break;
    case '0':
      reset();
      break;
    case '[':
    case ']': {
      const i = INTERVALS.indexOf(state.interval) + (e.key === '[' ? -1 : 1);
      if (i < 0 || i >= INTERVALS.length) return;
      selectInterval(INTERVALS[i]);
      break;
    }
    default:
      return;
  }
  e.preventDefault();
}

/** The time under a client x coordinate, from the view's shared x scale. */
function timeAt(clientX: number): number | undefined {
  const view = current?.view;
  const svg = document.querySelector('#chart svg');
  if (!view || !svg) return undefined;
  const x = clientX - svg.getBoundingClientRect().left - view.origin()[0];
  const scale = view.scale('x') as { invert(px: number): Date | number } | undefined;
  const t = scale ? Number(scale.invert(x)) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

function onWheel(e: WheelEvent): void {
  if (!state?.range) return;
  e.preventDefault();
  if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
    pan(e.deltaX / plotWidth());
    return;
  }
  zoom(Math.exp(Math.max(-1, Math.min(1, e.deltaY * 0.002))), timeAt(e.clientX));
}

function onPointerDown(e: PointerEvent): void {
  if (!state?.range || e.button !== 0) return;
  const el = e.currentTarget as HTMLElement;
  // No candles to drag after a failed read; capturing the pointer would swallow its buttons' clicks.
  if (el.dataset.failed) return;
  const start = state.range;
  const x0 = e.clientX;
  el.setPointerCapture(e.pointerId);
  const move = (m: PointerEvent): void => {
    const dx = m.clientX - x0;
    if (Math.abs(dx) < 2) return;
    const span = start[1] - start[0];
    const d = (-dx / plotWidth()) * span;
    state!.range = clampWindow([start[0] + d, start[1] + d]);
    void redraw();
  };
  const up = (): void => {
    el.removeEventListener('pointermove', move);
    el.removeEventListener('pointerup', up);
    save();
    pending = begin('pan');
    void redraw();
    ensureLoaded('pan');
  };
  el.addEventListener('pointermove', move);
  el.addEventListener('pointerup', up);
}

/**
 * Title and subtitle: symbol, timeframe and UTC range; a coarser interval said in words. The range
 * runs from the first candle in view to the last, by their open times: never a time between two
 * candles, nor past the latest candle.
 */
function titles(
  data: ChartData,
  span: [number, number] | undefined,
  visible: number,
): [string, string] {
  const chosen = state!.interval;
  const range = span ? ` · ${utcMinute(span[0])} → ${utcMinute(span[1])} UTC` : '';
  const title = `${data.symbol} · ${chosen}${range}`;
  const notes: string[] = [];
  if (data.interval !== chosen) notes.push(`showing ${data.interval} - zoom in for ${chosen}`);
  notes.push(`${visible.toLocaleString('en-US')} candles`);
  if (data.integrity) notes.push(data.integrity);
  if (data.indicatorError) notes.push(data.indicatorError);
  return [title, notes.join(' · ')];
}

let drawing: Promise<void> = Promise.resolve();

/** Draws the loaded candles in the current window; reuses the view when only data changed. */
function redraw(): Promise<void> {
  drawing = drawing.then(draw, draw);
  return drawing;
}

async function draw(): Promise<void> {
  if (!state || !loaded || !state.range) return;
  const { data, rows } = loaded;
  const w = state.range;
  const spec = candlestickSpec(data, {
    width: plotWidth(),
    theme: theme(),
    overlays: state.overlays,
    panels: state.panels,
    symbol: data.symbol,
    priceHeight: priceHeight(),
  });
  const key = JSON.stringify(spec);
  const el = document.getElementById('chart')!;
  if (key !== currentSpec || !current) {
    current?.finalize();
    currentSpec = key;
    current = await embed(el, spec as never, {
      renderer: 'svg',
      actions: false,
      defaultStyle: false,
      ast: true,
      expr: expressionInterpreter,
      tooltip: false,
      logger,
      patch: withCrosshair as never,
    });
  }
  const meta = spec.usermeta as ChartMeta;
  let visible = 0;
  let volMax = 0;
  let firstT: number | undefined;
  let lastT = 0;
  let lastClose: number | undefined;
  for (const r of rows) {
    const t = r.t as number;
    if ((r.x1 as number) <= w[0] || (r.x0 as number) >= w[1]) continue;
    visible++;
    volMax = Math.max(volMax, r.v as number);
    firstT ??= t;
    lastT = t;
    lastClose = r.c as number;
  }
  const span: [number, number] | undefined = firstT !== undefined ? [firstT, lastT] : undefined;
  const [title, subtitle] = titles(data, span, visible);
  const view = current.view;
  if (meta.gaps) view.data('gaps', gapRows(data));
  for (const [name, domain] of Object.entries(viewDomains(rows, w, meta.domains)))
    view.signal(name, domain);
  view.description(chartName(data, span, lastClose));
  view
    .data('rows', rows)
    .signal('xmin', w[0])
    .signal('xmax', w[1])
    .signal('volMax', volMax > 0 ? volMax * 1.05 : 1)
    .signal('volZero', volMax === 0)
    .signal('lastT', lastT)
    .signal('titleText', title)
    .signal('subtitleText', subtitle);
  await view.runAsync();
  frames++;
  el.classList.remove('stale');
  lastDrawn = data.interval;
  el.dataset.candles = String(visible);
  el.dataset.interval = data.interval;
  el.dataset.chosen = state.interval;
  el.dataset.window = `${Math.round(w[0])},${Math.round(w[1])}`;
  el.dataset.frame = String(frames);
  el.dataset.plotWidth = String(plotWidth());
  // An interaction is answered once its whole window is drawn in the interval it needs.
  const covered =
    data.interval === displayInterval(state.interval, w[1] - w[0], drawable()) &&
    (loaded.from <= w[0] || (extent !== null && loaded.from <= extent[0])) &&
    (loaded.to >= w[1] || (extent !== null && loaded.to >= extent[1]));
  if (pending && covered) {
    const p = pending;
    pending = undefined;
    delete el.dataset.pending;
    await new Promise<void>((r) => requestAnimationFrame(() => r()));
    el.dataset.lastKind = p.kind;
    el.dataset.lastMs = (performance.now() - p.t0).toFixed(1);
    el.dataset.measured = String(++measured);
  }
  // A read of the latest candles (no range asked) is cut short on purpose: nothing to say.
  setStatus(
    data.truncated && data.range ? 'Only the latest candles of this range were loaded.' : '',
    false,
  );
}

/** The chart's accessible name: what is drawn, over which range, and the last close in view. */
function chartName(data: ChartData, span: [number, number] | undefined, close?: number): string {
  const drawn = data.interval !== state!.interval ? ` (drawn as ${data.interval})` : '';
  const range = span
    ? `, ${utcMinute(span[0])} to ${utcMinute(span[1])} UTC`
    : ', no candles in view';
  const last =
    close !== undefined
      ? `, last close ${close.toLocaleString('en-US', { maximumSignificantDigits: 8 })}`
      : '';
  return `${data.symbol} ${state!.interval} candlestick chart${drawn}${range}${last}`;
}

/**
 * A failed read clears the scene: no candles of another timeframe or window stay drawn under a
 * dropdown that names this one. The plot says what is shown (nothing) and why, and offers the
 * ways out: Repair when a file is damaged, and the timeframe last drawn.
 */
function showFailure(message: string, repair?: string): void {
  pending = undefined;
  const el = document.getElementById('chart');
  if (!state || !el) return;
  loaded = undefined;
  current?.finalize();
  current = undefined;
  currentSpec = '';
  const f = failedReadText(
    {
      symbol: state.symbol,
      chosen: state.interval,
      interval: asked?.interval ?? state.interval,
      window: state.range,
      message,
    },
    utcMinute,
  );
  delete el.dataset.pending;
  delete el.dataset.interval;
  el.classList.remove('stale');
  el.dataset.failed = asked?.interval ?? state.interval;
  el.dataset.chosen = state.interval;
  el.dataset.candles = '0';
  const back = lastDrawn && lastDrawn !== state.interval ? lastDrawn : undefined;
  el.replaceChildren(
    h(
      'div',
      { className: 'read-failed', role: 'alert' },
      h('h2', { className: 'failed-title' }, f.title),
      h('p', { className: 'failed-shown' }, f.shown),
      h('p', { className: 'failed-detail' }, f.detail),
      h(
        'div',
        { className: 'buttons' },
        repair
          ? h(
              'vscode-button',
              {
                id: 'repair',
                title: `Repair ${repair}: fetch its damaged files again or rebuild them from 1m`,
                onclick: (e: Event) => {
                  const b = e.currentTarget as HTMLElement & { disabled: boolean };
                  b.disabled = true;
                  b.textContent = `Repairing ${repair}…`;
                  vscode.postMessage({ type: 'repair', symbol: repair });
                },
              },
              `Repair ${repair}`,
            )
          : null,
        back
          ? h(
              'vscode-button',
              { id: 'show-drawn', secondary: true, onclick: () => selectInterval(back) },
              `Show ${back}`,
            )
          : null,
      ),
    ),
  );
  setStatus('');
}

/** Removes a failed read's notice before candles are drawn again. */
function clearFailure(): void {
  const el = document.getElementById('chart');
  if (!el?.dataset.failed) return;
  delete el.dataset.failed;
  el.replaceChildren();
}

/** Switches the timeframe as the dropdown does, and shows it in the dropdown. */
function selectInterval(iv: Interval): void {
  const select = document.getElementById('interval') as (HTMLElement & { value: string }) | null;
  if (select) select.value = iv;
  switchInterval(iv);
  document.getElementById('chart')?.focus();
}

async function exportImage(format: 'png' | 'svg'): Promise<void> {
  if (!current || !state) return;
  const data =
    format === 'png' ? await current.view.toImageURL('png', 2) : await current.view.toSVG();
  const w = state.range;
  const stamp = (t: number): string =>
    new Date(t).toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  vscode.postMessage({
    type: 'saveImage',
    format,
    data,
    name: `${state.symbol}-${state.interval}${w ? `-${stamp(w[0])}_${stamp(w[1])}` : ''}`,
  });
}

onHostMessage((m) => {
  switch (m.type) {
    case 'init':
      if (m.view !== 'chart') return;
      state = vscode.getState() ?? m.state;
      save();
      render();
      request('open');
      return;
    case 'candles': {
      if (m.data.seq !== seq || !state) return; // an older answer overtaken by a newer request
      const d = m.data;
      if (d.extent) extent = [d.extent[0], d.extent[1]];
      if (d.openTime.length === 0) {
        if (!state.range && !extent) {
          setStatus(`There are no ${d.requestedInterval} candles for ${d.symbol} yet.`, true);
          return;
        }
      }
      if (!state.range) {
        // Opening: the latest candles of the chosen interval at the default density.
        const s = slotMs(state.interval);
        const end = (extent ? extent[1] : (d.openTime[d.openTime.length - 1] ?? 0) + s) + 2 * s;
        state.range = clampWindow([end - defaultCount() * s, end]);
        save();
      }
      const first = d.openTime[0] ?? state.range[0];
      const last = d.openTime[d.openTime.length - 1] ?? state.range[1];
      clearFailure();
      loaded = {
        data: d,
        rows: chartRows(d),
        from: d.range ? d.range[0] : first,
        to: d.range ? d.range[1] : last + slotMs(d.interval),
      };
      redraw().catch((e: unknown) => setStatus(`The chart could not be drawn: ${String(e)}`, true));
      return;
    }
    case 'chartError':
      if (m.seq === seq) showFailure(m.message, m.repair);
      return;
    case 'reload':
      if (state) request('reload');
      return;
    case 'saved':
      setStatus(`Saved ${m.path}`);
      return;
    default:
      return;
  }
});

let resizeTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    void redraw();
    ensureLoaded('resize');
  }, 200);
});
// The theme is on the body's class: follow it.
new MutationObserver(() => void redraw()).observe(document.body, {
  attributes: true,
  attributeFilter: ['class'],
});

vscodeApi().postMessage({ type: 'ready' });
