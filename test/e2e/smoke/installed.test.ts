/**
 * The extension as a user installs it: loaded from the .vsix's files in the extensions folder
 * (not from this checkout), it activates, starts the daemon from its own `dist/cli.js`, answers
 * a command, and opens the data manager.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { screenshot, ui } from '../harness-suite/ui-client.cjs';
import type { ThreadxApi } from '../../../extension/main.ts';
import { type Replay, startReplay, tempDir } from '../suite/env.ts';

const EXTENSION_ID = 'threadx.threadx-data';
/** The checkout this test was built in (dist/test/e2e/smoke/index.cjs is four levels down). */
const checkout = path.resolve(__dirname, '../../../..');

export function registerSmokeTests(): void {
  let ext: vscode.Extension<ThreadxApi>;
  let api: ThreadxApi;
  let replay: Replay | undefined;
  let daemonPid = 0;

  describe('ThreadX Data installed from the .vsix', () => {
    after(async () => {
      await replay?.stop();
    });

    it('is the installed package, not this checkout', () => {
      const found = vscode.extensions.getExtension<ThreadxApi>(EXTENSION_ID);
      assert.ok(found, `${EXTENSION_ID} is installed`);
      ext = found;
      const dir = ext.extensionPath;
      assert.ok(!dir.startsWith(checkout + path.sep), `${dir} is outside ${checkout}`);
      assert.match(path.basename(dir), /^threadx\.threadx-data-\d+\.\d+\.\d+/);
      for (const f of ['dist/extension.cjs', 'dist/cli.js', 'dist/parquet_wasm_bg.wasm'])
        assert.ok(existsSync(path.join(dir, f)), `${f} is in the package`);
      for (const f of ['node_modules', 'test', 'daemon', 'package-lock.json'])
        assert.ok(!existsSync(path.join(dir, f)), `${f} is not in the package`);
    });

    it('activates and starts the daemon from the packaged files', async () => {
      const dir = ext.extensionPath;
      replay = await startReplay(dir, ['--now', '2023-05-01T21:03:00Z', '--latency', '5-10']);
      const cfg = vscode.workspace.getConfiguration('threadx');
      const target = vscode.ConfigurationTarget.Global;
      await cfg.update('apiBaseUrl', replay.url, target);
      await cfg.update('archiveUrl', replay.url, target);
      await cfg.update('dataDirectory', tempDir('threadx-smoke-data-'), target);

      api = await ext.activate();
      assert.equal(ext.isActive, true);
      const conn = await api.ctx.daemon.start();
      assert.equal(api.ctx.daemon.state.kind, 'ready');
      assert.ok(conn.child, 'this window started the daemon');
      daemonPid = conn.info.pid;
      // The daemon's command line names the package's own CLI bundle.
      const argv = readFileSync(`/proc/${conn.info.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(
        argv.includes(path.join(dir, 'dist', 'cli.js')),
        `daemon runs ${path.join(dir, 'dist', 'cli.js')}: ${argv.join(' ')}`,
      );
    });

    it('answers a command through the daemon', async () => {
      const info = (await vscode.commands.executeCommand('threadx.copyConnectionInfo')) as {
        pid: number;
        serverVersion: string;
      };
      assert.equal(info.pid, daemonPid);
      assert.equal(info.serverVersion, ext.packageJSON.version, "the daemon is the package's");
      assert.equal(JSON.parse(await vscode.env.clipboard.readText()).pid, daemonPid);
      const client = await api.ctx.daemon.client();
      const { datasets } = await client.request('registry/list', {});
      assert.deepEqual(datasets, [], 'a fresh bank has no datasets');
    });

    it('gives another extension its API: selection, candles and indicators as columns, bank changes', async () => {
      // The harness's fixture extension consumes the API as a backtesting extension would.
      const watched = (await vscode.commands.executeCommand('threadxFixture.watchThreadx')) as {
        version: number;
      };
      assert.equal(watched.version, 1);
      assert.equal(api.version, 1);
      const range = { start: '2023-04-29', end: '2023-04-30' };
      await vscode.commands.executeCommand('threadx.downloadSymbols', {
        symbols: ['BTCUSDT'],
        intervals: ['1h'],
        ...range,
        source: 'rest',
      });
      type Seen = {
        selections: unknown[];
        bankChanges: { changed: string[]; removed: string[] }[];
      };
      let seen = (await vscode.commands.executeCommand('threadxFixture.threadxSeen')) as Seen;
      assert.ok(
        seen.bankChanges.some((c) => c.changed.includes('BTCUSDT/1h')),
        JSON.stringify(seen.bankChanges),
      );

      // Previewing a dataset selects it; the selection is kept in the workspace's state.
      await vscode.commands.executeCommand('threadx.previewDataset', {
        symbol: 'BTCUSDT',
        interval: '1h',
      });
      const selected = { symbol: 'BTCUSDT', interval: '1h' };
      assert.deepEqual(api.selection, selected);
      assert.deepEqual(api.ctx.extension.workspaceState.get('threadx.selection'), selected);
      seen = (await vscode.commands.executeCommand('threadxFixture.threadxSeen')) as Seen;
      assert.deepEqual(seen.selections, [selected]);

      const read = (await vscode.commands.executeCommand('threadxFixture.readSelected', range)) as {
        candles: { length: number; interval: string; columns: Record<string, number[]> };
        indicators: { openTime: number[]; columns: Record<string, (number | null)[]> };
      };
      assert.equal(read.candles.interval, '1h');
      assert.equal(read.candles.length, 24);
      const client = await api.ctx.daemon.client();
      const direct = await client.request('data/read', {
        ...selected,
        ...range,
        maxPoints: 1000,
        exact: true,
      } as never);
      assert.deepEqual(read.candles.columns, direct.columns);
      assert.deepEqual(Object.keys(read.indicators.columns), ['rsi-14.rsi']);
      assert.deepEqual(read.indicators.openTime, direct.columns.openTime);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('registers its MCP server with VS Code; the definition starts a server that reads the bank', async () => {
      const provider = api.ctx.mcpProvider;
      assert.ok(provider, 'this VS Code has the MCP API and the provider is registered');
      const [def] = provider.provideMcpServerDefinitions() as {
        label: string;
        command: string;
        args: string[];
        env: Record<string, string>;
      }[];
      assert.equal(def.label, 'ThreadX Data');
      assert.equal(def.args[0], path.join(ext.extensionPath, 'dist', 'cli.js'));
      assert.deepEqual(def.args.slice(1, 4), ['mcp', '--data-dir', api.ctx.dataDir]);
      // Start it as VS Code would, and ask it for the candles the API test downloaded.
      const client = new Client({ name: 'smoke', version: '1.0.0' });
      await client.connect(
        new StdioClientTransport({
          command: def.command,
          args: def.args,
          env: { ...(process.env as Record<string, string>), ...def.env },
          stderr: 'pipe',
        }),
      );
      try {
        const r = await client.callTool({
          name: 'get_candles',
          arguments: { symbol: 'BTCUSDT', interval: '1h', start: '2023-04-29', end: '2023-04-30' },
        });
        const lines = (r.content as { text: string }[])[0].text.trim().split('\n');
        assert.equal(lines.length, 25);
        assert.match(lines[1], /^2023-04-29T00:00:00.000Z,/);
      } finally {
        await client.close();
      }
    });

    it('opens the data manager from the command palette', async () => {
      const [, , title] = await ui([
        { do: 'command', title: 'ThreadX: Open Data Manager' },
        { do: 'wait', selector: '#download', webview: true, timeoutMs: 30_000 },
        { do: 'text', selector: '#download', webview: true },
      ]);
      assert.match(String(title), /Download/);
      await screenshot('installed-data-manager');
    });
  });
}
