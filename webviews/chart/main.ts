/**
 * The candlestick preview webview. It asks the extension for the candles of the visible range
 * (`read`, at most `maxPoints`), draws them with vega-embed, and asks again after a zoom or pan
 * settles, so the resolution follows the zoom.
 *
 * The CSP has no 'unsafe-eval': vega-embed runs with `ast: true` and vega's expression
 * interpreter instead of compiling expressions with `new Function`, and its default styles and
 * action menu (which inject inline CSS) are off; `chart.css` styles the tooltip instead.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
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
import { type ChartTheme, DEFAULT_THEME, candlestickSpec } from './spec.ts';

const vscode = vscodeApi<ChartState>();
let state: ChartState | undefined;
let seq = 0;
let current: EmbedResult | undefined;
let lastData: ChartData | undefined;
let zoomTimer: ReturnType<typeof setTimeout> | undefined;

const app = document.getElementById('app')!;

function theme(): ChartTheme {
  const css = getComputedStyle(document.body);
  const v = (name: string, fallback: string): string =>
    css.getPropertyValue(name).trim() || fallback;
  return {
    foreground: v('--vscode-foreground', DEFAULT_THEME.foreground),
    grid: v('--vscode-editorWidget-border', v('--vscode-panel-border', DEFAULT_THEME.grid)),
    up: v('--vscode-charts-green', DEFAULT_THEME.up),
    down: v('--vscode-charts-red', DEFAULT_THEME.down),
    filled: v('--vscode-charts-yellow', DEFAULT_THEME.filled),
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

function chartWidth(): number {
  return Math.max(300, (document.getElementById('chart')?.clientWidth ?? window.innerWidth) - 90);
}

function maxPoints(): number {
  // About one candle per 4 px: enough to read, few enough to draw at once.
  return Math.max(120, Math.min(2000, Math.floor(chartWidth() / 4)));
}

function save(): void {
  if (state) vscode.setState(state);
}

function request(range = state?.range): void {
  if (!state) return;
  const indicators: IndicatorChoice[] = [...state.overlays, ...state.panels];
  setStatus('Loading…');
  vscode.postMessage({
    type: 'read',
    seq: ++seq,
    symbol: state.symbol,
    interval: state.interval,
    range,
    maxPoints: maxPoints(),
    indicators,
  });
}

function setStatus(text: string, error = false): void {
  const el = document.getElementById('chart-status');
  if (!el) return;
  el.textContent = text;
  el.classList.toggle('error', error);
}

function toggles(kind: 'overlays' | 'panels'): HTMLElement {
  const presets = INDICATOR_PRESETS.filter((p) => p.panel === (kind === 'panels'));
  return h(
    'div',
    { className: 'checks', id: kind },
    ...presets.map((p) =>
      h('vscode-checkbox', {
        label: p.label,
        id: `${kind}-${p.choice.name}-${Object.values(p.choice.params).join('-')}`,
        checked: state![kind].some((c) => sameChoice(c, p.choice)),
        onchange: (e: Event) => {
          const on = (e.target as HTMLElement & { checked: boolean }).checked;
          state![kind] = state![kind].filter((c) => !sameChoice(c, p.choice));
          if (on) state![kind].push(p.choice);
          save();
          request();
        },
      }),
    ),
  );
}

function render(): void {
  if (!state) return;
  const interval = h(
    'vscode-single-select',
    { id: 'interval', 'aria-label': 'Interval' },
    ...INTERVALS.map((i) => h('vscode-option', { value: i, selected: i === state!.interval }, i)),
  ) as HTMLElement & { value: string };
  interval.addEventListener('change', () => {
    state!.interval = interval.value as Interval;
    save();
    request();
  });
  app.replaceChildren(
    h(
      'div',
      { className: 'toolbar' },
      h('h1', { id: 'chart-title' }, state.symbol),
      interval,
      toggles('overlays'),
      toggles('panels'),
      h(
        'div',
        { className: 'buttons' },
        h(
          'vscode-button',
          {
            id: 'reset-zoom',
            secondary: true,
            onclick: () => {
              state!.range = undefined;
              save();
              request(undefined);
            },
          },
          'Reset zoom',
        ),
        h(
          'vscode-button',
          { id: 'export-png', secondary: true, onclick: () => void exportImage('png') },
          'PNG',
        ),
        h(
          'vscode-button',
          { id: 'export-svg', secondary: true, onclick: () => void exportImage('svg') },
          'SVG',
        ),
      ),
    ),
    h('div', { id: 'chart-status', role: 'status' }),
    h('div', { id: 'chart' }),
  );
}

async function draw(data: ChartData): Promise<void> {
  if (!state) return;
  lastData = data;
  const spec = candlestickSpec(data, {
    width: chartWidth(),
    theme: theme(),
    overlays: state.overlays,
    panels: state.panels,
    domain: state.range,
  });
  current?.finalize();
  const el = document.getElementById('chart')!;
  current = await embed(el, spec as never, {
    renderer: 'svg',
    actions: false,
    defaultStyle: false,
    ast: true,
    expr: expressionInterpreter,
    tooltip: { disableDefaultStyle: true, theme: 'custom' } as never,
  });
  current.view.addSignalListener('zoom', (_name, value: Record<string, unknown>) => {
    const domain = Object.values(value ?? {})[0] as [number | Date, number | Date] | undefined;
    clearTimeout(zoomTimer);
    if (!domain) return;
    // Wait for the zoom or pan to settle before asking for the new range.
    zoomTimer = setTimeout(() => {
      state!.range = [Number(domain[0]), Number(domain[1])];
      save();
      request();
    }, 350);
  });
  const filled = data.filled.reduce((a, b) => a + b, 0);
  const served =
    data.interval === data.requestedInterval
      ? data.interval
      : `${data.requestedInterval} → served as ${data.interval}${data.resampled ? ' (resampled)' : ''}`;
  const first = data.openTime[0];
  const last = data.openTime[data.openTime.length - 1];
  setStatus(
    `${data.symbol} · ${served} · ${data.openTime.length.toLocaleString('en-US')} candles · ${utcMinute(first)} → ${utcMinute(last)} UTC` +
      `${filled ? ` · ${filled} filled (▲)` : ''}${data.truncated ? ' · truncated to the latest candles' : ''}` +
      `${data.indicatorError ? ` · ${data.indicatorError}` : ''}`,
    false,
  );
  el.setAttribute('data-candles', String(data.openTime.length));
  el.setAttribute('data-interval', data.interval);
}

async function exportImage(format: 'png' | 'svg'): Promise<void> {
  if (!current || !state) return;
  const data =
    format === 'png' ? await current.view.toImageURL('png', 2) : await current.view.toSVG();
  vscode.postMessage({
    type: 'saveImage',
    format,
    data,
    name: `${state.symbol}-${lastData?.interval ?? state.interval}`,
  });
}

onHostMessage((m) => {
  switch (m.type) {
    case 'init':
      if (m.view !== 'chart') return;
      state = vscode.getState() ?? m.state;
      save();
      render();
      request();
      return;
    case 'candles':
      if (m.data.seq !== seq) return; // an older answer overtaken by a newer request
      if (m.data.openTime.length === 0) {
        setStatus(
          `No candles for ${m.data.symbol} ${m.data.requestedInterval} in this range.`,
          true,
        );
        return;
      }
      draw(m.data).catch((e: unknown) => setStatus(`Could not draw the chart: ${String(e)}`, true));
      return;
    case 'chartError':
      if (m.seq === seq) setStatus(m.message, true);
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
    if (lastData) void draw(lastData);
  }, 200);
});

vscodeApi().postMessage({ type: 'ready' });
