/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS, loaded by VS Code's extension host. */
/* global describe, it -- mocha BDD globals, set while mocha loads this file. */
// Proves the e2e harness with the fixture extension: activation, a command, UI steps that open a
// webview and read its text and SVG, and a screenshot.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const vscode = require('vscode');
const { ui, screenshot } = require('./ui-client.cjs');

const fixtureId = 'threadx.threadx-e2e-fixture';

describe('e2e harness', () => {
  it('runs in a remote Node extension host', () => {
    assert.equal(vscode.env.uiKind, vscode.UIKind.Web);
    assert.ok(process.versions.node, 'plain Node, not Electron');
    assert.equal(process.env.THREADX_E2E, '1');
  });

  it('activates the fixture extension', async () => {
    const ext = vscode.extensions.getExtension(fixtureId);
    assert.ok(ext, `${fixtureId} is loaded from extensionDevelopmentPath`);
    const api = await ext.activate();
    assert.equal(ext.isActive, true);
    assert.deepEqual(api, { kind: 'threadx-e2e-fixture' });
  });

  it('executes a command', async () => {
    assert.equal(await vscode.commands.executeCommand('threadxFixture.hello', 'e2e'), 'hello e2e');
  });

  it('opens the webview from the command palette and reads it', async () => {
    const [, greeting, svg, rows] = await ui([
      { do: 'command', title: 'ThreadX Fixture: Open Webview' },
      { do: 'text', selector: '#greeting', webview: true },
      { do: 'html', selector: '#chart', webview: true },
      { do: 'count', selector: '.quick-input-widget:visible' },
    ]);
    assert.equal(greeting, 'Hello from the fixture webview');
    assert.match(svg, /<text[^>]*class="value"[^>]*>42<\/text>/);
    assert.equal(rows, 0, 'the command palette closed');
    assert.ok(vscode.window.tabGroups.activeTabGroup.activeTab?.label.includes('Fixture Webview'));
  });

  it('saves a screenshot', async () => {
    const file = await screenshot('fixture-webview');
    if (process.env.THREADX_E2E_SCREENSHOTS) {
      assert.ok(file && fs.statSync(file).size > 0, `${file} written`);
    } else {
      assert.equal(file, null);
    }
  });
});
