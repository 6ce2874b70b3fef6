/**
 * Chart timings in a real VS Code, from the chart's request to the drawn frame (measured in the
 * webview: `data-last-ms`), over a year of 1m candles: opening on the newest window, a pan past
 * the loaded buffer, and a timeframe switch. Figures, not timed tests: the medians are printed
 * for docs/benchmarks.md. Registered only with THREADX_E2E_BENCH=1 (the download of a year takes
 * a while).
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ThreadxApi } from '../../../extension/main.ts';
import { ui } from '../harness-suite/ui-client.cjs';

const SYMBOL = 'BNBUSDT';

async function attrs(): Promise<Record<string, string>> {
  const [html] = await ui([{ do: 'html', selector: '#chart', webview: true }]);
  const open = /^<div[^>]*>/.exec(String(html))?.[0] ?? '';
  return Object.fromEntries(
    [...open.matchAll(/data-([a-z-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  );
}

/** Presses `key` in the chart and resolves with the time the chart measured for it. */
async function timed(key: string): Promise<number> {
  const n = Number((await attrs()).measured ?? 0);
  await ui([
    { do: 'press', key },
    {
      do: 'wait',
      selector: `#chart[data-measured="${n + 1}"]`,
      webview: true,
      state: 'attached',
      timeoutMs: 30_000,
    },
  ]);
  return Number((await attrs())['last-ms']);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function registerChartBenchmarks(): void {
  if (!process.env.THREADX_E2E_BENCH) return;
  describe('Chart timings over a year of 1m', () => {
    it('measures open, pan and timeframe switch (request to drawn frame)', async function () {
      this.timeout(900_000);
      const api = vscode.extensions.getExtension<ThreadxApi>('threadx.threadx-data')!.exports;
      const client = await api.ctx.client();
      const run = await client.request('ingest/run', {
        symbols: [SYMBOL],
        start: '2022-05-01',
        end: '2023-05-01',
        intervals: ['1h'],
        source: 'archive',
      });
      assert.ok(run.symbols[0].rows > 500_000, `a year of 1m: ${run.symbols[0].rows}`);
      await api.ctx.registry.refresh();
      const open: number[] = [];
      const pan: number[] = [];
      const switched: number[] = [];
      for (let i = 0; i < 5; i++) {
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
        await vscode.commands.executeCommand('threadx.previewDataset', {
          symbol: SYMBOL,
          interval: '1m',
        });
        await ui([
          {
            do: 'wait',
            selector: '#chart[data-measured="1"]',
            webview: true,
            state: 'attached',
            timeoutMs: 60_000,
          },
          { do: 'click', selector: '#chart', webview: true },
        ]);
        const a = await attrs();
        assert.equal(a.interval, '1m', 'the newest window drawn in 1m');
        open.push(Number(a['last-ms']));
        // Shift+ArrowLeft pans half a screen: the first stays in the buffer, the next ones load.
        for (let k = 0; k < 4; k++) pan.push(await timed('Shift+ArrowLeft'));
        switched.push(await timed(']'));
        switched.push(await timed('['));
      }
      const line = `chart timings (ms, median of ${open.length}/${pan.length}/${switched.length}): open ${median(open).toFixed(0)}, pan ${median(pan).toFixed(0)}, switch ${median(switched).toFixed(0)}`;
      console.log(line);
      console.log(JSON.stringify({ open, pan, switched }));
      assert.ok(open.every(Number.isFinite) && pan.every(Number.isFinite));
    });
  });
}
