/**
 * The extension in a real VS Code: activation, the daemon's lifecycle (start, restart after a
 * kill), a download from the palette with progress, the registry tree, the data manager, the
 * candlestick preview, cancellation and Verify finding a corrupted file. Screenshots of each view
 * go to the run's screenshots folder.
 */
import assert from 'node:assert/strict';
import { existsSync, openSync, readdirSync, writeSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { screenshot, ui } from '../harness-suite/ui-client.cjs';
import type { ThreadxApi } from '../../../extension/main.ts';
import { messages } from '../../../extension/messages.ts';
import { type Replay, startReplay, tempDir, typeText, until, waitForEvent } from './env.ts';
import { docsScreenshots } from './layout.ts';

const EXTENSION_ID = 'threadx.threadx-data';

/**
 * The text of the notification center (toasts are not shown in this headless workbench), with a
 * screenshot when `shot` is given; the center is closed again.
 */
async function notifications(shot?: string): Promise<string> {
  await vscode.commands.executeCommand('notifications.showList');
  const [text] = await ui([
    { do: 'wait', selector: '.notifications-center .notification-list-item' },
    ...(shot ? [{ do: 'screenshot' as const, name: shot }] : []),
    { do: 'text', selector: '.notifications-center' },
  ]).then((r) => r.slice(-1));
  await vscode.commands.executeCommand('notifications.hideList');
  return String(text);
}

/** `more` registers further suites inside this one, so they share its replay exchange and data. */
export function registerExtensionTests(...more: (() => void)[]): void {
  let api: ThreadxApi;
  let replay: Replay;
  let dataDir: string;
  let root: string;

  describe('ThreadX Data extension', () => {
    before(async () => {
      const ext = vscode.extensions.getExtension<ThreadxApi>(EXTENSION_ID);
      assert.ok(ext, `${EXTENSION_ID} is loaded`);
      root = ext.extensionPath;
      replay = await startReplay(root, ['--now', '2023-05-01T21:03:00Z', '--latency', '20-40']);
      dataDir = tempDir('threadx-e2e-data-');
      const cfg = vscode.workspace.getConfiguration('threadx');
      const target = vscode.ConfigurationTarget.Global;
      await cfg.update('apiBaseUrl', replay.url, target);
      await cfg.update('archiveUrl', replay.url, target);
      await cfg.update('dataDirectory', dataDir, target);
      await cfg.update('defaultIntervals', ['1h', '4h', '1d'], target);
    });

    after(async () => {
      await replay?.stop();
    });

    it('activates lazily and registers every command', async () => {
      const ext = vscode.extensions.getExtension<ThreadxApi>(EXTENSION_ID)!;
      assert.equal(ext.isActive, false, 'nothing activated it before a command or the view');
      api = await ext.activate();
      assert.equal(ext.isActive, true);
      const all = await vscode.commands.getCommands(true);
      for (const id of [
        'threadx.openDataManager',
        'threadx.downloadSymbols',
        'threadx.downloadTop',
        'threadx.downloadGroup',
        'threadx.updateIndicators',
        'threadx.verifyRegistry',
        'threadx.previewDataset',
        'threadx.exportCsv',
        'threadx.refreshRegistry',
        'threadx.restartDaemon',
        'threadx.showLogs',
        'threadx.copyConnectionInfo',
      ]) {
        assert.ok(all.includes(id), `${id} is registered`);
      }
    });

    it('starts the daemon and restarts it after it is killed', async () => {
      const first = await api.ctx.daemon.start();
      assert.equal(api.ctx.daemon.state.kind, 'ready');
      assert.equal(first.dataDir, dataDir);
      assert.ok(first.child, 'this window owns the daemon');
      const info = (await vscode.commands.executeCommand('threadx.copyConnectionInfo')) as {
        pid: number;
      };
      assert.equal(info.pid, first.info.pid);
      assert.equal(JSON.parse(await vscode.env.clipboard.readText()).pid, first.info.pid);

      const restarted = waitForEvent(
        api.ctx.daemon.onDidConnect,
        (c) => c.info.pid !== first.info.pid,
        'the restarted daemon',
      );
      process.kill(first.info.pid, 'SIGKILL');
      const second = await restarted;
      assert.notEqual(second.info.pid, first.info.pid);
      assert.equal(api.ctx.daemon.state.kind, 'ready');
      assert.equal(api.ctx.daemon.policy.recent, 1, 'one restart counted');
      assert.match(await notifications(), /stopped unexpectedly.*restarting \(1 of 4\)/);
      // The status bar shows the daemon's state.
      assert.match(api.ctx.statusBar.text, /ThreadX/);
    });

    it('downloads a group from the palette with progress', async () => {
      const percentages: number[] = [];
      const sub = api.ctx.onDidChangeJobs(() => {
        for (const j of api.ctx.runningJobs)
          if (j.percentage !== undefined) percentages.push(j.percentage);
      });
      const jobStarted = waitForEvent(
        api.ctx.onDidChangeJobs,
        () => api.ctx.runningJobs.length > 0,
        'the download job',
      );
      await ui([
        { do: 'command', title: 'ThreadX: Download Group...' },
        { do: 'wait', selector: '.quick-input-widget .quick-input-list .monaco-list-row' },
        { do: 'screenshot', name: 'palette-group-pick' },
        { do: 'press', key: 'Enter' }, // L1, the first group
        { do: 'wait', selector: '.quick-input-widget:has-text("Timeframes to build")' },
        { do: 'press', key: 'Enter' }, // the default timeframes, preselected
        { do: 'wait', selector: '.quick-input-widget:has-text("First day to download")' },
        ...typeText('2023-04-28'),
        { do: 'press', key: 'Enter' },
        { do: 'wait', selector: '.quick-input-widget:has-text("Last moment to download")' },
        ...typeText('2023-05-01'),
        { do: 'press', key: 'Enter' },
      ]);
      await jobStarted;
      await ui([{ do: 'screenshot', name: 'palette-download-progress' }]);
      await until(
        api.ctx.onDidChangeJobs,
        () => api.ctx.runningJobs.length === 0,
        'the download to finish',
        90_000,
      );
      sub.dispose();
      // The registry may refresh mid-job (registry/changed); wait for the refresh that lists all.
      const expected = ['BTCUSDC', 'ETHUSDC', 'SOLUSDC', 'ADAUSDC'].flatMap((s) =>
        ['1m', '1h', '4h', '1d'].map((i) => `${s}/${i}`),
      );
      const listed = () => new Set(api.ctx.registry.datasets.map((d) => d.id));
      await until(
        api.ctx.registry.onDidChange,
        () => expected.every((id) => listed().has(id)),
        'the registry to list the group',
      ).catch((e: Error) => {
        throw new Error(`${e.message}; listed: ${[...listed()].join(', ')}`);
      });
      const btc = api.ctx.registry.datasets.find((d) => d.id === 'BTCUSDC/1m')!;
      assert.equal(btc.first, Date.parse('2023-04-28T00:00:00Z'));
      assert.ok(percentages.length > 0, 'progress was reported');
      assert.match(
        await notifications('palette-download-done'),
        /Downloaded .* candles for 4 symbols/,
      );
    });

    it('shows the datasets in the registry tree', async () => {
      await vscode.commands.executeCommand('workbench.view.extension.threadx');
      const rows = '.pane-body .monaco-list-row';
      const [, count] = await ui([
        { do: 'wait', selector: `${rows}:has-text("BTCUSDC")` },
        { do: 'count', selector: rows },
      ]);
      assert.equal(count, 4, 'one row per symbol');
      await ui([
        { do: 'click', selector: `${rows}:has-text("BTCUSDC")` },
        { do: 'wait', selector: `${rows}:has-text("4h")` },
        // The twistie expands; a click on the row itself opens the preview.
        { do: 'click', selector: `${rows}:has-text("1h") .monaco-tl-twistie` },
        { do: 'wait', selector: `${rows}:has-text("Checksum")` },
      ]);
      const [text] = await ui([{ do: 'text', selector: '.pane-body' }]);
      assert.match(String(text), /Rows/);
      assert.match(String(text), /2023-04-28 00:00 UTC/);
      await screenshot('registry-tree');
    });

    it('drives a download from the data manager form and shows the table', async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('threadx.openDataManager', {
        mode: 'list',
        symbols: 'BTCUSDT, ETHUSDT',
        start: '2023-04-17',
        end: '2023-05-01',
        intervals: ['15m', '1h', '4h', '1d'],
        source: 'auto',
      });
      const [, , plan] = await ui([
        { do: 'wait', selector: '#download', webview: true },
        { do: 'click', selector: '#plan', webview: true },
        { do: 'text', selector: '#plan-summary', webview: true },
      ]);
      assert.match(String(plan), /2 symbol\(s\): 40,320 candles to fetch/);
      await docsScreenshots('dry-run');
      const [, , summary] = await ui([
        { do: 'click', selector: '#download', webview: true },
        { do: 'wait', selector: '#job-summary.ok', webview: true, timeoutMs: 90_000 },
        { do: 'text', selector: '#job-summary', webview: true },
      ]);
      assert.match(String(summary), /Downloaded 40,320 candles for 2 symbols/);
      // "Validate": the files just written were read back and verified, and the table says so.
      const written = /Verified the (\d+) files written\./.exec(String(summary));
      assert.ok(written && Number(written[1]) >= 10, String(summary));
      const ids = ['BTCUSDT', 'ETHUSDT'].flatMap((s) =>
        ['1m', '15m', '1h', '4h', '1d'].map((i) => `${s}/${i}`),
      );
      await ui(
        ids.map((id) => ({
          do: 'wait' as const,
          selector: `#registry-table tr[data-id="${id}"] td.integrity[data-state="verified"]`,
          webview: true,
          state: 'attached' as const,
        })),
      );
      const [done, rows, verified] = await ui([
        { do: 'count', selector: '#symbol-progress tr.done', webview: true },
        { do: 'count', selector: '#registry-table tbody tr[data-id^="BTCUSDT/"]', webview: true },
        {
          do: 'text',
          selector: '#registry-table tr[data-id="BTCUSDT/1m"] td.integrity',
          webview: true,
        },
      ]);
      assert.equal(done, 2);
      assert.equal(rows, 5, 'BTCUSDT 1m, 15m, 1h, 4h, 1d');
      assert.match(String(verified), /^verified/);
      await docsScreenshots('data-manager');
      // Filter and sort the table.
      await ui([
        { do: 'click', selector: '#filter', webview: true },
        ...typeText('ETHUSDT 4h'),
        {
          do: 'wait',
          selector: '#registry-table tbody tr[data-id="BTCUSDT/1m"]',
          webview: true,
          state: 'detached',
        },
      ]);
      const [filtered] = await ui([
        { do: 'count', selector: '#registry-table tbody tr', webview: true },
      ]);
      assert.equal(filtered, 1);
    });

    it('updates indicators from the data manager', async function () {
      const conn = api.ctx.daemon.connection!;
      if (!conn.info.capabilities.methods.includes('indicators/update')) this.skip();
      const [, , text] = await ui([
        { do: 'click', selector: '#update-indicators', webview: true },
        { do: 'wait', selector: '#indicator-summary.ok', webview: true, timeoutMs: 60_000 },
        { do: 'text', selector: '#indicator-summary', webview: true },
      ]);
      assert.match(String(text), /^Updated \d+ indicators?\.$/);
    });

    it('renders candles in the preview', async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('threadx.previewDataset', {
        symbol: 'BTCUSDT',
        interval: '1h',
      });
      const [, bodies, wicks, volume, status] = await ui([
        {
          do: 'wait',
          selector: '#chart[data-last-ms] svg g.candles_marks path',
          webview: true,
          state: 'attached',
        },
        { do: 'count', selector: '#chart svg g.candles_marks path', webview: true },
        { do: 'count', selector: '#chart svg g.wicks_marks line', webview: true },
        { do: 'count', selector: '#chart svg g.volume_marks path', webview: true },
        { do: 'text', selector: '#chart svg .role-title-text', webview: true },
      ]);
      // The latest 1h candles of 2023-04-17 .. 2023-05-01 at 4-12 px each.
      assert.ok(Number(bodies) >= 40, `candle bodies drawn: ${bodies}`);
      assert.equal(wicks, bodies, 'one wick per candle');
      assert.equal(volume, bodies, 'one volume bar per candle');
      assert.match(String(status), /^BTCUSDT · 1h · /);
      const [svg] = await ui([
        { do: 'html', selector: '#chart svg g.candles_marks', webview: true },
      ]);
      assert.match(String(svg), /<path[^>]+fill="[^"]+"/, 'filled candle bodies');
      await screenshot('chart');
    });

    it('cancels a running download', async () => {
      const started = waitForEvent(
        api.ctx.onDidChangeJobs,
        () => api.ctx.runningJobs.some((j) => j.percentage !== undefined),
        'the download to report progress',
      );
      const run = vscode.commands.executeCommand('threadx.downloadSymbols', {
        symbols: ['ETHUSDT'],
        intervals: ['1h'],
        start: '2023-03-17',
        end: '2023-04-17',
        source: 'rest',
      });
      await started;
      await vscode.commands.executeCommand('notifications.showList');
      await ui([
        { do: 'click', selector: '.notifications-center .monaco-button:has-text("Cancel")' },
      ]);
      assert.equal(await run, undefined, 'the command ends without a result');
      assert.equal(api.ctx.runningJobs.length, 0);
      assert.ok((await notifications()).includes(messages.cancelled('downloading ETHUSDT')));
    });

    it('Verify finds a corrupted file', async () => {
      const dir = path.join(dataDir, 'processed', 'BTCUSDC');
      assert.ok(existsSync(dir), dir);
      const file = path.join(dir, '4h.parquet');
      const size = statSync(file).size;
      const fd = openSync(file, 'r+');
      writeSync(fd, Buffer.from('corrupted by the e2e test'), 0, 25, Math.floor(size / 2));
      closeSync(fd);
      const result = (await vscode.commands.executeCommand('threadx.verifyRegistry')) as {
        ok: boolean;
        issues: { path: string; status: string; dataset?: string }[];
      };
      assert.equal(result.ok, false);
      const bad = result.issues.filter((i) => i.status !== 'ok');
      assert.ok(
        bad.some((i) => i.path.replace(/\\/g, '/').endsWith('BTCUSDC/4h.parquet')),
        JSON.stringify(bad),
      );
      assert.match(await notifications(), /Verify found 1 problem/);
      await vscode.commands.executeCommand('workbench.view.extension.threadx');
      await ui([
        { do: 'wait', selector: '.pane-body .monaco-list-row:has-text("BTCUSDC") .codicon-error' },
      ]);
      await screenshot('verify-problem');
      assert.ok(readdirSync(dir).length > 0);
    });

    it('Repair rebuilds the damaged file from 1m, and the tree shows the symbol sound again', async () => {
      const r = (await vscode.commands.executeCommand('threadx.repair', { symbol: 'BTCUSDC' })) as
        { ok: boolean; results: { rebuilt: string[]; refetched: unknown[] }[] } | undefined;
      assert.ok(r, 'repair answered');
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.ok(r.results[0].rebuilt.includes('BTCUSDC/4h'), JSON.stringify(r));
      assert.deepEqual(r.results[0].refetched, []);
      await ui([
        {
          do: 'wait',
          selector: '.pane-body .monaco-list-row:has-text("BTCUSDC") .codicon-symbol-class',
        },
      ]);
      await screenshot('repaired');
    });
    for (const register of more) register();
  });
}
