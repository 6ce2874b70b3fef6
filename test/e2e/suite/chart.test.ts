/**
 * The candlestick chart in a real VS Code, read from the drawn scene (vega's SVG): the timeframe
 * chosen is the one drawn (title, candle count, accessible name), the time axis has labels once at
 * the bottom, the crosshair follows the pointer as TradingView's (a rule at the pointer's height
 * with the price there on the price axis, the candle's open time on the time axis, in every
 * panel), the read-out follows the pointer, zoom and pan from the keyboard stay within the data,
 * the timeframe switches from the keyboard, an indicator without enough candles says so, and Vega
 * never warns. Runs at 1400 px wide, then at 1000 with the side bar open. Runs after the extension
 * suite, which downloaded BTCUSDT 2023-04-17 .. 2023-05-01.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import * as vscode from 'vscode';
import { CHART, chartLabel, chartState, pointAt, translateOf, webviewText } from './chart-view.ts';
import { screenshot, ui, type UiStep } from '../harness-suite/ui-client.cjs';

const frameAfter = (n: number): UiStep => ({
  do: 'wait',
  selector: `${CHART}[data-last-ms]:not([data-frame="${n}"])`,
  webview: true,
  state: 'attached',
});

/** Presses keys in the focused chart and waits until the chart has answered the last one. */
async function keys(...k: string[]): Promise<Record<string, string>> {
  await ui([
    ...k.map((key) => ({ do: 'press' as const, key })),
    { do: 'wait', selector: `${CHART}:not([data-pending])`, webview: true, state: 'attached' },
  ]);
  return chartState();
}

/** The RGBA of a PNG's top-left pixel (8-bit RGBA, as a canvas writes it). */
function firstPixel(png: Buffer): { colorType: number; rgba: number[] } {
  let at = 8;
  let colorType = -1;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') colorType = body[9];
    if (type === 'IDAT') idat.push(body);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  // Row 0: a filter byte, then pixels; the first pixel of the first row is stored as is.
  return { colorType, rgba: [raw[1], raw[2], raw[3], raw[4]] };
}

/** The chart has drawn without one warning from Vega or Vega-Lite. */
async function assertQuiet(): Promise<void> {
  const s = await chartState();
  assert.equal(s['vega-warnings'], undefined, `Vega warned: ${s['vega-warning']}`);
}

/** A number as the chart prints it (thousands grouped, Unicode minus). */
const num = (t: string): number => Number(t.replaceAll(',', '').replace('−', '-'));

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');
/** The time tag's text for an open time: `Fri 28 Apr 2023  13:00`. */
function timeTag(t: number): string {
  const d = new Date(t);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}  ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

/**
 * The price the price axis puts at height `y` of the price panel: the line through its ticks, each
 * at the height of the value its label prints.
 */
async function priceAt(y: number): Promise<number> {
  const axis = `${CHART} svg g.price_panel_group g.role-axis`;
  const [ticks, labels] = await ui([
    { do: 'html', selector: `${axis} g.role-axis-tick`, webview: true },
    { do: 'html', selector: `${axis} g.role-axis-label`, webview: true },
  ]);
  const ys = [...String(ticks).matchAll(/translate\([-\d.]+,([-\d.]+)\)/g)].map((m) =>
    Number(m[1]),
  );
  const values = [...String(labels).matchAll(/>([^<]+)<\/text>/g)].map((m) => num(m[1]));
  assert.ok(ys.length >= 2 && ys.length === values.length, `ticks ${ys}, labels ${values}`);
  const [y0, y1, p0, p1] = [ys[0], ys[ys.length - 1], values[0], values[values.length - 1]];
  return p0 + ((y - y0) * (p1 - p0)) / (y1 - y0);
}

const dataDir = (): string =>
  vscode.workspace.getConfiguration('threadx').get<string>('dataDirectory') ?? '';

