/**
 * The data manager's host: owns its panel, answers the webview's messages with daemon requests,
 * and streams per-symbol progress and the daemon's log back while a download runs.
 */
import * as vscode from 'vscode';
import type { Interval } from '../../schemas/intervals.ts';
import type { Params } from '../../schemas/protocol.ts';
import type {
  HostMessage,
  IngestForm,
  ManagerState,
  ViewMessage,
} from '../../webviews/messages.ts';
import { isViewMessage } from '../../webviews/messages.ts';
import type { Ctx } from '../ctx.ts';
import { describeError, isCancelled } from '../errors.ts';
import { duration, plural } from '../format.ts';
import { formToParams } from '../ingest-form.ts';
import { runIndicators } from '../jobs.ts';
import { messages } from '../messages.ts';
import { overallPercentage, planView, symbolView } from '../plan.ts';
import { webviewHtml, webviewOptions } from './html.ts';

/**
 * The last panel's download form (mode and every input) and indicator choice in this workspace.
 * Not its filter: a new panel shows every dataset (a reloaded panel keeps its own, setState).
 */
const REMEMBERED = 'threadx.managerState';
/** The download form alone, as earlier versions kept it (all workspaces). */
const REMEMBERED_FORM = 'threadx.lastForm';

type Remembered = Partial<Pick<ManagerState, 'form' | 'indicators'>>;

/** The state a new panel opens with: the last panel's in this workspace, else the defaults. */
export function defaultManagerState(ctx: Ctx): ManagerState {
  const defaults = initialManagerState(ctx);
  const kept = ctx.extension.workspaceState.get<Remembered>(REMEMBERED);
  const form = kept?.form ?? ctx.extension.globalState.get<IngestForm>(REMEMBERED_FORM);
  return {
    ...defaults,
    form: { ...defaults.form, ...form },
    indicators: kept?.indicators ?? defaults.indicators,
  };
}

function initialManagerState(ctx: Ctx): ManagerState {
  return {
    form: {
      mode: 'group',
      symbols: '',
      topN: 10,
      quote: 'USDC',
      group: 'L1',
      intervals: [...ctx.settings.defaultIntervals],
      start: new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10),
      end: '',
      source: 'auto',
    },
    filter: '',
    sort: { key: 'id', descending: false },
    indicators: [{ name: 'rsi', params: { period: 14 } }],
  };
}

/** Shows a file in the Explorer when it is in the workspace, else in the system's file manager. */
async function revealFile(uri: vscode.Uri): Promise<void> {
  const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
  await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
}

export class ManagerPanel implements vscode.Disposable {
  static readonly viewType = 'threadx.dataManager';
  static current: ManagerPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private job: AbortController | undefined;
  /** The registry table's CSV this panel saved last (its Open and Reveal act on it). */
  private saved: vscode.Uri | undefined;

  /** Opens (or reveals) the panel; `form` prefills the download form (tests, other commands). */
  static show(ctx: Ctx, form?: Partial<IngestForm>): ManagerPanel {
    if (ManagerPanel.current) {
      ManagerPanel.current.panel.reveal();
      return ManagerPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      ManagerPanel.viewType,
      'ThreadX Data Manager',
      vscode.ViewColumn.Active,
      webviewOptions(ctx.extension.extensionUri),
    );
    const state = defaultManagerState(ctx);
    return new ManagerPanel(
      ctx,
      panel,
      form ? { ...state, form: { ...state.form, ...form } } : undefined,
    );
  }

  static serializer(ctx: Ctx): vscode.WebviewPanelSerializer<ManagerState> {
    return {
      deserializeWebviewPanel: (panel, state) => {
        panel.webview.options = webviewOptions(ctx.extension.extensionUri);
        new ManagerPanel(ctx, panel, state ?? undefined);
        return Promise.resolve();
      },
    };
  }

