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
