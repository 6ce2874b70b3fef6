/**
 * A damaged month in a real VS Code, as a trader meets it: stepping the chart from 1h down to 1m
 * over it clears the scene and says what is shown (nothing) and why, with Repair in the chart and
 * in a notification; the data manager's table offers Repair on the damaged row; "ThreadX: Repair
 * Symbol..." repairs from the palette. Each Repair runs in this window's daemon (which holds the
 * bank) and fetches the month again from the replay exchange. Runs after the extension, chart and
 * manager suites (BTCUSDT 2023-04-17 .. 2023-05-01 downloaded, 1m and 1h).
 */
import assert from 'node:assert/strict';
import { truncateSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { ThreadxApi } from '../../../extension/main.ts';
import { messages } from '../../../extension/messages.ts';
import { CHART, chartState, webviewText } from './chart-view.ts';
import { screenshot, ui } from '../harness-suite/ui-client.cjs';
import { typeText } from './env.ts';

const dataDir = (): string =>
  vscode.workspace.getConfiguration('threadx').get<string>('dataDirectory') ?? '';

/** Damages BTCUSDT's April 2023 1m partition behind the daemon's back (a disk fault). */
function damageApril(): void {
  truncateSync(path.join(dataDir(), 'processed', 'BTCUSDT', '1m', '2023-04.parquet'), 200);
}

/** Waits until the notification center lists an item with `has`; returns the center's text. */
async function notification(has: string, shot?: string): Promise<string> {
  await vscode.commands.executeCommand('notifications.showList');
  try {
    const results = await ui(
      [
        {
          do: 'wait',
          selector: `.notifications-center .notification-list-item:has-text(${JSON.stringify(has)})`,
          timeoutMs: 90_000,
        },
        ...(shot ? [{ do: 'screenshot' as const, name: shot }] : []),
        { do: 'text', selector: '.notifications-center' },
      ],
      { timeoutMs: 150_000 },
    );
    return String(results.at(-1));
  } finally {
    await vscode.commands.executeCommand('notifications.hideList');
  }
}

export function registerRepairTests(): void {
  describe('A damaged month, and Repair inside VS Code', () => {
    let api: ThreadxApi;

    before(async () => {
      api = vscode.extensions.getExtension<ThreadxApi>('threadx.threadx-data')!.exports;
      await vscode.commands.executeCommand('notifications.clearAll');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('stepping the chart from 1h to 1m over it clears the scene and names what is shown', async () => {
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
      const [drawn] = await ui([
        { do: 'count', selector: `${CHART} svg g.candles_marks path`, webview: true },
      ]);
      assert.ok(Number(drawn) > 50, `1h candles drawn: ${drawn}`);

      damageApril();
      // [ steps to the next finer timeframe: 1h → 30m → 15m → 5m → 3m → 1m, each read from 1m.
      await ui([
        { do: 'click', selector: CHART, webview: true },
        ...['[', '[', '[', '[', '['].map((key) => ({ do: 'press' as const, key })),
        { do: 'wait', selector: `${CHART}[data-failed="1m"]`, webview: true, state: 'attached' },
      ]);
      const s = await chartState();
      assert.equal(s.failed, '1m');
      assert.equal(s.chosen, '1m');
      assert.equal(s.candles, '0');
      assert.equal(s.interval, undefined, 'no interval is drawn');
      const [bodies, svgs] = await ui([
        { do: 'count', selector: `${CHART} svg g.candles_marks path`, webview: true },
        { do: 'count', selector: `${CHART} svg`, webview: true },
      ]);
      assert.equal(bodies, 0, 'none of the 1h candles stay drawn under "1m"');
      assert.equal(svgs, 0, 'the scene is cleared');
      assert.equal(await webviewText('.failed-title'), 'BTCUSDT · 1m · no candles shown');
      assert.match(
        await webviewText('.failed-shown'),
        /^Nothing is drawn: the 1m candles for 2023-\d\d-\d\d \d\d:\d\d → 2023-\d\d-\d\d \d\d:\d\d UTC could not be read\.$/,
      );
      const detail = await webviewText('.failed-detail');
      assert.match(
        detail,
        /BTCUSDT\/1m cannot be read: processed\/BTCUSDT\/1m\/2023-04\.parquet is damaged/,
      );
      assert.doesNotMatch(detail, /threadx repair/, 'no shell command the daemon would refuse');
      assert.equal(await webviewText('#repair'), 'Repair BTCUSDT');
      // The way back names the timeframe last drawn: 1h, or 15m (a stored file, not damaged)
      // when its answer came before the next key.
      assert.match(await webviewText('#show-drawn'), /^Show (1h|15m)$/);
      assert.equal(
        vscode.window.tabGroups.activeTabGroup.activeTab?.label ?? '',
        'BTCUSDT 1m',
        'the tab names the timeframe asked for',
      );
      await screenshot('chart-failed-read');

      // The same damage as a notification, with Repair as its button.
      const center = await notification(
        'BTCUSDT/1m cannot be read',
        'chart-failed-read-notification',
      );
      assert.match(center, /Repair BTCUSDT to fetch it again/);
      await vscode.commands.executeCommand('notifications.showList');
      try {
        await ui([
          {
            do: 'wait',
            selector:
              '.notifications-center .notification-list-item:has-text("BTCUSDT/1m cannot be read") .monaco-button:has-text("Repair")',
          },
        ]);
      } finally {
        await vscode.commands.executeCommand('notifications.hideList');
      }
    });

    it("the chart's Repair fetches the month again in this window's daemon and draws 1m", async () => {
      await ui(
        [
          { do: 'click', selector: '#repair', webview: true },
          {
            do: 'wait',
            selector: `${CHART}[data-interval="1m"]:not([data-failed]):not([data-pending])`,
            webview: true,
            state: 'attached',
            timeoutMs: 90_000,
          },
        ],
        { timeoutMs: 150_000 },
      );
      const s = await chartState();
      assert.equal(s.chosen, '1m');
      assert.ok(Number(s.candles) > 50, `1m candles drawn: ${s.candles}`);
      const [bodies] = await ui([
        { do: 'count', selector: `${CHART} svg g.candles_marks path`, webview: true },
      ]);
      assert.equal(bodies, Number(s.candles));
      assert.match(
        await webviewText(`${CHART} svg .role-title-text`),
        /^BTCUSDT · 1m · 2023-\d\d-\d\d \d\d:\d\d → /,
      );
      await notification(messages.repaired(['BTCUSDT']));
      await screenshot('chart-repaired');
    });

    it("the data manager's table offers Repair on the damaged row", async () => {
      damageApril();
      // The registry learns of the damage from a verify (or, once listings check sizes, at once).
      await vscode.commands.executeCommand('threadx.verifyRegistry');
      await vscode.commands.executeCommand('notifications.clearAll');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('threadx.openDataManager');
      const row = 'tr[data-id="BTCUSDT/1m"]';
      await ui([
        {
          do: 'wait',
          selector: `${row} button.row-repair`,
          webview: true,
          timeoutMs: 30_000,
        },
      ]);
      const [label, sound] = await ui([
        { do: 'text', selector: `${row} button.row-repair`, webview: true },
        {
          do: 'count',
          selector: 'tr[data-id="BTCUSDT/1h"] button.row-repair',
          webview: true,
        },
      ]);
      assert.equal(label, 'Repair');
      assert.equal(sound, 0, 'no Repair on a sound row');
      await ui([{ do: 'hover', selector: `${row} button.row-repair`, webview: true }]);
      await screenshot('manager-repair');
      await ui(
        [
          { do: 'click', selector: `${row} button.row-repair`, webview: true },
          {
            do: 'wait',
            selector: `${row} td.integrity[data-state="verified"]`,
            webview: true,
            state: 'attached',
            timeoutMs: 90_000,
          },
          {
            do: 'wait',
            selector: `${row} button.row-repair`,
            webview: true,
            state: 'detached',
          },
        ],
        { timeoutMs: 150_000 },
      );
      await notification(messages.repaired(['BTCUSDT']));
      await screenshot('manager-repaired');
    });

    it('"ThreadX: Repair Symbol..." repairs the symbol picked in the palette', async () => {
      damageApril();
      await vscode.commands.executeCommand('notifications.clearAll');
      await ui([
        { do: 'command', title: 'ThreadX: Repair Symbol...' },
        {
          do: 'wait',
          selector: '.quick-input-widget .quick-input-list-row:has-text("BTCUSDT")',
        },
        ...typeText('BTCUSDT'),
        { do: 'screenshot', name: 'repair-symbol-pick' },
        { do: 'press', key: 'Enter' },
      ]);
      await notification(messages.repaired(['BTCUSDT']));
      const client = await api.ctx.client();
      const back = await client.request('data/read', {
        symbol: 'BTCUSDT',
        interval: '1m',
        start: '2023-04-30',
        end: '2023-05-01',
        exact: true,
        maxPoints: 2000,
      });
      assert.equal(back.length, 1440, 'the damaged month reads again');
    });
  });
}
