/**
 * The candlestick preview's host: one panel per dataset. It answers the chart's `read` messages
 * with `data/read` and `indicators/read` for exactly the interval and window the chart chose
 * (`exact`; without a window, the latest `maxPoints` candles, placed from the registry's extent),
 * and saves exported images.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Interval } from '../../schemas/intervals.ts';
import type { ChartData, ChartState, HostMessage, ViewMessage } from '../../webviews/messages.ts';
import { isViewMessage } from '../../webviews/messages.ts';
import type { Ctx } from '../ctx.ts';
import { damageOf, describeError } from '../errors.ts';
import { sentence, utcMinute } from '../format.ts';
import { integrityText } from '../../schemas/integrity.ts';
import { slotMs } from '../../webviews/chart/spec.ts';
import { webviewHtml, webviewOptions } from './html.ts';

export class ChartPanel implements vscode.Disposable {
  static readonly viewType = 'threadx.chart';
  static readonly panels = new Set<ChartPanel>();

  private readonly disposables: vscode.Disposable[] = [];
  private state: ChartState;
  /** The dataset of the last read when it failed, until a read succeeds again. */
  private failed: string | undefined;
  /** Damaged datasets already announced with a Repair notification (once until a read works). */
  private readonly announced = new Set<string>();
  /**
   * The chart's own Repair is running: the registry changes it makes on the way (verify records
   * the damage first) are not a reason to read again; its end is.
   */
  private repairing = false;

  static show(ctx: Ctx, open: { symbol: string; interval: Interval }): ChartPanel {
    for (const p of ChartPanel.panels) {
      if (p.state.symbol === open.symbol && p.state.interval === open.interval) {
        p.panel.reveal();
        return p;
      }
    }
    const panel = vscode.window.createWebviewPanel(
      ChartPanel.viewType,
      `${open.symbol} ${open.interval}`,
      vscode.ViewColumn.Active,
      webviewOptions(ctx.extension.extensionUri),
    );
    return new ChartPanel(ctx, panel, {
      symbol: open.symbol,
      interval: open.interval,
      overlays: [{ name: 'sma', params: { period: 20 } }],
      panels: [],
    });
  }

  static serializer(ctx: Ctx): vscode.WebviewPanelSerializer<ChartState> {
    return {
      deserializeWebviewPanel: (panel, state) => {
        panel.webview.options = webviewOptions(ctx.extension.extensionUri);
        if (!state?.symbol) {
          panel.dispose();
          return Promise.resolve();
        }
        new ChartPanel(ctx, panel, state);
        return Promise.resolve();
      },
    };
  }

  constructor(
    private readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
    initial: ChartState,
  ) {
    this.state = initial;
    ChartPanel.panels.add(this);
    panel.webview.html = webviewHtml(
      panel.webview,
      ctx.extension.extensionUri,
      'chart',
      `${initial.symbol} ${initial.interval}`,
    );
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if (isViewMessage(m)) void this.receive(m);
      }),
      // A repair from anywhere (the tree, the data manager, "threadx repair --join") changes the
      // registry: a chart whose read failed reads again.
      ctx.registry.onDidChange((symbols) => {
        if (this.repairing) return;
        if (this.failed && (!symbols || symbols.includes(this.state.symbol))) this.reload();
      }),
    );
  }

  /** Asks the chart to read its window again. */
  private reload(): void {
    this.failed = undefined;
    this.post({ type: 'reload' });
  }

  /** The chart's Repair button: the repair runs in this window's daemon, then the chart reads. */
  private async repair(symbol: string): Promise<void> {
    this.repairing = true;
    try {
      await vscode.commands.executeCommand('threadx.repair', { symbol });
    } finally {
      this.repairing = false;
    }
    // Read once the repair has ended, whatever a read during it answered.
    this.reload();
  }

  get symbol(): string {
    return this.state.symbol;
  }

  private post(m: HostMessage): void {
    void this.panel.webview.postMessage(m);
  }

  private async receive(m: ViewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.post({
          type: 'init',
          view: 'chart',
          state: this.state,
          intervals: this.ctx.settings.defaultIntervals,
        });
        return;
      case 'read':
        return this.read(m);
      case 'chartState':
        this.state = m.state;
        this.panel.title = `${m.state.symbol} ${m.state.interval}`;
        return;
      case 'saveImage':
        return this.save(m);
      case 'repair':
        return this.repair(m.symbol);
      default:
        return;
    }
  }

  private async read(m: Extract<ViewMessage, { type: 'read' }>): Promise<void> {
    try {
      const client = await this.ctx.client();
      const extent = this.extent(m.symbol, m.interval);
      let window = m.range;
      if (!window && m.exact && extent) {
        // The latest candles: the window is placed from the registry, so only it is read.
        window = [Math.max(extent[0], extent[1] - m.maxPoints * slotMs(m.interval)), extent[1]];
      }
      const range = window
        ? { start: Math.max(0, Math.floor(window[0])), end: Math.max(1, Math.ceil(window[1])) }
        : {};
      const candles = await client.request('data/read', {
        symbol: m.symbol,
        interval: m.interval,
        maxPoints: m.maxPoints,
        exact: m.exact ?? false,
        ...range,
      });
      const data: ChartData = {
        seq: m.seq,
        symbol: candles.symbol,
        interval: candles.interval,
        requestedInterval: candles.requestedInterval,
        resampled: candles.resampled,
        truncated: candles.truncated,
        openTime: candles.columns.openTime,
        open: candles.columns.open,
        high: candles.columns.high,
        low: candles.columns.low,
        close: candles.columns.close,
        volume: candles.columns.volume,
        filled: candles.columns.filled,
        indicators: [],
        extent,
        range: window ? [range.start!, range.end!] : undefined,
        integrity: this.integrity(candles.symbol, candles.interval),
        outages: candles.outages ?? [],
      };
      if (m.indicators.length > 0 && candles.length > 0) {
        try {
          // Ask for the interval the candles came in, so both line up on the same open times.
          const ind = await client.request('indicators/read', {
            symbols: [m.symbol],
            intervals: [candles.interval],
            indicators: m.indicators,
            maxPoints: m.maxPoints,
            exact: m.exact ?? false,
            ...range,
          });
          const series = ind.series[0];
          if (series) {
            const index = new Map(series.openTime.map((t, i) => [t, i]));
            data.indicators = series.indicators.map((s) => ({
              key: s.key,
              name: s.name,
              outputs: Object.fromEntries(
                Object.entries(s.outputs).map(([k, col]) => [
                  k,
                  data.openTime.map((t) => {
                    const i = index.get(t);
                    return i === undefined ? null : (col[i] ?? null);
                  }),
                ]),
              ),
            }));
          }
        } catch (e) {
          data.indicatorError = `Indicators unavailable: ${describeError(e)}`;
        }
      }
      this.failed = undefined;
      this.announced.clear();
      this.post({ type: 'candles', data });
    } catch (e) {
      const damage = damageOf(e);
      this.failed = `${m.symbol}/${m.interval}`;
      this.post({
        type: 'chartError',
        seq: m.seq,
        message: damage
          ? describeError(e)
          : `The candles for this view could not be read. ${sentence(describeError(e))}`,
        ...(damage ? { repair: damage.symbol } : {}),
      });
      // A damaged file has a way out: say so once, with Repair (the chart offers it too).
      if (damage && !this.announced.has(damage.dataset)) {
        this.announced.add(damage.dataset);
        void this.ctx.offerRepair(describeError(e), damage).then((ran) => {
          if (ran && this.failed) this.reload();
        });
      }
    }
  }

  /**
   * The integrity of the files the candles come from, as the daemon keeps it: the stored
   * timeframe's, or the 1m files' for a timeframe resampled on the fly.
   */
  private integrity(symbol: string, interval: Interval): string | undefined {
    const ds = this.ctx.registry.datasets.filter(
      (d) => d.symbol === symbol && d.kind === 'candles',
    );
    const own = ds.find((d) => d.interval === interval) ?? ds.find((d) => d.interval === '1m');
    if (!own?.integrity) return undefined;
    const text = integrityText(own.integrity, (t) => `${utcMinute(t)} UTC`);
    return own.interval === interval ? text : `1m ${text}`;
  }

  /** [first open time, end) of the symbol's candles: from its 1m, else the timeframe itself. */
  private extent(symbol: string, interval: Interval): [number, number] | null {
    const ds = this.ctx.registry.datasets;
    const m1 = ds.find((d) => d.symbol === symbol && d.interval === '1m' && d.kind === 'candles');
    if (m1?.first != null && m1.last != null) return [m1.first, m1.last + 60_000];
    const own = ds.find(
      (d) => d.symbol === symbol && d.interval === interval && d.kind === 'candles',
    );
    if (own?.first != null && own.last != null) return [own.first, own.last + slotMs(interval)];
    return null;
  }

  private async save(m: Extract<ViewMessage, { type: 'saveImage' }>): Promise<void> {
    const base = this.ctx.workspaceFolder ?? this.ctx.dataDir;
    const uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(path.join(base, `${m.name}.${m.format}`)),
      filters: m.format === 'png' ? { PNG: ['png'] } : { SVG: ['svg'] },
    });
    if (!uri) return;
    const bytes =
      m.format === 'png'
        ? Buffer.from(m.data.replace(/^data:image\/png;base64,/, ''), 'base64')
        : Buffer.from(m.data, 'utf8');
    await fsp.writeFile(uri.fsPath, bytes);
    this.post({ type: 'saved', path: uri.fsPath });
    void vscode.window.showInformationMessage(`Saved ${uri.fsPath}`);
  }

  dispose(): void {
    ChartPanel.panels.delete(this);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