  constructor(
    private readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
    private readonly restored: ManagerState | undefined,
  ) {
    ManagerPanel.current = this;
    panel.iconPath = vscode.Uri.joinPath(
      ctx.extension.extensionUri,
      'extension',
      'media',
      'threadx.svg',
    );
    panel.webview.html = webviewHtml(
      panel.webview,
      ctx.extension.extensionUri,
      'manager',
      'ThreadX Data Manager',
    );
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if (isViewMessage(m)) void this.receive(m);
      }),
      ctx.registry.onDidChange(() =>
        this.post({ type: 'registry', datasets: ctx.registry.datasets }),
      ),
    );
  }

  post(m: HostMessage): void {
    void this.panel.webview.postMessage(m);
  }

  private async receive(m: ViewMessage): Promise<void> {
    const ctx = this.ctx;
    try {
      switch (m.type) {
        case 'ready': {
          this.post({
            type: 'init',
            view: 'manager',
            state: this.restored ?? defaultManagerState(ctx),
            intervals: ctx.settings.defaultIntervals,
          });
          this.post({ type: 'registry', datasets: ctx.registry.datasets });
          void ctx.registry.refresh();
          const client = await ctx.client();
          const { groups } = await client.request('symbols/groups', undefined);
          this.post({ type: 'groups', groups });
          return;
        }
        case 'remember':
          await ctx.extension.workspaceState.update(REMEMBERED, {
            form: m.state.form,
            indicators: m.state.indicators,
          } satisfies Remembered);
          return;
        case 'openFile': {
          // Only the file this panel saved: the message names a path, not any file to open.
          if (!this.saved || this.saved.fsPath !== m.path) return;
          if (m.reveal) await revealFile(this.saved);
          else await vscode.window.showTextDocument(this.saved, { preview: false });
          return;
        }
        case 'refresh':
          await ctx.registry.refresh();
          return;
        case 'searchSymbols': {
          const client = await ctx.client();
          const { matches } = await client.request('symbols/search', {
            query: m.query,
            limit: 20,
          });
          this.post({ type: 'symbols', query: m.query, matches });
          return;
        }
        case 'plan':
          return await this.plan(m.form);
        case 'download':
          return await this.download(m.form);
        case 'cancel':
          this.job?.abort();
          return;
        case 'updateIndicators':
          return await this.indicators(m.symbols, m.intervals, m);
        case 'datasetAction': {
          const [symbol, interval] = m.id.split('/');
          const ref = { symbol, interval: interval as Interval };
          const command = {
            preview: 'threadx.previewDataset',
            update: 'threadx.updateDataset',
            verify: 'threadx.verifyRegistry',
            export: 'threadx.exportCsv',
            exportExcel: 'threadx.exportExcel',
            delete: 'threadx.deleteDataset',
            repair: 'threadx.repair',
          }[m.action];
          await vscode.commands.executeCommand(command, ref);
          return;
        }
        case 'saveTable':
          return await this.saveTable(m.name, m.csv, m.rows);
        case 'read':
        case 'saveImage':
        case 'chartState':
        case 'repair':
          return;
      }
    } catch (e) {
      this.post({ type: 'error', message: describeError(e) });
    }
  }

  /**
   * Saves the registry table's CSV where the person chooses, then says where: in the panel, next
   * to the button, and in a notification, both offering to open the file or reveal it.
   */
  private async saveTable(name: string, csv: string, rows: number): Promise<void> {
    const base = this.ctx.workspaceFolder ?? this.ctx.dataDir;
    const uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(vscode.Uri.file(base), `${name}.csv`),
      filters: { CSV: ['csv'] },
    });
    if (!uri) return;
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(csv));
    this.saved = uri;
    const message = messages.tableSaved(rows, uri.fsPath);
    this.post({ type: 'saved', path: uri.fsPath, message });
    void vscode.window
      .showInformationMessage(message, messages.open(), messages.reveal())
      .then(async (pick) => {
        if (pick === messages.open()) await vscode.window.showTextDocument(uri, { preview: false });
        else if (pick === messages.reveal()) await revealFile(uri);
      });
  }

  private async plan(form: IngestForm): Promise<void> {
    const checked = formToParams(form, true);
    if (!checked.ok) {
      this.post({ type: 'formErrors', errors: checked.errors });
      return;
    }
    this.post({ type: 'formErrors', errors: {} });
    const client = await this.ctx.client();
    const plan = await client.request('ingest/plan', checked.params);
    this.post({
      type: 'plan',
      plan: planView(plan, { concurrency: this.ctx.settings.concurrency }),
    });
  }

  /**
   * Downloads the whole batch as one `ingest/run`; each symbol's bar is drawn from the per-symbol
   * states of the daemon's `$/progress` reports, and a cancellable notification shows the total.
   */
  private async download(form: IngestForm): Promise<void> {
    const checked = formToParams(form);
    if (!checked.ok) {
      this.post({ type: 'formErrors', errors: checked.errors });
      return;
    }
    this.post({ type: 'formErrors', errors: {} });
    if (this.job) return;
    const ctx = this.ctx;
    const controller = new AbortController();
    this.job = controller;
    const client = await ctx.client();
    const logSub = client.onNotification('log/message', (l) => this.post({ type: 'log', ...l }));
    const t0 = Date.now();
    try {
      // One ingest/run for the whole batch: the daemon schedules the symbols (its concurrency
      // setting) and reports each one's state in $/progress; the panel only draws them.
      let list: string[] | null = checked.params.symbols ? [...checked.params.symbols] : null;
      const pct = new Map<string, number>();
      const started = (symbols: string[]): void => {
        if (list && pct.size) return;
        list = symbols;
        for (const s of symbols) pct.set(s, 0);
        this.post({ type: 'jobStarted', job: 'download', symbols });
      };
      if (list) started(list);
      const overall = (message: string): void =>
        this.post({
          type: 'overallProgress',
          percentage: overallPercentage([...pct.values()]),
          message,
        });
      let rows = 0;
      let failed = 0;
      let verified: { checked: number; issues: unknown[] } | undefined;
      let cancelled = false;
      const title = list ? plural(list.length, 'symbol') : 'symbols';
      await ctx.runJob(
        messages.downloadTitle(title),
        async (job) => {
          try {
            // "Download & Validate": the files written are read back and verified before the
            // job ends, so the table says "verified" for what was just downloaded.
            const params = { ...checked.params, verify: true } as Params<'ingest/run'>;
            const r = await client.request('ingest/run', params, {
              signal: job.signal,
              onProgress: (p) => {
                if (p.kind !== 'report') return;
                const states = p.symbols ?? [];
                if (!pct.size && states.length) started(states.map((s) => s.symbol));
                for (const s of states) {
                  const view = symbolView(s);
                  pct.set(s.symbol, view.percentage);
                  this.post({ type: 'symbolProgress', symbol: s.symbol, ...view });
                }
                if (p.message) overall(p.message);
                if (p.percentage !== undefined)
                  job.onProgress({ kind: 'report', percentage: p.percentage });
              },
            });
            if (!pct.size) started(r.symbols.map((s) => s.symbol));
            verified = r.verified;
            for (const item of r.symbols) {
              pct.set(item.symbol, 100);
              if (item.error) {
                failed++;
                this.post({
                  type: 'symbolProgress',
                  symbol: item.symbol,
                  state: 'failed',
                  percentage: 100,
                  message: item.error.message,
                });
              } else {
                rows += item.rows;
                this.post({
                  type: 'symbolProgress',
                  symbol: item.symbol,
                  state: 'done',
                  percentage: 100,
                  message: `${item.rows.toLocaleString('en-US')} new candles`,
                });
              }
            }
          } catch (e) {
            cancelled = isCancelled(e) || job.signal.aborted;
            if (!cancelled) failed++;
            for (const [symbol, percentage] of pct) {
              if (percentage >= 100) continue;
              this.post({
                type: 'symbolProgress',
                symbol,
                state: cancelled ? 'cancelled' : 'failed',
                percentage,
                message: describeError(e),
              });
            }
            if (!cancelled) throw e;
          }
          overall('');
        },
        // A cancellable notification, as the palette's downloads, besides the panel's own bars.
        { external: controller.signal, location: vscode.ProgressLocation.Notification },
      );
      const count = (list as string[] | null)?.length ?? pct.size;
      const checkedFiles = verified as { checked: number; issues: unknown[] } | undefined;
      const problems = checkedFiles?.issues.length ?? 0;
      const summary = cancelled
        ? messages.cancelled('The download')
        : [
            rows === 0 && failed === 0
              ? messages.downloadUpToDate(count)
              : messages.downloadDone(count, rows, failed, Date.now() - t0),
            checkedFiles?.checked
              ? messages.verifiedAfterDownload(checkedFiles.checked, problems)
              : '',
          ]
            .filter(Boolean)
            .join(' ');
      this.post({
        type: 'jobDone',
        job: 'download',
        ok: failed === 0 && problems === 0 && !cancelled,
        summary,
      });
      ctx.log.info(`data manager: ${summary} (${duration(Date.now() - t0)})`);
    } catch (e) {
      this.post({ type: 'jobDone', job: 'download', ok: false, summary: describeError(e) });
    } finally {
      logSub.dispose();
      this.job = undefined;
      void ctx.registry.refresh();
    }
  }

  private async indicators(
    symbols: string[],
    intervals: Interval[],
    m: Extract<ViewMessage, { type: 'updateIndicators' }>,
  ): Promise<void> {
    if (symbols.length === 0 || intervals.length === 0 || m.indicators.length === 0) {
      this.post({
        type: 'jobDone',
        job: 'indicators',
        ok: false,
        summary: 'Choose at least one dataset and one indicator.',
      });
      return;
    }
    this.post({ type: 'jobStarted', job: 'indicators', symbols });
    try {
      // Exactly the ticked datasets, never every ticked symbol x every ticked timeframe.
      const datasets = m.datasets?.map((id) => {
        const [symbol, interval] = id.split('/');
        return { symbol, interval: interval as Interval };
      });
      const r = await runIndicators(this.ctx, { symbols, datasets }, intervals, m.indicators, {
        quiet: true,
        location: vscode.ProgressLocation.Window,
      });
      const summary = r.failed
        ? `${messages.indicatorsDone(r.updated)} ${messages.indicatorsFailed(r.failed)}`
        : messages.indicatorsDone(r.updated);
      this.post({ type: 'jobDone', job: 'indicators', ok: r.failed === 0, summary });
    } catch (e) {
      this.post({ type: 'jobDone', job: 'indicators', ok: false, summary: describeError(e) });
    }
  }

  dispose(): void {
    if (ManagerPanel.current === this) ManagerPanel.current = undefined;
    this.job?.abort();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
