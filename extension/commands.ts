/**
 * Every command, registered from this one table. Each entry is a factory taking the context and
 * returning the handler (rust-analyzer's `commands.ts`): it parses input, sends one request and
 * shows the result. Arguments, when given (tree items, tests, other extensions), skip the prompts.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import type { Interval } from '../schemas/intervals.ts';
import type { Params, Result } from '../schemas/protocol.ts';
import type { IndicatorChoice, IngestForm } from '../webviews/messages.ts';
import type { Ctx } from './ctx.ts';
import { describeError } from './errors.ts';
import {
  pickDataset,
  pickDateRange,
  pickIndicators,
  pickIntervals,
  pickRepairSymbol,
  pickSymbols,
} from './flows.ts';
import { validateQuote, validateTopN } from './ingest-form.ts';
import { runIndicators, runIngest, runRepair, runVerify } from './jobs.ts';
import { messages } from './messages.ts';
import { ChartPanel } from './panels/chart.ts';
import { ManagerPanel } from './panels/manager.ts';
import { symbolsNeedingRepair } from './repair-model.ts';
import { datasetLocation } from './tree-model.ts';
import { watchSymbolsCommand } from './watch.ts';

const EXPORT_FORMATS = ['csv', 'xlsx', 'parquet'] as const;
type ExportFormat = (typeof EXPORT_FORMATS)[number];

type Handler = (...args: never[]) => unknown;
type Factory = (ctx: Ctx) => Handler;

/** What the download commands accept instead of prompting. */
export interface DownloadArgs {
  symbols?: string[];
  top?: { n: number; quote?: string };
  group?: string;
  intervals?: Interval[];
  start?: string;
  end?: string;
  source?: 'auto' | 'rest' | 'archive';
}

/** A dataset reference: a tree node or `{ symbol, interval }`. */
interface DatasetRef {
  symbol: string;
  interval: Interval;
}

function isRef(v: unknown): v is DatasetRef {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as DatasetRef).symbol === 'string' &&
    typeof (v as DatasetRef).interval === 'string'
  );
}

async function completeDownload(ctx: Ctx, args: DownloadArgs, label: string): Promise<unknown> {
  const intervals = args.intervals ?? (await pickIntervals(ctx.settings.defaultIntervals));
  if (!intervals) return undefined;
  const range = args.start ? { start: args.start, end: args.end } : await pickDateRange();
  if (!range) return undefined;
  const params = {
    ...(args.symbols ? { symbols: args.symbols } : {}),
    ...(args.top ? { top: args.top } : {}),
    ...(args.group ? { group: args.group } : {}),
    intervals,
    start: range.start,
    ...(range.end ? { end: range.end } : {}),
    source: args.source ?? 'auto',
  } as Params<'ingest/run'>;
  return runIngest(ctx, params, label).catch(() => undefined);
}

/** The dataset's location as the daemon lists it (listed again once if it is not known yet). */
async function locate(ctx: Ctx, ref: DatasetRef): Promise<string | undefined> {
  let where = datasetLocation(ctx.registry.datasets, ref.symbol, ref.interval);
  if (!where) {
    await ctx.registry.refresh();
    where = datasetLocation(ctx.registry.datasets, ref.symbol, ref.interval);
  }
  if (!where)
    void vscode.window.showErrorMessage(
      `${ref.symbol}/${ref.interval} is not in the bank's registry; run "ThreadX: Refresh Registry".`,
    );
  return where;
}

async function datasetFrom(ctx: Ctx, arg: unknown): Promise<DatasetRef | undefined> {
  if (isRef(arg)) return { symbol: arg.symbol, interval: arg.interval };
  const d = await pickDataset(ctx);
  return d ? { symbol: d.symbol, interval: d.interval } : undefined;
}