export function registerChartTests(): void {
  describe('Candlestick chart', () => {
    before(async () => {
      await ui([{ do: 'viewport', width: 1400, height: 900 }]);
    });
    after(async () => {
      await ui([{ do: 'viewport', width: 1280, height: 800 }]);
    });

    it('draws the timeframe chosen, on the latest candles, with a readable time axis', async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('threadx.previewDataset', {
        symbol: 'BTCUSDT',
        interval: '1h',
      });
      await ui([
        {
          do: 'wait',
          selector: `${CHART}[data-last-ms][data-interval="1h"]`,
          webview: true,
          state: 'attached',
          timeoutMs: 30_000,
        },
      ]);
      const s = await chartState();
      assert.equal(s.chosen, '1h');
      assert.equal(s.interval, '1h', 'drawn as 1h, not a coarser interval');
      const [a, b] = s.window.split(',').map(Number);
      // Opens on the latest candles: the window ends at the data's end (2023-05-01 00:00).
      assert.ok(Math.abs(b - Date.parse('2023-05-01T02:00:00Z')) <= 3_600_000, s.window);
      const candles = Number(s.candles);
      const px = Number(s['plot-width']) / candles;
      assert.ok(px >= 4 && px <= 12, `${candles} candles at ${px.toFixed(1)} px each`);
      assert.ok(b - a <= candles * 3_600_000 + 3 * 3_600_000);
      const [bodies, wicks] = await ui([
        { do: 'count', selector: `${CHART} svg g.candles_marks path`, webview: true },
        { do: 'count', selector: `${CHART} svg g.wicks_marks line`, webview: true },
      ]);
      assert.equal(bodies, candles, 'one body per candle in view');
      assert.equal(wicks, candles, 'one wick per candle in view');
      // From the first candle in view to the last, by open time: whole hours, not past the
      // latest candle (2023-04-30 23:00), though the view leaves room after it.
      const title = await webviewText(`${CHART} svg .role-title-text`);
      assert.match(title, /^BTCUSDT · 1h · 2023-04-\d\d \d\d:00 → 2023-04-30 23:00 UTC$/);
      assert.equal(await webviewText('#chart-status'), '', 'no note on the latest candles');
      assert.match(
        await chartLabel(),
        /^BTCUSDT 1h candlestick chart, 2023-04-\d\d \d\d:00 to 2023-04-30 23:00 UTC, last close [\d,.]+$/,
        'the accessible name says what is drawn',
      );
      await assertQuiet();
      const axis = await webviewText(`${CHART} svg .role-axis-title`);
      assert.match(axis, /UTC/, 'the time axis says UTC');
      const [labels] = await ui([
        { do: 'count', selector: `${CHART} svg .role-axis-label text`, webview: true },
      ]);
      assert.ok(Number(labels) >= 6, `axis labels: ${labels}`);
      await screenshot('chart');
    });

    it('shows a crosshair as TradingView does: the pointer height, the price and time tags', async () => {
      const hcross = `${CHART} svg g.price_panel_hcross line`;
      await pointAt('price_panel', 300, 60);
      await ui([
        { do: 'wait', selector: `${CHART} svg g.readout_marks text`, webview: true },
        { do: 'wait', selector: `${CHART} svg g.price_panel_ytag text`, webview: true },
      ]);
      const line = await webviewText(`${CHART} svg g.readout_marks text`);
      assert.match(
        line,
        /^2023-0\d-\d\d \d\d:00 UTC {3}O [\d,.]+ {2}H [\d,.]+ {2}L [\d,.]+ {2}C [\d,.]+ {2}[+−-][\d.]+% {3}Vol [\d.]+[KMB]?/,
      );
      // The tag on the price axis says the price where the horizontal rule is.
      const [, y60] = await translateOf(hcross);
      const tag60 = num(await webviewText(`${CHART} svg g.price_panel_ytag text`));
      const at60 = await priceAt(y60);
      const perPx = Math.abs((await priceAt(0)) - (await priceAt(1)));
      assert.ok(Math.abs(tag60 - at60) <= perPx, `tag ${tag60}, the axis says ${at60} there`);
      // 140 px down the panel at the same time: the rule follows the pointer (a candle's close
      // is not 140 px from its neighbour's), the price falls.
      const [before] = await ui([{ do: 'html', selector: hcross, webview: true }]);
      const moved = /transform="([^"]+)"/.exec(String(before))?.[1] ?? '';
      await pointAt('price_panel', 300, 200);
      await ui([
        {
          do: 'wait',
          selector: `${hcross}:not([transform="${moved}"])`,
          webview: true,
          state: 'attached',
        },
      ]);
      const [, y200] = await translateOf(hcross);
      assert.ok(
        Math.abs(y200 - y60 - 140) <= 1.5,
        `the rule moved with the pointer: ${y60} → ${y200}`,
      );
      const tag200 = num(await webviewText(`${CHART} svg g.price_panel_ytag text`));
      assert.ok(tag200 < tag60, `lower on the panel, a lower price: ${tag200} < ${tag60}`);
      assert.ok(Math.abs(tag200 - (await priceAt(y200))) <= perPx);
      // The time tag: the open time of the candle the vertical rule is on, where the rule is.
      const candle = (await webviewText(`${CHART} svg g.readout_marks text`)).slice(0, 16);
      const time = await webviewText(`${CHART} svg g.time_tag text`);
      assert.equal(time, timeTag(Date.parse(`${candle.replace(' ', 'T')}:00Z`)));
      const [vx] = await translateOf(`${CHART} svg g.price_vrule_marks line`);
      const [tx] = await translateOf(`${CHART} svg g.time_tag text`);
      assert.ok(Math.abs(vx - tx) < 0.5, `the time tag under the rule: ${tx} vs ${vx}`);
      const [pv, vv, legend, volumeTag] = await ui([
        { do: 'count', selector: `${CHART} svg g.price_vrule_marks line`, webview: true },
        { do: 'count', selector: `${CHART} svg g.volume_vrule_marks line`, webview: true },
        { do: 'text', selector: `${CHART} svg g.legend_0_marks text`, webview: true },
        { do: 'text', selector: `${CHART} svg g.volume_panel_ytag`, webview: true },
      ]);
      assert.equal(pv, 1, 'vertical rule on the price panel');
      assert.equal(vv, 1, 'vertical rule on the volume panel');
      assert.equal(volumeTag, '', 'no value tag on the panel the pointer is not in');
      assert.match(String(legend), /^SMA 20 [\d,.]+$/, 'the overlay legend with its value');
      // In the volume panel: its own rule and tag; the price panel's are gone.
      await pointAt('volume_panel', 300, 20);
      await ui([{ do: 'wait', selector: `${CHART} svg g.volume_panel_ytag text`, webview: true }]);
      assert.match(await webviewText(`${CHART} svg g.volume_panel_ytag text`), /^[\d.]+[KMB]?$/);
      assert.equal(await webviewText(`${CHART} svg g.price_panel_ytag`), '');
      await pointAt('price_panel', 300, 60);
      await ui([{ do: 'wait', selector: `${CHART} svg g.price_panel_ytag text`, webview: true }]);
      await screenshot('chart-crosshair');
      await assertQuiet();
    });

    it('zooms and pans from the keyboard within the data, never coarser than it can draw', async () => {
      await ui([{ do: 'click', selector: CHART, webview: true }]);
      const start = await chartState();
      const zoomedIn = await keys('+', '+');
      const span = (s: Record<string, string>): number => {
        const [a, b] = s.window.split(',').map(Number);
        return b - a;
      };
      assert.ok(span(zoomedIn) < span(start), 'zoomed in');
      assert.equal(zoomedIn.interval, '1h');
      // Zooming out stops at the data (14 days), still drawn in 1h: the width can draw it.
      const out = await keys('-', '-', '-', '-', '-', '-', '-', '-');
      assert.ok(span(out) <= 15 * 86_400_000 * 1.1, `bounded zoom: ${span(out)}`);
      assert.equal(out.interval, '1h');
      const [a] = out.window.split(',').map(Number);
      assert.ok(a >= Date.parse('2023-04-15T00:00:00Z'), `no axis running to the past: ${a}`);
      const home = await keys('0', '+', '+', 'Home');
      assert.ok(Number(home.window.split(',')[0]) < Date.parse('2023-04-17T01:00:00Z'));
      const end = await keys('End');
      assert.ok(Number(end.window.split(',')[1]) >= Date.parse('2023-04-30T23:00:00Z'));
      const left = await keys('ArrowLeft');
      assert.ok(Number(left.window.split(',')[1]) < Number(end.window.split(',')[1]));
      assert.doesNotMatch(await webviewText('#chart-status'), /expected|Too small|>=/);
      const title = await webviewText(`${CHART} svg .role-title-text`);
      assert.match(title, /· 1h ·/);
    });

    it('switches the timeframe from the keyboard and says when an indicator lacks candles', async () => {
      // ] steps to the next coarser timeframe: 1h → 2h → 3h → 4h → 6h → 8h → 12h → 1d.
      const s = await keys(']', ']', ']', ']', ']', ']', ']');
      assert.equal(s.chosen, '1d');
      assert.equal(s.interval, '1d');
      const title = await webviewText(`${CHART} svg .role-title-text`);
      assert.match(title, /^BTCUSDT · 1d · /);
      assert.equal(
        vscode.window.tabGroups.activeTabGroup.activeTab?.label ?? '',
        'BTCUSDT 1d',
        'the tab says the timeframe drawn',
      );
      assert.match(
        await chartLabel(),
        /^BTCUSDT 1d candlestick chart, 2023-04-\d\d 00:00 to 2023-04-30 00:00 UTC, last close [\d,.]+$/,
        'the accessible name follows the timeframe',
      );
      await assertQuiet();
      const before = await chartState();
      await ui([
        { do: 'click', selector: '#panels-macd-12-26-9', webview: true },
        frameAfter(Number(before.frame)),
        { do: 'wait', selector: `${CHART} svg g.panel_1_empty_marks text`, webview: true },
      ]);
      const note = await webviewText(`${CHART} svg g.panel_1_empty_marks text`);
      assert.equal(note, 'Not enough candles for MACD(12,26,9)');
      const withMacd = await chartState();
      assert.equal(withMacd.chosen, '1d', JSON.stringify(withMacd));
      assert.match(
        await webviewText(`${CHART} svg .role-title-text`),
        /^BTCUSDT · 1d · /,
        JSON.stringify(withMacd),
      );
      // One time axis, at the bottom: only the last panel has axis labels for time.
      const [axes] = await ui([
        { do: 'count', selector: `${CHART} svg .role-axis-title`, webview: true },
      ]);
      assert.equal(axes, 1, 'one time-axis title');
      await screenshot('chart-1d-macd');
      await ui([
        { do: 'click', selector: '#panels-macd-12-26-9', webview: true },
        { do: 'click', selector: CHART, webview: true },
      ]);
    });

    it('follows the theme', async () => {
      const label = `${CHART} svg .role-axis-label text`;
      const fill = async (): Promise<string> => {
        const [html] = await ui([{ do: 'html', selector: label, webview: true }]);
        return /fill="([^"]+)"/.exec(String(html))?.[1] ?? '';
      };
      const light = await fill();
      const cfg = vscode.workspace.getConfiguration('workbench');
      await cfg.update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
      try {
        await ui([
          {
            do: 'wait',
            selector: `${label}:not([fill="${light}"])`,
            webview: true,
            state: 'attached',
          },
          { do: 'hover', selector: `${CHART} svg`, webview: true, x: 420, y: 200 },
          { do: 'wait', selector: `${CHART} svg g.readout_marks text`, webview: true },
        ]);
        assert.notEqual(await fill(), light, 'axis labels in the dark theme colour');
        await screenshot('chart-dark');
      } finally {
        await cfg.update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    it('exports PNG and SVG on the theme background, titled, named after the timeframe', async () => {
      const saved: string[] = [];
      for (const format of ['png', 'svg']) {
        await ui([
          // The previous save dialog must be gone, or Enter would answer it instead of this one.
          { do: 'wait', selector: '.quick-input-widget', state: 'hidden' },
          { do: 'click', selector: `#export-${format}`, webview: true },
          { do: 'wait', selector: '.quick-input-widget input' },
          { do: 'press', key: 'Enter' },
          {
            do: 'wait',
            selector: `#chart-status:has-text(".${format}")`,
            webview: true,
          },
          { do: 'wait', selector: '.quick-input-widget', state: 'hidden' },
        ]);
        const file = readdirSync(dataDir()).find((f) => f.endsWith(`.${format}`));
        assert.ok(file, `a .${format} in ${dataDir()}`);
        saved.push(path.join(dataDir(), file));
      }
      const [png, svg] = saved;
      assert.match(path.basename(png), /^BTCUSDT-1d-\d{8}-\d{4}_\d{8}-\d{4}\.png$/);
      const { colorType, rgba } = firstPixel(readFileSync(png));
      assert.equal(colorType, 6, 'RGBA');
      assert.equal(rgba[3], 255, `an opaque background, not transparent: ${rgba}`);
      const text = readFileSync(svg, 'utf8');
      assert.match(text, /BTCUSDT · 1d · \d{4}-\d\d-\d\d \d\d:\d\d → /, 'the title');
      assert.match(text, /<rect[^>]+fill="(?!none|transparent)[^"]+"/, 'a filled background');
    });

    it('draws RSI and MACD under one UTC time axis with their values at the pointer', async () => {
      await ui([{ do: 'click', selector: CHART, webview: true }]);
      const s1h = await keys('[', '[', '[', '[', '[', '[', '[');
      assert.equal(s1h.chosen, '1h');
      for (const id of ['#panels-rsi-14', '#panels-macd-12-26-9']) {
        const before = await chartState();
        await ui([{ do: 'click', selector: id, webview: true }, frameAfter(Number(before.frame))]);
      }
      await ui([
        { do: 'wait', selector: `${CHART} svg g.panel_2_readout_last_marks text`, webview: true },
        { do: 'hover', selector: `${CHART} svg`, webview: true, x: 500, y: 120 },
        { do: 'wait', selector: `${CHART} svg g.panel_1_readout_marks text`, webview: true },
      ]);
      const rsi = await webviewText(`${CHART} svg g.panel_1_readout_marks text`);
      const macd = await webviewText(`${CHART} svg g.panel_2_readout_marks text`);
      assert.match(rsi, /^RSI 14 {2}\d+\.\d\d$/);
      assert.match(
        macd,
        /^MACD\(12,26,9\) {2}macd [−\d.e-]+ {2}signal [−\d.e-]+ {2}hist [−\d.e-]+$/,
      );
      const [titles, vrules] = await ui([
        { do: 'count', selector: `${CHART} svg .role-axis-title`, webview: true },
        { do: 'count', selector: `${CHART} svg g[class*="_vrule_marks"] line`, webview: true },
      ]);
      assert.equal(titles, 1, 'one time axis');
      assert.equal(vrules, 4, 'the crosshair on price, volume, RSI and MACD');
      // In an indicator panel the horizontal rule and the tag are that panel's: RSI's value at the
      // pointer's height on RSI's axis; the price panel has none.
      await pointAt('panel_1', 500, 20);
      await ui([{ do: 'wait', selector: `${CHART} svg g.panel_1_ytag text`, webview: true }]);
      const [, ry] = await translateOf(`${CHART} svg g.panel_1_hcross line`);
      assert.ok(ry > 0 && ry < 80, `RSI's rule in its panel: ${ry}`);
      const rsiTag = await webviewText(`${CHART} svg g.panel_1_ytag text`);
      assert.match(rsiTag, /^\d+\.\d\d$/);
      // RSI's axis runs 0 (bottom, 80 px) to 100 (top): the tag is the value at the rule.
      const expected = (100 * (80 - ry)) / 80;
      assert.ok(Math.abs(Number(rsiTag) - expected) <= 0.01, `RSI at ${ry} px: ${rsiTag}`);
      assert.equal(await webviewText(`${CHART} svg g.price_panel_ytag`), '');
      await pointAt('panel_2', 500, 40);
      await ui([{ do: 'wait', selector: `${CHART} svg g.panel_2_ytag text`, webview: true }]);
      assert.match(await webviewText(`${CHART} svg g.panel_2_ytag text`), /^[−\d.e-]+$/);
      assert.equal(await webviewText(`${CHART} svg g.panel_1_ytag`), '');
      assert.match(
        await webviewText(`${CHART} svg g.time_tag text`),
        /^\w{3} \d\d \w{3} 2023 {2}\d\d:00$/,
      );
      await pointAt('price_panel', 500, 120);
      await ui([{ do: 'wait', selector: `${CHART} svg g.price_panel_ytag text`, webview: true }]);
      await assertQuiet();
      await screenshot('chart-panels');
    });

    it('draws a coarser timeframe only past what the width can draw, and says so', async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('threadx.previewDataset', {
        symbol: 'BTCUSDT',
        interval: '15m',
      });
      await ui([
        {
          do: 'wait',
          selector: `${CHART}[data-last-ms][data-interval="15m"]`,
          webview: true,
          state: 'attached',
        },
        { do: 'click', selector: CHART, webview: true },
      ]);
      // 14 days of 15m are 1 344 candles: more than 2 px each can show in this panel.
      const out = await keys('-', '-', '-', '-', '-', '-', '-', '-');
      assert.equal(out.chosen, '15m');
      assert.notEqual(out.interval, '15m', 'a coarser interval drawn');
      const sub = await webviewText(`${CHART} svg .role-title-subtitle`);
      assert.match(sub, new RegExp(`^showing ${out.interval} - zoom in for 15m · `));
      assert.match(await webviewText(`${CHART} svg .role-title-text`), /^BTCUSDT · 15m · /);
      const back = await keys('0');
      assert.equal(back.interval, '15m', 'reset draws 15m again');
      assert.doesNotMatch(await webviewText(`${CHART} svg .role-title-subtitle`), /showing/);
    });

    it('zooms with the wheel around the pointer and pans by dragging', async () => {
      const span = (w: string): [number, number] => {
        const [a, b] = w.split(',').map(Number);
        return [a, b];
      };
      const before = await chartState();
      await ui([
        { do: 'wheel', selector: `${CHART} svg`, webview: true, x: 400, y: 200, dy: -300 },
        { do: 'wait', selector: `${CHART}:not([data-pending])`, webview: true, state: 'attached' },
      ]);
      const zoomed = await chartState();
      const [a0, b0] = span(before.window);
      const [a1, b1] = span(zoomed.window);
      assert.ok(b1 - a1 < b0 - a0, `the wheel zoomed in: ${before.window} → ${zoomed.window}`);
      assert.ok(a1 > a0 && b1 < b0, 'around the pointer, inside the old window');
      assert.equal(zoomed.interval, '15m');
      await ui([
        { do: 'drag', selector: `${CHART} svg`, webview: true, x: 400, y: 200, dx: 200 },
        { do: 'wait', selector: `${CHART}:not([data-pending])`, webview: true, state: 'attached' },
      ]);
      const dragged = await chartState();
      const [a2, b2] = span(dragged.window);
      assert.ok(
        a2 < a1,
        `dragging right shows earlier candles: ${zoomed.window} → ${dragged.window}`,
      );
      assert.ok(Math.abs(b2 - a2 - (b1 - a1)) < 1000, 'a pan keeps the span');
      const [bodies] = await ui([
        { do: 'count', selector: `${CHART} svg g.candles_marks path`, webview: true },
      ]);
      assert.equal(bodies, Number(dragged.candles));
      await assertQuiet();
    });

    it('at 1000 px wide with the side bar open: the timeframe, a readable axis, legible tags', async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('workbench.view.extension.threadx');
      await vscode.commands.executeCommand('threadx.previewDataset', {
        symbol: 'BTCUSDT',
        interval: '4h',
      });
      await ui([
        {
          do: 'wait',
          selector: `${CHART}[data-last-ms][data-interval="4h"]`,
          webview: true,
          state: 'attached',
        },
      ]);
      const wide = await chartState();
      await ui([
        { do: 'viewport', width: 1000, height: 800 },
        {
          do: 'wait',
          selector: `${CHART}[data-last-ms]:not([data-plot-width="${wide['plot-width']}"])`,
          webview: true,
          state: 'attached',
        },
        { do: 'wait', selector: '.part.sidebar', state: 'visible' },
        { do: 'wait', selector: `${CHART}:not([data-pending])`, webview: true, state: 'attached' },
      ]);
      const s = await chartState();
      assert.ok(Number(s['plot-width']) < Number(wide['plot-width']), 'laid out again, narrower');
      assert.equal(s.interval, '4h');
      assert.match(
        await webviewText(`${CHART} svg .role-title-text`),
        /^BTCUSDT · 4h · 2023-04-\d\d (00|04|08|12|16|20):00 → 2023-04-30 20:00 UTC$/,
      );
      const [labels] = await ui([
        { do: 'count', selector: `${CHART} svg .role-axis-label text`, webview: true },
      ]);
      assert.ok(Number(labels) >= 4, `axis labels: ${labels}`);
      await pointAt('price_panel', 200, 100);
      await ui([
        { do: 'wait', selector: `${CHART} svg g.price_panel_ytag text`, webview: true },
        { do: 'wait', selector: `${CHART} svg g.time_tag text`, webview: true },
      ]);
      assert.match(await webviewText(`${CHART} svg g.price_panel_ytag text`), /^[\d,.]+$/);
      assert.match(
        await webviewText(`${CHART} svg g.time_tag text`),
        /^\w{3} \d\d \w{3} 2023 {2}(00|04|08|12|16|20):00$/,
      );
      await assertQuiet();
      await screenshot('chart-1000');
    });
  });
}
