/**
 * The extension API's parts that need no VS Code: the selection read back from workspace state,
 * indicator columns, and how VS Code is told to start the MCP server.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { indicatorColumns, parseSelection, sameDataset } from '../../extension/api-model.ts';
import { mcpServerLaunch } from '../../extension/mcp-launch.ts';

describe('extension API', () => {
  it('reads back a stored selection, and drops one that is not a dataset', () => {
    assert.deepEqual(parseSelection({ symbol: 'BTCUSDC', interval: '1h' }), {
      symbol: 'BTCUSDC',
      interval: '1h',
    });
    for (const bad of [
      undefined,
      null,
      'BTCUSDC/1h',
      { symbol: 'btc-usdc', interval: '1h' },
      { symbol: 'BTCUSDC', interval: '7m' },
      { symbol: 'BTCUSDC' },
    ])
      assert.equal(parseSelection(bad), undefined, JSON.stringify(bad));
    assert.ok(sameDataset(undefined, undefined));
    assert.ok(!sameDataset({ symbol: 'A1', interval: '1h' }, { symbol: 'A1', interval: '4h' }));
  });

  it('names indicator columns key.output', () => {
    assert.deepEqual(
      indicatorColumns([
        { key: 'rsi-14', outputs: { rsi: [null, 50] } },
        { key: 'macd-12-26-9', outputs: { macd: [1, 2], signal: [3, 4] } },
      ]),
      { 'rsi-14.rsi': [null, 50], 'macd-12-26-9.macd': [1, 2], 'macd-12-26-9.signal': [3, 4] },
    );
  });

  it("starts the MCP server from the bundled CLI, read-only, over the window's bank", () => {
    const input = {
      execPath: '/opt/code/code',
      cliPath: '/ext/dist/cli.js',
      dataDir: '/bank',
      configFile: '/storage/threadx.toml',
      env: { PATH: '/bin', ELECTRON_RUN_AS_NODE: '1' },
    };
    const desktop = mcpServerLaunch({ ...input, electronVersion: '30.0.0' });
    assert.equal(desktop.command, '/opt/code/code');
    assert.deepEqual(desktop.args, [
      '/ext/dist/cli.js',
      'mcp',
      '--data-dir',
      '/bank',
      '--config',
      '/storage/threadx.toml',
    ]);
    assert.equal(desktop.env.ELECTRON_RUN_AS_NODE, '1');
    assert.ok(!desktop.args.includes('--allow-writes'));
    const remote = mcpServerLaunch({ ...input, electronVersion: undefined, configFile: undefined });
    assert.deepEqual(remote.args, ['/ext/dist/cli.js', 'mcp', '--data-dir', '/bank']);
    assert.equal(remote.env.ELECTRON_RUN_AS_NODE, undefined);
  });
});