export const COMMANDS: Record<string, Factory> = {
  'threadx.openDataManager': (ctx) => (form?: Partial<IngestForm>) => {
    ManagerPanel.show(ctx, form);
  },

  'threadx.downloadSymbols': (ctx) => async (args?: DownloadArgs) => {
    const symbols = args?.symbols ?? (await pickSymbols(ctx));
    if (!symbols) return undefined;
    return completeDownload(ctx, { ...args, symbols }, symbols.join(', '));
  },

  'threadx.downloadTop': (ctx) => async (args?: DownloadArgs) => {
    let top = args?.top;
    if (!top) {
      const n = await vscode.window.showInputBox({
        title: messages.topN(),
        value: '100',
        validateInput: validateTopN,
      });
      if (n === undefined) return undefined;
      const quote = await vscode.window.showInputBox({
        title: messages.quoteAsset(),
        value: 'USDC',
        validateInput: validateQuote,
      });
      if (quote === undefined) return undefined;
      top = { n: Number(n), quote: quote.trim().toUpperCase() };
    }
    return completeDownload(
      ctx,
      { ...args, top },
      `the top ${top.n} ${top.quote ?? 'USDC'} symbols`,
    );
  },

  'threadx.downloadGroup': (ctx) => async (args?: DownloadArgs) => {
    let group = args?.group;
    if (!group) {
      let groups;
      try {
        groups = (await (await ctx.client()).request('symbols/groups', undefined)).groups;
      } catch (e) {
        ctx.reportFailure('Listing groups', e);
        return undefined;
      }
      const picked = await vscode.window.showQuickPick(
        groups.map((g) => ({
          label: g.name,
          description: g.symbols.join(', '),
          detail: g.source === 'config' ? 'from your settings' : undefined,
        })),
        { title: messages.pickGroup(), placeHolder: messages.pickGroup(), ignoreFocusOut: true },
      );
      if (!picked) return undefined;
      group = picked.label;
    }
    return completeDownload(ctx, { ...args, group }, `the ${group} group`);
  },

  'threadx.watchSymbols': watchSymbolsCommand,

  'threadx.updateDataset': (ctx) => async (node?: DatasetRef) => {
    const ref = await datasetFrom(ctx, node);
    if (!ref) return undefined;
    const own = ctx.registry.datasets.filter(
      (d) => d.symbol === ref.symbol && d.kind === 'candles',
    );
    const first = own.find((d) => d.interval === '1m')?.first ?? own[0]?.first;
    if (first == null) return undefined;
    const intervals = own.map((d) => d.interval).filter((i) => i !== '1m');
    return runIngest(
      ctx,
      { symbols: [ref.symbol], intervals, start: first, source: 'auto' },
      ref.symbol,
    ).catch(() => undefined);
  },

  'threadx.updateIndicators':
    (ctx) =>
    async (
      arg?:
        DatasetRef | { symbols: string[]; intervals: Interval[]; indicators: IndicatorChoice[] },
    ) => {
      if (arg && 'indicators' in arg) {
        return runIndicators(ctx, { symbols: arg.symbols }, arg.intervals, arg.indicators).catch(
          () => undefined,
        );
      }
      let symbols: string[];
      let intervals: Interval[] | undefined;
      if (isRef(arg)) {
        symbols = [arg.symbol];
        intervals = [arg.interval];
      } else {
        await ctx.registry.refresh();
        const known = [...new Set(ctx.registry.datasets.map((d) => d.symbol))];
        if (known.length === 0) {
          void vscode.window.showInformationMessage(messages.noDatasets());
          return undefined;
        }
        const picked = await vscode.window.showQuickPick(known, {
          canPickMany: true,
          title: 'Symbols',
          ignoreFocusOut: true,
        });
        if (!picked?.length) return undefined;
        symbols = picked;
        intervals = await pickIntervals(ctx.settings.defaultIntervals, 'Timeframes');
        if (!intervals?.length) return undefined;
      }
      const indicators = await pickIndicators();
      if (!indicators?.length) return undefined;
      return runIndicators(ctx, { symbols }, intervals, indicators).catch(() => undefined);
    },

  'threadx.verifyRegistry': (ctx) => () => runVerify(ctx).catch(() => undefined),

  'threadx.previewDataset': (ctx) => async (node?: DatasetRef) => {
    const ref = await datasetFrom(ctx, node);
    if (!ref) return undefined;
    await ctx.selection.set({ symbol: ref.symbol, interval: ref.interval });
    return ChartPanel.show(ctx, { symbol: ref.symbol, interval: ref.interval });
  },

  'threadx.exportCsv': (ctx) => (node?: DatasetRef, out?: string) =>
    exportDataset(ctx, 'csv', node, out),

  'threadx.exportExcel': (ctx) => (node?: DatasetRef, out?: string) =>
    exportDataset(ctx, 'xlsx', node, out),

  'threadx.refreshRegistry': (ctx) => () => ctx.registry.refresh(),

  'threadx.restartDaemon': (ctx) => () => ctx.restartDaemon(),

  'threadx.showLogs': (ctx) => () => ctx.log.show(),

  'threadx.copyConnectionInfo': (ctx) => async () => {
    const conn = ctx.daemon.connection;
    const info = {
      state: ctx.daemon.state.kind,
      pid: conn?.info.pid,
      protocolVersion: conn?.info.protocolVersion,
      serverVersion: conn?.info.serverInfo.version,
      dataDir: conn?.dataDir ?? ctx.dataDir,
      transport: conn?.child ? 'stdio (owned by this window)' : conn ? 'shared' : 'none',
      configFile: conn?.configFile,
      command: `threadx serve --stdio --data-dir ${JSON.stringify(conn?.dataDir ?? ctx.dataDir)}`,
    };
    const text = JSON.stringify(info, null, 2);
    await vscode.env.clipboard.writeText(text);
    void vscode.window.showInformationMessage(messages.connectionCopied());
    return info;
  },

  'threadx.revealDataset': (ctx) => async (node?: DatasetRef) => {
    const ref = await datasetFrom(ctx, node);
    if (!ref) return;
    const where = await locate(ctx, ref);
    if (!where) return;
    const uri = vscode.Uri.file(where);
    const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
    await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
  },

  'threadx.copyDatasetPath': (ctx) => async (node?: DatasetRef) => {
    const ref = await datasetFrom(ctx, node);
    if (!ref) return undefined;
    const p = await locate(ctx, ref);
    if (!p) return undefined;
    await vscode.env.clipboard.writeText(p);
    return p;
  },

  'threadx.repair': (ctx) => async (node?: { symbol?: unknown }) => {
    // From the tree, the data manager's table or a notification (a symbol or a timeframe);
    // without one, every symbol with a problem.
    const symbols =
      typeof node?.symbol === 'string'
        ? [node.symbol]
        : symbolsNeedingRepair(ctx.registry.datasets);
    if (symbols.length === 0) {
      void vscode.window.showInformationMessage(messages.repairSound(['The bank']));
      return undefined;
    }
    return runRepair(ctx, symbols).catch(() => undefined);
  },

  'threadx.repairSymbol': (ctx) => async (symbol?: unknown) => {
    // The palette's "Repair Symbol...": any symbol of the bank, damaged ones offered first.
    const picked = typeof symbol === 'string' ? symbol : await pickRepairSymbol(ctx);
    if (!picked) return undefined;
    return runRepair(ctx, [picked]).catch(() => undefined);
  },

  'threadx.deleteDataset': (ctx) => async (node?: DatasetRef, confirmed?: boolean) => {
    const ref = await datasetFrom(ctx, node);
    if (!ref) return undefined;
    const id = `${ref.symbol}/${ref.interval}`;
    if (!confirmed) {
      const pick = await vscode.window.showWarningMessage(
        messages.deleteConfirm(id, ref.interval === '1m'),
        { modal: true },
        messages.deleteAction(),
      );
      if (pick !== messages.deleteAction()) return undefined;
    }
    try {
      const r = await (await ctx.client()).request('registry/delete', ref);
      void vscode.window.showInformationMessage(messages.deleted(r.datasets.length));
      return r;
    } catch (e) {
      ctx.showError(messages.requestFailed(`Deleting ${id}`, describeError(e)));
      return undefined;
    }
  },
};

