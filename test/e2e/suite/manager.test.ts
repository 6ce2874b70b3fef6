/**
 * The data manager from the keyboard and for assistive technology, in a real VS Code: the mode
 * radios and the form agree however they moved, a plan is cleared when the form changes or a
 * download starts, sortable headers sort with Enter and Space and say their order, indicator
 * caches open in a detail row, the table exports to CSV, and axe-core finds no serious or
 * critical violation in the manager or the chart. Also: the palette's symbol pick shows its
 * problem as a plain sentence. Runs after the extension suite (data downloaded, indicators
 * computed).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { screenshot, ui } from '../harness-suite/ui-client.cjs';
import { messages } from '../../../extension/messages.ts';
import { typeText } from './env.ts';

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

async function axe(): Promise<Violation[]> {
  const [v] = await ui([{ do: 'axe', webview: true, timeoutMs: 30_000 }]);
  return (v as Violation[]).filter((x) => x.impact === 'serious' || x.impact === 'critical');
}

async function attr(selector: string, name: string): Promise<string | undefined> {
  const [html] = await ui([{ do: 'html', selector, webview: true }]);
  const open = /^<[^>]*>/.exec(String(html))?.[0] ?? '';
  return new RegExp(`${name}="([^"]*)"`).exec(open)?.[1];
}

const dataDir = (): string =>
  vscode.workspace.getConfiguration('threadx').get<string>('dataDirectory') ?? '';

export function registerManagerTests(): void {
  describe('Data manager from the keyboard', () => {
    before(async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('threadx.openDataManager', {
        mode: 'list',
        symbols: 'BTCUSDT',
        start: '2023-04-17',
        end: '2023-05-01',
        intervals: ['1h'],
        source: 'auto',
      });
      await ui([
        { do: 'wait', selector: '#registry-table tbody tr', webview: true, timeoutMs: 30_000 },
      ]);
    });

    it('keeps the form in step with radios moved by the keyboard', async () => {
      await ui([
        { do: 'click', selector: '#mode-list', webview: true },
        { do: 'press', key: 'ArrowRight' }, // Top N
        { do: 'press', key: 'ArrowRight' }, // Group
        { do: 'wait', selector: '#field-group', webview: true },
        { do: 'wait', selector: '#field-symbols', webview: true, state: 'hidden' },
        { do: 'press', key: 'ArrowLeft' },
        { do: 'press', key: 'ArrowLeft' },
        { do: 'press', key: 'ArrowLeft' }, // Single
        { do: 'wait', selector: '#field-symbols', webview: true },
        { do: 'wait', selector: '#field-group', webview: true, state: 'hidden' },
      ]);
      const [, , summary] = await ui([
        { do: 'click', selector: '#plan', webview: true },
        { do: 'wait', selector: '#plan-summary', webview: true },
        { do: 'text', selector: '#plan-summary', webview: true },
      ]);
      // Single with BTCUSDT planned one symbol, not the group the radios passed through.
      assert.match(String(summary), /^1 symbol\(s\)/);
    });

    it('clears a plan when the form changes and when a download starts', async () => {
      await ui([
        { do: 'click', selector: '#interval-4h', webview: true },
        { do: 'wait', selector: '#plan-summary', webview: true, state: 'detached' },
        { do: 'click', selector: '#plan', webview: true },
        { do: 'wait', selector: '#plan-summary', webview: true },
        { do: 'click', selector: '#download', webview: true },
        { do: 'wait', selector: '#plan-summary', webview: true, state: 'detached' },
        { do: 'wait', selector: '#job-summary.ok', webview: true, timeoutMs: 60_000 },
      ]);
    });

    it('sorts with Enter and Space on a header and says the order', async () => {
      const th = '#registry-table th[data-key="rows"]';
      await ui([{ do: 'click', selector: th, webview: true }]);
      assert.equal(await attr(th, 'aria-sort'), 'ascending');
      await ui([{ do: 'press', key: 'Enter' }]);
      assert.equal(await attr(th, 'aria-sort'), 'descending');
      await ui([{ do: 'press', key: ' ' }]);
      assert.equal(await attr(th, 'aria-sort'), 'ascending');
      const [status] = await ui([{ do: 'text', selector: '#registry-empty', webview: true }]);
      assert.match(String(status), /^Sorted by Rows, ascending\./);
    });

    it('opens indicator caches in a detail row and keeps the actions in view', async () => {
      const [n] = await ui([
        { do: 'count', selector: '#registry-table button.disclosure', webview: true },
      ]);
      assert.ok(Number(n) > 0, 'a dataset with indicator caches has a disclosure');
      const [rows] = await ui([
        { do: 'count', selector: '#registry-table tbody tr', webview: true },
      ]);
      await ui([
        { do: 'click', selector: '#registry-table button.disclosure', webview: true },
        { do: 'wait', selector: '#registry-table tr.detail li', webview: true },
      ]);
      const [after, label] = await ui([
        { do: 'count', selector: '#registry-table tbody tr', webview: true },
        { do: 'text', selector: '#registry-table tr.detail li', webview: true },
      ]);
      assert.equal(after, Number(rows) + 1, 'one detail row, not a row per cache');
      assert.match(String(label), /rows, 2023-/);
      assert.equal(
        await attr('#registry-table button.disclosure[aria-expanded]', 'aria-expanded'),
        'true',
      );
      await ui([
        { do: 'hover', selector: '#registry-table tr.detail', webview: true },
        { do: 'wait', selector: '#registry-table .action-delete', webview: true },
      ]);
      await screenshot('data-manager-registry');
    });

    it('exports the registry table to CSV', async () => {
      const file = path.join(dataDir(), 'threadx-registry.csv');
      await ui([
        { do: 'click', selector: '#export-table', webview: true },
        { do: 'wait', selector: '.quick-input-widget input' },
        { do: 'press', key: 'Enter' },
      ]);
      await ui([{ do: 'wait', selector: '#table-status:has-text("Saved")', webview: true }]);
      assert.ok(existsSync(file), file);
      const csv = readFileSync(file, 'utf8');
      assert.match(csv, /^dataset,symbol,interval,rows,first_utc,last_utc,/);
      assert.match(csv, /\nBTCUSDT\/1m,BTCUSDT,1m,/);
    });

    it('shows a batch download in a cancellable notification', async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      // Fourteen months of 1m: long enough to be cancelled while it runs.
      await vscode.commands.executeCommand('threadx.openDataManager', {
        mode: 'list',
        symbols: 'BTCUSDT',
        start: '2022-01-01',
        end: '2023-03-01',
        intervals: ['1h'],
        source: 'auto',
      });
      await ui([
        { do: 'click', selector: '#download', webview: true },
        { do: 'wait', selector: '#symbol-progress tr.running', webview: true, timeoutMs: 30_000 },
      ]);
      await vscode.commands.executeCommand('notifications.showList');
      try {
        const [, text] = await ui([
          {
            do: 'wait',
            selector: '.notifications-center .notification-list-item:has-text("downloading")',
          },
          { do: 'text', selector: '.notifications-center' },
          { do: 'click', selector: '.notifications-center .monaco-button:has-text("Cancel")' },
        ]);
        assert.match(String(text), /ThreadX: downloading 1 symbol/);
      } finally {
        await vscode.commands.executeCommand('notifications.hideList');
      }
      const [, summary] = await ui([
        { do: 'wait', selector: '#job-summary.warn', webview: true, timeoutMs: 30_000 },
        { do: 'text', selector: '#job-summary', webview: true },
      ]);
      assert.equal(String(summary), messages.cancelled('The download'));
    });

    it('has no serious or critical accessibility violations (axe-core)', async () => {
      const found = await axe();
      assert.deepEqual(found, [], JSON.stringify(found, null, 1));
    });

    it('has none in the chart either', async () => {
      await vscode.commands.executeCommand('threadx.previewDataset', {
        symbol: 'BTCUSDT',
        interval: '1h',
      });
      await ui([
        { do: 'wait', selector: '#chart[data-last-ms]', webview: true, state: 'attached' },
      ]);
      const found = await axe();
      assert.deepEqual(found, [], JSON.stringify(found, null, 1));
    });

    it('shows a palette problem as a plain sentence', async () => {
      await ui([
        { do: 'command', title: 'ThreadX: Download Symbols...' },
        { do: 'click', selector: '.quick-input-widget input' },
        ...typeText('b!'),
        { do: 'press', key: 'Enter' },
        { do: 'wait', selector: '.quick-input-title:has-text("Not a symbol")' },
      ]);
      const [title] = await ui([{ do: 'text', selector: '.quick-input-title' }]);
      assert.doesNotMatch(String(title), /\$\(/);
      assert.match(String(title), /^[A-Z].*\.$/);
      await ui([{ do: 'press', key: 'Escape' }]);
    });
  });
}
