/**
 * The extension's entry point. Activation is lazy (a command, the ThreadX view, or a
 * `threadx.toml` in the workspace); the daemon itself starts on the first request that needs it.
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands.ts';
import { Ctx } from './ctx.ts';
import { ChartPanel } from './panels/chart.ts';
import { ManagerPanel } from './panels/manager.ts';
import { RegistryTree } from './tree.ts';
import { createApi } from './api.ts';
import type { ThreadxDataApi } from './api-model.ts';
import { registerMcpServer } from './mcp.ts';

let ctx: Ctx | undefined;

/**
 * What `activate` returns: the versioned API for other extensions (`api-model.ts`), plus `ctx`,
 * the extension's own state, for its tests only (not part of the API, not versioned).
 */
export interface ThreadxApi extends ThreadxDataApi {
  ctx: Ctx;
}

export function activate(context: vscode.ExtensionContext): ThreadxApi {
  const c = new Ctx(context);
  ctx = c;
  registerCommands(c);
  const tree = new RegistryTree(c);
  const view = vscode.window.createTreeView(RegistryTree.viewId, {
    treeDataProvider: tree,
    showCollapseAll: true,
  });
  c.push(
    tree,
    view,
    // A timeframe picked in the tree is the user's selection (other tabs and extensions follow).
    view.onDidChangeSelection((e) => {
      const node = e.selection[0];
      if (node?.kind === 'timeframe')
        void c.selection.set({ symbol: node.symbol, interval: node.interval });
    }),
    vscode.window.registerWebviewPanelSerializer(ManagerPanel.viewType, ManagerPanel.serializer(c)),
    vscode.window.registerWebviewPanelSerializer(ChartPanel.viewType, ChartPanel.serializer(c)),
  );
  void vscode.commands.executeCommand('setContext', 'threadx.bankEmpty', true);
  // A workspace with a bank gets its daemon started now; otherwise on the first request.
  if (vscode.workspace.workspaceFolders?.length) {
    c.registry.refresh().catch(() => undefined);
  }
  c.mcpProvider = registerMcpServer(c);
  // Assigned onto the API object: spreading it would freeze its `selection` getter.
  return Object.assign(createApi(c), { ctx: c });
}

export async function deactivate(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  if (!c) return;
  for (const p of [...ChartPanel.panels]) p.dispose();
  ManagerPanel.current?.dispose();
  await c.daemon.stop();
  c.dispose();
}
