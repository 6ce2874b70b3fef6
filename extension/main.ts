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

let ctx: Ctx | undefined;

/** What `activate` returns: for tests and other extensions. */
export interface ThreadxApi {
  ctx: Ctx;
}

export function activate(context: vscode.ExtensionContext): ThreadxApi {
  const c = new Ctx(context);
  ctx = c;
  registerCommands(c);
  const tree = new RegistryTree(c);
  c.push(
    tree,
    vscode.window.createTreeView(RegistryTree.viewId, {
      treeDataProvider: tree,
      showCollapseAll: true,
    }),
    vscode.window.registerWebviewPanelSerializer(ManagerPanel.viewType, ManagerPanel.serializer(c)),
    vscode.window.registerWebviewPanelSerializer(ChartPanel.viewType, ChartPanel.serializer(c)),
  );
  void vscode.commands.executeCommand('setContext', 'threadx.bankEmpty', true);
  // A workspace with a bank gets its daemon started now; otherwise on the first request.
  if (vscode.workspace.workspaceFolders?.length) {
    c.registry.refresh().catch(() => undefined);
  }
  return { ctx: c };
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
