/**
 * The watch use cases: which symbols to keep current (the selection given, else `[watch]` of the
 * configuration) and the watcher's options from the configuration.
 */
import type { Config } from '../../schemas/config.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import type { Interval } from '../../schemas/intervals.ts';
import type { BinanceRestClient } from '../sources/rest.ts';
import { groupSymbols, topSymbols } from '../jobs/universe.ts';
import { Watcher, type WatchOptions } from '../jobs/watch.ts';
import type { ParsedParams, Result, WatchStatusResult } from '../../schemas/protocol.ts';
import type { JobContext, Services } from './services.ts';

export { Watcher, type WatchEvent, type WatchOptions, type WatchStatus } from '../jobs/watch.ts';

export interface WatchSelection {
  symbols?: string[];
  group?: string;
  top?: number;
}

/** The symbols a selection names (the exchange's top N asked once); `[watch]` when empty. */
export async function watchSymbols(
  config: Config,
  rest: BinanceRestClient,
  sel: WatchSelection,
  signal?: AbortSignal,
): Promise<string[]> {
  const out: string[] = [];
  const given = sel.symbols !== undefined || sel.group !== undefined || sel.top !== undefined;
  const symbols = given ? (sel.symbols ?? []) : config.watch.symbols;
  const groups = given ? (sel.group ? [sel.group] : []) : config.watch.groups;
  const top = given ? (sel.top ?? 0) : config.watch.top;
  out.push(...symbols);
  for (const g of groups) out.push(...groupSymbols(config, g));
  if (top > 0) {
    const t = await topSymbols(rest, top, {
      marketCapUrl: config.data.api.market_cap_url,
      ...(signal ? { signal } : {}),
    });
    out.push(...t.symbols.map((s) => s.symbol));
  }
  const unique = [...new Set(out.map((s) => s.toUpperCase()))];
  if (unique.length === 0)
    throw new ThreadxError(
      'BAD_INPUT',
      'Nothing to watch: no symbols were given and [watch] of threadx.toml names none.',
      'Give --symbols A,B, --group NAME or --top N, or list symbols under [watch] in threadx.toml.',
    );
  return unique;
}

/** The watcher's options from `[watch]` (and `[data.api] ws_url`), before the caller's own. */
export function watchOptionsFrom(
  config: Config,
  over: { intervals?: Interval[]; wsUrl?: string; start?: number } = {},
): Omit<WatchOptions, 'symbols'> {
  const w = config.watch;
  return {
    intervals: over.intervals ?? w.intervals ?? config.data.processing.default_intervals,
    wsUrl: over.wsUrl ?? config.data.api.ws_url,
    ...(over.start !== undefined ? { start: over.start } : {}),
    graceMs: w.grace_seconds * 1000,
    foldMs: w.fold_seconds * 1000,
    reconcileMs: w.reconcile_seconds * 1000,
  };
}

/**
 * The daemon's watch: one watcher over the set of watched symbols, restarted when the set
 * changes (the old one folds what it received first). Its folds take the symbols' write locks,
 * and each one is broadcast as `registry/changed` (reason `watch`).
 */
export class WatchService {
  private watcher: Watcher | undefined;
  private readonly symbols = new Set<string>();
  private intervals: Interval[] | undefined;
  private error: string | undefined;
  private changing: Promise<unknown> = Promise.resolve();

  constructor(private readonly svc: Services) {}

  /** `watch/add`. */
  add(p: ParsedParams<'watch/add'>, ctx: Pick<JobContext, 'signal'>): Promise<WatchStatusResult> {
    return this.serial(async () => {
      const { config } = this.svc.state;
      const symbols = await watchSymbols(
        config,
        this.svc.state.rest(),
        {
          ...(p.symbols ? { symbols: p.symbols } : {}),
          ...(p.group ? { group: p.group } : {}),
          ...(p.top ? { top: p.top.n } : {}),
        },
        ctx.signal,
      );
      for (const s of symbols) this.symbols.add(s);
      if (p.intervals) this.intervals = p.intervals;
      await this.restart(p.start);
      return this.status();
    });
  }

  /** `watch/remove`. */
  remove(p: ParsedParams<'watch/remove'>): Promise<WatchStatusResult> {
    return this.serial(async () => {
      if (!p.symbols) this.symbols.clear();
      for (const s of p.symbols ?? []) this.symbols.delete(s.toUpperCase());
      await this.restart();
      return this.status();
    });
  }

  list(): Result<'watch/list'> {
    return { symbols: [...this.symbols].sort() };
  }

  status(): WatchStatusResult {
    const w = this.watcher?.status;
    const intervals =
      this.intervals ??
      this.svc.state.config.watch.intervals ??
      this.svc.state.config.data.processing.default_intervals;
    if (!w)
      return {
        state: this.error ? 'failed' : 'idle',
        symbols: [...this.symbols].sort(),
        intervals,
        connections: 0,
        connected: 0,
        lastStored: null,
        lagMs: null,
        stored: 0,
        backfilled: 0,
        corrected: 0,
        restWeight: 0,
        reconnects: 0,
        ...(this.error ? { error: this.error } : {}),
      };
    return {
      state: this.error ? 'failed' : w.state,
      symbols: w.symbols,
      intervals: w.intervals,
      connections: w.connections,
      connected: w.connected,
      lastStored: w.lastStored,
      lagMs: w.lastStored === null ? null : Date.now() - (w.lastStored + 60_000),
      stored: w.stored,
      backfilled: w.backfilled,
      corrected: w.corrected,
      restWeight: w.restWeight,
      reconnects: w.reconnects,
      ...(this.error ? { error: this.error } : {}),
    };
  }

  /** Stops watching (at shutdown): what was received is folded into the bank. */
  stop(): Promise<void> {
    return this.serial(async () => {
      await this.watcher?.stop();
      this.watcher = undefined;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.changing.then(fn, fn);
    this.changing = next.catch(() => undefined);
    return next;
  }

  private async restart(start?: number): Promise<void> {
    await this.watcher?.stop();
    this.watcher = undefined;
    this.error = undefined;
    if (this.symbols.size === 0) return;
    const { config, logger } = this.svc.state;
    const w = new Watcher(this.svc.ingestDeps(), {
      ...watchOptionsFrom(config, {
        ...(this.intervals ? { intervals: this.intervals } : {}),
        ...(start !== undefined ? { start } : {}),
      }),
      symbols: [...this.symbols].sort(),
      onEvent: (e) => {
        if (e.event === 'stored') return;
        if (e.event === 'error') logger.warn(`watch: ${e.message}`);
        else logger.info(`watch: ${JSON.stringify(e)}`);
      },
      onChanged: () => this.svc.flushChanges('watch'),
      exclusive: (symbols, fn) =>
        this.svc.writing(symbols, 'watch', { signal: new AbortController().signal }, fn),
    });
    this.watcher = w;
    // The catch-up runs on; the status tells how far it is.
    void w.start().catch((e: unknown) => {
      this.error = e instanceof Error ? e.message : String(e);
      logger.error('watch failed', e);
    });
  }
}
