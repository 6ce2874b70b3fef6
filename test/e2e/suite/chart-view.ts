/** Reading the chart webview from the e2e suites: its data attributes and a node's text. */
import { ui } from '../harness-suite/ui-client.cjs';

export const CHART = '#chart';

/** The chart's data attributes (window, candles, interval, frame, last timing, failure). */
export async function chartState(): Promise<Record<string, string>> {
  const [html] = await ui([{ do: 'html', selector: CHART, webview: true }]);
  const open = /^<div[^>]*>/.exec(String(html))?.[0] ?? '';
  return Object.fromEntries(
    [...open.matchAll(/data-([a-z-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  );
}

/** The text of `selector` in the webview. */
export async function webviewText(selector: string): Promise<string> {
  const [t] = await ui([{ do: 'text', selector, webview: true }]);
  return String(t);
}

/** The chart's accessible name (its `aria-label`). */
export async function chartLabel(): Promise<string> {
  const [html] = await ui([{ do: 'html', selector: CHART, webview: true }]);
  const open = /^<div[^>]*>/.exec(String(html))?.[0] ?? '';
  return /aria-label="([^"]*)"/.exec(open)?.[1] ?? '';
}

/** The first `translate(x,y)` in an SVG node's markup. */
export async function translateOf(selector: string): Promise<[number, number]> {
  const [html] = await ui([{ do: 'html', selector, webview: true }]);
  const m = /translate\(([-\d.e]+),\s*([-\d.e]+)\)/.exec(String(html));
  if (!m) throw new Error(`no translate in ${selector}: ${String(html).slice(0, 200)}`);
  return [Number(m[1]), Number(m[2])];
}
