/**
 * The watch use cases: which symbols to keep current (the selection given, else `[watch]` of the
 * configuration) and the watcher's options from the configuration.
 */
import type { Config } from '../../schemas/config.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import type { Interval } from '../../schemas/intervals.ts';
import type { BinanceRestClient } from '../sources/rest.ts';
import { groupSymbols, topSymbols } from '../jobs/universe.ts';
import type { WatchOptions } from '../jobs/watch.ts';

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