export function registerCommands(ctx: Ctx): void {
  for (const [id, factory] of Object.entries(COMMANDS)) {
    ctx.push(vscode.commands.registerCommand(id, factory(ctx) as (...args: unknown[]) => unknown));
  }
}

/** The save dialog's file types, the format asked for first (the file's extension decides). */
const EXPORT_FILTERS: Record<ExportFormat, [string, string]> = {
  csv: ['CSV', 'csv'],
  xlsx: ['Excel workbook', 'xlsx'],
  parquet: ['Parquet', 'parquet'],
};

/**
 * Exports a dataset to a file the user picks: CSV, an Excel workbook or Parquet, by the file's
 * extension (`preferred` is the dialog's first choice). The daemon writes the file.
 */
async function exportDataset(
  ctx: Ctx,
  preferred: ExportFormat,
  node?: DatasetRef,
  out?: string,
): Promise<Result<'data/export'> | undefined> {
  const ref = await datasetFrom(ctx, node);
  if (!ref) return undefined;
  let target = out;
  if (!target) {
    const base = ctx.workspaceFolder ?? ctx.dataDir;
    const order = [preferred, ...EXPORT_FORMATS.filter((f) => f !== preferred)];
    const uri = await vscode.window.showSaveDialog({
      title: messages.exportSaveTitle(preferred),
      defaultUri: vscode.Uri.file(path.join(base, `${ref.symbol}-${ref.interval}.${preferred}`)),
      filters: Object.fromEntries(order.map((f) => [EXPORT_FILTERS[f][0], [EXPORT_FILTERS[f][1]]])),
    });
    if (!uri) return undefined;
    target = uri.fsPath;
  }
  const ext = path.extname(target).slice(1).toLowerCase();
  const format = (EXPORT_FORMATS as readonly string[]).includes(ext)
    ? (ext as ExportFormat)
    : preferred;
  try {
    const client = await ctx.client();
    const r = await client.request('data/export', {
      symbol: ref.symbol,
      interval: ref.interval,
      out: target,
      format,
      overwrite: true,
    });
    void vscode.window
      .showInformationMessage(messages.exportDone(r.rows, r.bytes, r.out), 'Open')
      .then((p) => {
        if (!p) return;
        const file = vscode.Uri.file(r.out);
        // A CSV opens in the editor; a workbook or Parquet file in the program the system gives it.
        if (format === 'csv') void vscode.window.showTextDocument(file);
        else void vscode.env.openExternal(file);
      });
    return r;
  } catch (e) {
    ctx.reportFailure('Export', e);
    return undefined;
  }
}
