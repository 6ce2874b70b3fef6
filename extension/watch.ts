/**
 * "Watch Symbols...": asks the daemon to keep symbols current from the kline stream
 * (`watch/add`), and a status bar item with the watch's state (symbols, last stored minute,
 * lag) read from `watch/status` every few seconds while something is watched.
 */
import * as vscode from 'vscode';
import type { Ctx } from './ctx.ts';
import { messages } from './messages.ts';
import { parseWatchSymbols, watchView } from './watch-model.ts';

const LAST_KEY = 'threadx.watchSymbols';
const bars = new WeakMap<Ctx, WatchStatusBar>();

class WatchStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'threadx.watch',
    vscode.StatusBarAlignment.Left,
    9,
  );
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: Ctx) {
    this.item.name = 'ThreadX Watch';
    this.item.command = 'threadx.watchSymbols';
  }

  /** Polls `watch/status` until nothing is watched. */
  follow(): void {
    if (this.timer) return;
    const tick = async (): Promise<void> => {
      try {
        const s = await (await this.ctx.client()).request('watch/status', undefined);
        const v = watchView(s);
        this.item.text = v.text;
        this.item.tooltip = v.tooltip;
        this.item.backgroundColor = v.error
          ? new vscode.ThemeColor('statusBarItem.errorBackground')
          : undefined;
        if (v.visible) this.item.show();
        else {
          this.item.hide();
          this.stop();
        }
      } catch (e) {
        this.ctx.log.warn(`watch status: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    this.timer = setInterval(() => void tick(), 5000);
    void tick();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.stop();
    this.item.dispose();
  }
}

function barOf(ctx: Ctx): WatchStatusBar {
  let bar = bars.get(ctx);
  if (!bar) {
    bar = new WatchStatusBar(ctx);
    bars.set(ctx, bar);
    ctx.push(bar);
  }
  return bar;
}

/** The command: `symbols` given (tests, other extensions) skip the prompt. */
export function watchSymbolsCommand(ctx: Ctx) {
  return async (args?: { symbols?: string[] }): Promise<unknown> => {
    let symbols = args?.symbols;
    if (!symbols) {
      const last = ctx.extension.workspaceState.get<string>(LAST_KEY) ?? 'BTCUSDC, ETHUSDC';
      const text = await vscode.window.showInputBox({
        title: 'Watch Symbols',
        prompt: messages.watchPrompt(),
        value: last,
        ignoreFocusOut: true,
        validateInput: (t) => {
          const r = parseWatchSymbols(t);
          return 'error' in r ? r.error : undefined;
        },
      });
      if (text === undefined) return undefined;
      const r = parseWatchSymbols(text);
      if ('error' in r) return undefined;
      symbols = r.symbols;
      await ctx.extension.workspaceState.update(LAST_KEY, symbols.join(', '));
    }
    try {
      const status = await (
        await ctx.client()
      ).request('watch/add', {
        symbols,
        intervals: ctx.settings.defaultIntervals,
      });
      barOf(ctx).follow();
      void vscode.window.showInformationMessage(messages.watchStarted(status.symbols));
      return status;
    } catch (e) {
      ctx.reportFailure('Watching symbols', e);
      return undefined;
    }
  };
}
