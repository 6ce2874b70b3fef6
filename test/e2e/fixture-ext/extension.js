/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS, loaded by VS Code's extension host. */
// A minimal extension for proving the e2e harness: one command that returns a value, one that
// opens a webview whose text and SVG the harness reads back through the `@@ui` protocol.
const vscode = require('vscode');

function webviewHtml(nonce) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}';">
  <style nonce="${nonce}">body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); }</style>
</head>
<body>
  <h1 id="greeting">Hello from the fixture webview</h1>
  <svg id="chart" width="120" height="40"><text x="4" y="24" class="value">42</text></svg>
</body>
</html>`;
}

/**
 * A consumer of ThreadX Data's extension API, as a backtesting extension would use it: it follows
 * the user's selected dataset and the bank's changes, and reads candles and indicators as
 * columns through ThreadX's own daemon.
 */
function threadxConsumer(context) {
  const seen = { selections: [], bankChanges: [] };
  let api;
  const threadx = async () => {
    if (api) return api;
    const ext = vscode.extensions.getExtension('threadx.threadx-data');
    if (!ext) throw new Error('ThreadX Data is not installed');
    api = await ext.activate();
    if (api.version !== 1) throw new Error(`ThreadX Data API version ${api.version}, expected 1`);
    context.subscriptions.push(
      api.onDidChangeSelection((s) => seen.selections.push(s)),
      api.onDidChangeBank((c) => seen.bankChanges.push(c)),
    );
    return api;
  };
  return [
    vscode.commands.registerCommand('threadxFixture.watchThreadx', async () => {
      const a = await threadx();
      return { version: a.version, selection: a.selection };
    }),
    vscode.commands.registerCommand('threadxFixture.threadxSeen', () => seen),
    vscode.commands.registerCommand('threadxFixture.readSelected', async (range) => {
      const a = await threadx();
      const selection = a.selection;
      if (!selection) return { selection };
      const candles = await a.readCandles(selection, range);
      const indicators = await a.readIndicators(selection, [{ name: 'rsi' }], range);
      return { selection, candles, indicators };
    }),
  ];
}

function activate(context) {
  let panel;
  context.subscriptions.push(
    ...threadxConsumer(context),
    vscode.commands.registerCommand('threadxFixture.hello', (name = 'world') => `hello ${name}`),
    vscode.commands.registerCommand('threadxFixture.openWebview', () => {
      if (panel) {
        panel.reveal();
        return;
      }
      panel = vscode.window.createWebviewPanel(
        'threadxFixture.webview',
        'Fixture Webview',
        vscode.ViewColumn.One,
        {
          enableScripts: false,
          localResourceRoots: [],
        },
      );
      panel.webview.html = webviewHtml(Math.random().toString(36).slice(2));
      panel.onDidDispose(() => (panel = undefined));
    }),
  );
  return { kind: 'threadx-e2e-fixture' };
}

function deactivate() {}

module.exports = { activate, deactivate };
