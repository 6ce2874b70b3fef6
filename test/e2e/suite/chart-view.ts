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

/**
 * Where a panel's plot area starts in the chart's SVG: the root's translate (padding and title)
 * plus the panel group's own. Pointer positions in a panel are this plus the position in it.
 */
export async function panelOrigin(panel: string): Promise<[number, number]> {
  const [html] = await ui([{ do: 'html', selector: `${CHART} svg`, webview: true }]);
  const svg = String(html);
  const root = /<g [^>]*transform="translate\(([-\d.]+),([-\d.]+)\)"/.exec(svg);
  const group = new RegExp(
    `class="[^"]*\\b${panel}_group\\b[^"]*"[^>]*><g transform="translate\\(([-\\d.]+),([-\\d.]+)\\)"`,
  ).exec(svg);
  if (!root || !group) throw new Error(`no ${panel}_group in the chart's SVG`);
  return [Number(root[1]) + Number(group[1]), Number(root[2]) + Number(group[2])];
}

/**
 * Moves the pointer to (x, y) in a panel's plot area. Twice, from 2 px to the left: the first move
 * into a webview that has not had the pointer since it was drawn or resized does not reach Vega.
 */
export async function pointAt(panel: string, x: number, y: number): Promise<void> {
  const [ox, oy] = await panelOrigin(panel);
  await ui([
    { do: 'hover', selector: `${CHART} svg`, webview: true, x: ox + x - 2, y: oy + y },
    { do: 'hover', selector: `${CHART} svg`, webview: true, x: ox + x, y: oy + y },
  ]);
}
