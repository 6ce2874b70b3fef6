/** The registry tree in the ThreadX side bar: symbol → timeframes → details. */
import * as vscode from 'vscode';
import type { Ctx } from './ctx.ts';
import {
  type DetailRow,
  type SymbolNode,
  type TimeframeNode,
  buildTree,
  checksumIcon,
  detailRows,
  symbolDescription,
  timeframeDescription,
} from './tree-model.ts';
import { utcMinute } from './format.ts';

export type TreeNode = SymbolNode | TimeframeNode | (DetailRow & { kind: 'detail'; id: string });

export class RegistryTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  static readonly viewId = 'threadx.registry';
  private readonly emitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private roots: SymbolNode[] = [];
  private readonly sub: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    this.sub = ctx.registry.onDidChange((symbols) => {
      const prev = new Map(this.roots.map((r) => [r.symbol, r]));
      const next = buildTree(ctx.registry.datasets, ctx.registry.verify);
      // Only the symbols a registry/changed named, when the list of symbols itself is the same.
      const same = prev.size === next.length && next.every((n) => prev.has(n.symbol));
      if (!symbols || !same) {
        this.roots = next;
        this.emitter.fire(undefined);
        return;
      }
      // VS Code knows nodes by reference: update the old node objects in place.
      const touched = new Set(symbols);
      this.roots = next.map((n) => {
        const old = prev.get(n.symbol)!;
        if (touched.has(n.symbol)) Object.assign(old, n);
        return old;
      });
      for (const s of touched) {
        const node = prev.get(s);
        if (node) this.emitter.fire(node);
      }
    });
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) {
      // The first look at the view starts the daemon (lazily) and lists the bank.
      if (this.ctx.daemon.state.kind === 'stopped') void this.ctx.registry.refresh();
      return this.roots;
    }
    if (node.kind === 'symbol') return node.timeframes;
    if (node.kind === 'timeframe')
      return detailRows(node).map((r) => ({ ...r, kind: 'detail', id: `${node.id}#${r.label}` }));
    return [];
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    if (node.kind === 'symbol') {
      const item = new vscode.TreeItem(node.symbol, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = node.symbol;
      item.description = symbolDescription(node);
      item.iconPath = new vscode.ThemeIcon(
        node.checksum === 'problem' ? 'error' : 'symbol-class',
        node.checksum === 'problem' ? new vscode.ThemeColor('errorForeground') : undefined,
      );
      item.contextValue = `threadx.symbol${node.checksum === 'problem' ? '.problem' : ''}`;
      return item;
    }
    if (node.kind === 'timeframe') {
      const item = new vscode.TreeItem(node.interval, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = node.id;
      item.description = timeframeDescription(node);
      item.tooltip = new vscode.MarkdownString(
        `**${node.id}**\n\n${node.dataset.rows.toLocaleString('en-US')} rows, ${utcMinute(node.dataset.first)} → ${utcMinute(node.dataset.last)} UTC\n\nChecksum: ${node.integrity}`,
      );
      item.iconPath = new vscode.ThemeIcon(
        checksumIcon(node.checksum),
        node.checksum === 'problem'
          ? new vscode.ThemeColor('errorForeground')
          : node.checksum === 'ok'
            ? new vscode.ThemeColor('testing.iconPassed')
            : undefined,
      );
      item.contextValue = `threadx.timeframe${node.interval === '1m' ? '.source' : ''}${node.checksum === 'problem' ? '.problem' : ''}`;
      item.command = {
        command: 'threadx.previewDataset',
        title: 'Preview',
        arguments: [node],
      };
      return item;
    }
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = `${node.label}: ${node.description}`;
    item.iconPath = new vscode.ThemeIcon(node.icon);
    item.contextValue = 'threadx.detail';
    return item;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}
