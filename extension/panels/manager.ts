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
import { overallPercentage, planView } from '../plan.ts';
import { webviewHtml, webviewOptions } from './html.ts';

const REMEMBERED = 'threadx.lastForm';

export function defaultManagerState(ctx: Ctx): ManagerState {
  const remembered = ctx.extension.globalState.get<IngestForm>(REMEMBERED);
  return {
    form: remembered ?? {
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

export class ManagerPanel implements vscode.Disposable {
  static readonly viewType = 'threadx.dataManager';
  static current: ManagerPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private job: AbortController | undefined;

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
          await ctx.extension.globalState.update(REMEMBERED, m.form);
          return;
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
            delete: 'threadx.deleteDataset',
          }[m.action];
          await vscode.commands.executeCommand(command, ref);
          return;
        }
        case 'read':
        case 'saveImage':
          return;
      }
    } catch (e) {
      this.post({ type: 'error', message: describeError(e) });
    }
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
   * Downloads symbol by symbol (at the configured concurrency), one `ingest/run` each, so every
   * symbol has its own progress bar; top N and groups are resolved through `ingest/plan` first.
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
      const { symbols: _s, top: _t, group: _g, ...rest } = checked.params;
      let symbols = checked.params.symbols;
      if (!symbols) {
        const plan = await client.request('ingest/plan', { ...checked.params, dryRun: true });
        symbols = plan.items.map((i) => i.symbol);
      }
      const list = symbols;
      this.post({ type: 'jobStarted', job: 'download', symbols: list });
      const pct = new Map(list.map((s) => [s, 0]));
      const overall = (message: string): void =>
        this.post({
          type: 'overallProgress',
          percentage: overallPercentage([...pct.values()]),
          message,
        });
      let rows = 0;
      let failed = 0;
      let cancelled = false;
      await ctx.runJob(
        messages.downloadTitle(plural(list.length, 'symbol')),
        async (job) => {
          const queue = [...list];
          const worker = async (): Promise<void> => {
            for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
              const symbol = s;
              if (job.signal.aborted) {
                this.post({ type: 'symbolProgress', symbol, state: 'cancelled', percentage: 0 });
                continue;
              }
              this.post({ type: 'symbolProgress', symbol, state: 'running', percentage: 0 });
              try {
                const params = { ...rest, symbols: [symbol] } as Params<'ingest/run'>;
                const r = await client.request('ingest/run', params, {
                  signal: job.signal,
                  onProgress: (p) => {
                    if (p.kind === 'end' || p.percentage === undefined) return;
                    pct.set(symbol, p.percentage);
                    this.post({
                      type: 'symbolProgress',
                      symbol,
                      state: 'running',
                      percentage: p.percentage,
                      message: p.message,
                    });
                    overall(`${symbol}: ${p.message ?? ''}`);
                    job.onProgress({
                      kind: 'report',
                      percentage: overallPercentage([...pct.values()]),
                    });
                  },
                });
                const item = r.symbols[0];
                pct.set(symbol, 100);
                if (item?.error) {
                  failed++;
                  this.post({
                    type: 'symbolProgress',
                    symbol,
                    state: 'failed',
                    percentage: 100,
                    message: item.error.message,
                  });
                } else {
                  rows += item?.rows ?? 0;
                  this.post({
                    type: 'symbolProgress',
                    symbol,
                    state: 'done',
                    percentage: 100,
                    message: `${(item?.rows ?? 0).toLocaleString('en-US')} new candles`,
                  });
                }
              } catch (e) {
                const wasCancelled = isCancelled(e) || job.signal.aborted;
                if (wasCancelled) cancelled = true;
                else failed++;
                this.post({
                  type: 'symbolProgress',
                  symbol,
                  state: wasCancelled ? 'cancelled' : 'failed',
                  percentage: pct.get(symbol) ?? 0,
                  message: describeError(e),
                });
              }
              overall(symbol);
            }
          };
          const n = Math.max(1, Math.min(ctx.settings.concurrency, list.length));
          await Promise.all(Array.from({ length: n }, worker));
        },
        { external: controller.signal, location: vscode.ProgressLocation.Window },
      );
      const summary = cancelled
        ? messages.cancelled('The download')
        : rows === 0 && failed === 0
          ? messages.downloadUpToDate(list.length)
          : messages.downloadDone(list.length, rows, failed, Date.now() - t0);
      this.post({ type: 'jobDone', job: 'download', ok: failed === 0 && !cancelled, summary });
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
