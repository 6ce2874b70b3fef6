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
import { type UiStep, ui } from '../harness-suite/ui-client.cjs';
import { messages } from '../../../extension/messages.ts';
import { typeText } from './env.ts';
import {
  DEFAULT_WINDOW,
  NARROW,
  WIDE,
  docsScreenshots,
  focused,
  setWindow,
  tableLayout,
  webviewAt,
  webviewWidth,
} from './layout.ts';

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

/** Steps that empty a text field from the keyboard (up to 12 characters) and type `text`. */
function retype(selector: string, text: string): UiStep[] {
  return [
    { do: 'click', selector, webview: true },
    { do: 'press', key: 'End' },
    ...Array.from({ length: 12 }, () => ({ do: 'press' as const, key: 'Backspace' })),
    ...typeText(text),
  ];
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
      // The hint says what the mode takes: one symbol here, a list in List.
      const [single] = await ui([{ do: 'text', selector: '#field-symbols .help', webview: true }]);
      assert.match(String(single), /^One symbol, e\.g\. BTCUSDC/);
      assert.doesNotMatch(String(single), /Comma/);
      const [, , summary] = await ui([
        { do: 'click', selector: '#plan', webview: true },
        { do: 'wait', selector: '#plan-summary', webview: true },
        { do: 'text', selector: '#plan-summary', webview: true },
      ]);
      // Single with BTCUSDT planned one symbol, not the group the radios passed through.
      assert.match(String(summary), /^1 symbol\(s\)/);
    });

    it('lists the symbols a plan leaves out, as the run would', async () => {
      await ui([
        { do: 'click', selector: '#mode-list', webview: true },
        { do: 'wait', selector: '#field-symbols .help:has-text("Comma separated")', webview: true },
        { do: 'click', selector: '#symbols', webview: true },
        { do: 'press', key: 'End' },
        ...typeText(', NOPEUSDT'),
        { do: 'click', selector: '#plan', webview: true },
        { do: 'wait', selector: '#plan-table tr.skipped', webview: true },
      ]);
      const [summary, skipped, listed] = await ui([
        { do: 'text', selector: '#plan-summary', webview: true },
        { do: 'text', selector: '#plan-table tr.skipped[data-symbol="NOPEUSDT"]', webview: true },
        { do: 'count', selector: '#plan-table tbody tr:not(.skipped)', webview: true },
      ]);
      assert.match(String(summary), /^1 symbol\(s\): /);
      assert.match(String(summary), /Not downloaded: NOPEUSDT \(not listed on the exchange\)\.$/);
      assert.match(String(skipped), /NOPEUSDT.*skipped: not listed on the exchange/);
      assert.equal(listed, 1, 'BTCUSDT is planned');
      // Back to BTCUSDT alone for the download below.
      await ui([
        { do: 'click', selector: '#symbols', webview: true },
        { do: 'press', key: 'End' },
        ...Array.from({ length: ', NOPEUSDT'.length }, () => ({
          do: 'press' as const,
          key: 'Backspace',
        })),
        { do: 'wait', selector: '#plan-summary', webview: true, state: 'detached' },
      ]);
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
      const showDetail = async (): Promise<void> => {
        await ui([
          { do: 'hover', selector: '#registry-table tr.detail', webview: true },
          { do: 'wait', selector: '#registry-table button.row-menu-button', webview: true },
        ]);
      };
      await showDetail();
      await docsScreenshots('registry-table', showDetail);
    });

    it('fits the table beside the side bar of a 1000 px window and in a 600 px panel', async () => {
      await vscode.commands.executeCommand('workbench.view.extension.threadx');
      try {
        await setWindow(NARROW);
        const beside = await webviewWidth();
        assert.ok(beside >= 560 && beside <= 700, `the panel beside the side bar: ${beside} px`);
        for (const width of [beside, 600]) {
          if (width !== beside) assert.equal(await webviewAt(width), width);
          const t = await tableLayout();
          const at = `at ${t.width} px: ${JSON.stringify(t)}`;
          console.log(
            `registry table at ${t.width} px: ${t.rows} rows, the tallest ${t.rowHeight} px; columns ${t.headers.join(', ')}`,
          );
          assert.ok(t.rows >= 5, at);
          assert.deepEqual(t.clipped, [], `no cell is cut ${at}`);
          assert.ok(t.rowHeight <= 30, `rows are one line ${at}`);
          assert.ok(
            t.pageOverflow <= 0 && t.sectionOverflow <= 0,
            `nothing scrolls sideways ${at}`,
          );
          assert.equal(t.menus, t.rows, `every row has its menu ${at}`);
          assert.deepEqual(t.menusOutOfView, [], `every menu button is in view ${at}`);
          assert.ok(t.integrityInView, `the Integrity column is in view ${at}`);
          assert.ok(t.headers.includes('Dataset') && t.headers.includes('Last (UTC)'), at);
        }
        // Beside the side bar of a 1400 px window (a panel of about 1030 px) every column is back.
        await setWindow(WIDE);
        const wide = await tableLayout();
        assert.deepEqual(
          wide.headers,
          [
            'Select',
            'Dataset',
            'Rows',
            'First (UTC)',
            'Last (UTC)',
            'Gaps',
            'Filled',
            'Size',
            'Integrity',
            'Actions',
          ],
          `at ${wide.width} px`,
        );
        assert.deepEqual(wide.clipped, [], `no cell is cut at ${wide.width} px`);
      } finally {
        await setWindow(DEFAULT_WINDOW);
      }
    });

    it("opens a row's menu from the keyboard, and its actions run", async () => {
      const row = '#registry-table tr[data-id="BTCUSDT/1h"]';
      const button = `${row} button.row-menu-button`;
      await ui([
        { do: 'click', selector: '#registry-section h2', webview: true },
        { do: 'eval', webview: true, expr: `document.querySelector('${button}').focus()` },
        { do: 'press', key: 'Enter' },
        { do: 'wait', selector: '.row-menu [role="menuitem"]', webview: true },
      ]);
      assert.equal(await attr(button, 'aria-expanded'), 'true');
      const [items] = await ui([
        {
          do: 'eval',
          webview: true,
          expr: `[...document.querySelectorAll('.row-menu [role="menuitem"]')].map((b) => b.textContent)`,
        },
      ]);
      assert.deepEqual(items, ['Preview', 'Update', 'Export CSV…', 'Export Excel…', 'Delete…']);
      assert.equal(await focused(), 'Preview', 'the first item has the focus');
      await ui([{ do: 'press', key: 'ArrowDown' }]);
      assert.equal(await focused(), 'Update');
      await ui([{ do: 'press', key: 'End' }]);
      assert.equal(await focused(), 'Delete…');
      await ui([{ do: 'press', key: 'ArrowDown' }]);
      assert.equal(await focused(), 'Preview', 'the arrows wrap');
      await ui([
        { do: 'press', key: 'Escape' },
        { do: 'wait', selector: '.row-menu', webview: true, state: 'detached' },
      ]);
      assert.equal(await attr(button, 'aria-expanded'), 'false');
      assert.equal(await focused(), '⋯', 'Escape gives the focus back to the button');
      // ArrowUp opens on the last item; Home goes to the first; Enter runs it (Preview).
      await ui([
        { do: 'press', key: 'ArrowUp' },
        { do: 'wait', selector: '.row-menu', webview: true },
      ]);
      assert.equal(await focused(), 'Delete…');
      await ui([
        { do: 'press', key: 'Home' },
        { do: 'press', key: 'Enter' },
        { do: 'wait', selector: '.tab:has-text("BTCUSDT 1h")' },
      ]);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await ui([{ do: 'wait', selector: row, webview: true }]);
    });

    it('exports the registry table to CSV', async () => {
      const file = path.join(dataDir(), 'threadx-registry.csv');
      await ui([
        // No other dialog may be open, or Enter would answer it instead of this one.
        { do: 'wait', selector: '.quick-input-widget', state: 'hidden' },
        { do: 'click', selector: '#export-table', webview: true },
        { do: 'wait', selector: '.quick-input-widget input' },
        { do: 'press', key: 'Enter' },
      ]);
      const [, said] = await ui([
        { do: 'wait', selector: '#table-status:has-text("Saved")', webview: true },
        { do: 'text', selector: '#table-status .saved-text', webview: true },
      ]);
      assert.ok(existsSync(file), file);
      const csv = readFileSync(file, 'utf8');
      assert.match(csv, /^dataset,symbol,interval,rows,first_utc,last_utc,/);
      assert.match(csv, /\nBTCUSDT\/1m,BTCUSDT,1m,/);
      const rows = csv.trimEnd().split('\n').length - 1;
      // Said where it was written, next to the button and in a notification, with Open.
      assert.equal(String(said), messages.tableSaved(rows, file));
      await vscode.commands.executeCommand('notifications.showList');
      try {
        const [, center] = await ui([
          {
            do: 'wait',
            selector: '.notifications-center .notification-list-item:has-text("Saved")',
          },
          { do: 'text', selector: '.notifications-center' },
        ]);
        assert.ok(String(center).includes(messages.tableSaved(rows, file)), String(center));
        assert.match(String(center), /Open/);
        assert.match(String(center), /Reveal/);
      } finally {
        await vscode.commands.executeCommand('notifications.hideList');
      }
      await ui([
        { do: 'click', selector: '#open-saved', webview: true },
        { do: 'wait', selector: '.tab:has-text("threadx-registry.csv")' },
      ]);
      assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, file);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });

    it('puts the first Tab on the checked mode, and a new panel opens as the last was left', async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('threadx.openDataManager', {
        mode: 'group',
        group: 'L1',
      });
      await ui([
        { do: 'wait', selector: '#group-members:has-text("BTCUSDC")', webview: true },
        { do: 'click', selector: 'h1', webview: true },
        { do: 'press', key: 'Tab' },
      ]);
      assert.equal(await focused(), 'mode-group', 'Tab lands on the checked radio');
      await docsScreenshots('download-group');
      // Top N with 7 of USDT, from the keyboard; then the panel is closed and opened again.
      await ui([
        { do: 'click', selector: 'h1', webview: true },
        { do: 'press', key: 'Tab' },
        { do: 'press', key: 'ArrowLeft' },
        { do: 'wait', selector: '#top-fields', webview: true },
        // Cleared with Backspace: a webview's Ctrl+A goes through the workbench and comes back
        // later, when it would select what was typed meanwhile.
        ...retype('#topN', '7'),
        ...retype('#quote', 'USDT'),
        { do: 'text', selector: '#quote', webview: true },
      ]);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('threadx.openDataManager');
      const [, restored] = await ui([
        { do: 'wait', selector: '#top-fields', webview: true },
        {
          do: 'eval',
          webview: true,
          expr: `(() => ({
            top: document.getElementById('mode-top').checked,
            group: document.getElementById('mode-group').checked,
            topN: document.getElementById('topN').value,
            quote: document.getElementById('quote').value,
          }))()`,
        },
      ]);
      assert.deepEqual(restored, { top: true, group: false, topN: '7', quote: 'USDT' });
      await ui([
        { do: 'click', selector: 'h1', webview: true },
        { do: 'press', key: 'Tab' },
      ]);
      assert.equal(await focused(), 'mode-top', 'the restored mode is the Tab stop');
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
