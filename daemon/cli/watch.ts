import { SELECTION } from '../../schemas/contracts.ts';
import { parseUtcDate, SymbolSchema } from '../../schemas/common.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { parseIntervals } from '../../schemas/intervals.ts';
import { ingestDepsFor } from '../app/bank.ts';
import { type WatchEvent, Watcher, watchOptionsFrom, watchSymbols } from '../app/watch.ts';
import { type CliCommand, EXIT, UsageError } from './context.ts';
import { iso } from './format.ts';

/**
 * `threadx watch`: keeps symbols current from the kline WebSocket in the foreground, holding the
 * bank's lock (one writer). SIGINT or SIGTERM stop it: what was received is folded into the bank
 * and it exits 0.
 */
export const watchCommand: CliCommand = {
  name: 'watch',
  usage: 'watch',
  summary:
    '[--symbols A,B | --group G | --top N] [--intervals 1m,5m,1h] [--start ISO] [--base-url URL] [--ws-url URL]: keep symbols current from the kline stream',
  options: {
    symbols: { type: 'string' },
    group: { type: 'string' },
    top: { type: 'string' },
    'base-url': { type: 'string' },
    'archive-url': { type: 'string' },
    'ws-url': { type: 'string' },
  },
  async run(ctx, values) {
    const sel = selection(values);
    const wsUrl = values['ws-url'] as string | undefined;
    if (wsUrl !== undefined && !/^wss?:\/\/\S+$/.test(wsUrl))
      throw new UsageError(
        `The option --ws-url must be a ws:// or wss:// URL, not ${JSON.stringify(wsUrl)}.`,
      );
    const start = typeof values.start === 'string' ? parseUtcDate(values.start) : undefined;
    const intervals =
      typeof values.intervals === 'string' ? parseIntervals(values.intervals) : undefined;
    const bank = await ctx.openBank('write');
    const deps = ingestDepsFor(bank, ctx.config, {
      ...(values['base-url'] ? { baseUrl: values['base-url'] as string } : {}),
      ...(values['archive-url'] ? { archiveUrl: values['archive-url'] as string } : {}),
    });
    const ac = new AbortController();
    let stopping: Promise<void> | undefined;
    let watcher: Watcher | undefined;
    const stop = (): void => {
      ac.abort();
      stopping ??= watcher?.stop();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const print = (e: WatchEvent): void => {
      if (ctx.json) ctx.out(JSON.stringify({ ...e, at: Date.now() }));
      else if (e.event !== 'stored') ctx.out(describe(e));
    };
    try {
      const symbols = await watchSymbols(ctx.config, deps.rest, sel, ac.signal);
      watcher = new Watcher(deps, {
        ...watchOptionsFrom(ctx.config, {
          ...(intervals ? { intervals } : {}),
          ...(wsUrl ? { wsUrl } : {}),
          ...(start !== undefined ? { start } : {}),
        }),
        symbols,
        onEvent: print,
      });
      try {
        await watcher.start(ac.signal);
      } catch (e) {
        if (!ac.signal.aborted) throw e;
      }
      if (watcher.status.symbols.length === 0 && !ac.signal.aborted) {
        await watcher.stop();
        ctx.err('threadx watch: none of the symbols can be watched (see above).');
        return EXIT.problems;
      }
      const lag = setInterval(() => watcher!.reportLag(), 10_000);
      await new Promise<void>((resolve) => {
        if (ac.signal.aborted) resolve();
        else ac.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      clearInterval(lag);
      await (stopping ?? watcher.stop());
      return EXIT.ok;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};

function selection(values: Record<string, unknown>): {
  symbols?: string[];
  group?: string;
  top?: number;
} {
  const given = ['symbols', 'group', 'top'].filter((k) => values[k] !== undefined);
  if (given.length > 1)
    throw new UsageError('Choose at most one of --symbols A,B, --group NAME or --top N.');
  if (typeof values.symbols === 'string') {
    const symbols = values.symbols
      .split(',')
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean);
    for (const s of symbols)
      if (!SymbolSchema.safeParse(s).success)
        throw new ThreadxError(
          'INVALID_SYMBOL',
          `${JSON.stringify(s)} is not a symbol: a symbol is 2 to 20 letters or digits, such as BTCUSDC.`,
          'Check the spelling in --symbols.',
          { symbol: s },
        );
    if (symbols.length === 0)
      throw new ThreadxError(
        'BAD_INPUT',
        'The symbol list is empty.',
        'Name at least one symbol, e.g. --symbols BTCUSDC,ETHUSDC.',
      );
    return { symbols };
  }
  if (typeof values.group === 'string') return { group: values.group };
  if (values.top !== undefined) {
    const top = Number(values.top);
    if (!(Number.isInteger(top) && top >= 1 && top <= SELECTION.maxTop))
      throw new UsageError(
        `The option --top must be a whole number from 1 to ${SELECTION.maxTop}, not ${JSON.stringify(values.top)}.`,
      );
    return { top };
  }
  return {};
}

/** One line for a person. */
function describe(e: WatchEvent): string {
  switch (e.event) {
    case 'catching-up':
      return `catching up ${e.symbols.length} symbol(s) from ${iso(e.start)}`;
    case 'caught-up':
      return `caught up: ${e.rows} new minute(s) in ${e.seconds} s${e.skipped.length ? `; not watched: ${e.skipped.join(', ')}` : ''}`;
    case 'connected':
      return `stream ${e.connection} connected (${e.streams} symbol(s))`;
    case 'reconnecting':
      return `stream ${e.connection} ${e.reason}: reconnecting (minutes since ${iso(e.since)} are fetched by REST)`;
    case 'backfilled':
      return `${e.symbol}: ${e.rows} minute(s) fetched by REST from ${iso(e.start)}`;
    case 'outage':
      return `${e.symbol}: the exchange has no klines from ${iso(e.start)} to ${iso(e.end)} (outage)`;
    case 'disagree':
      return `${e.symbol} ${iso(e.openTime)}: the stream's kline differs from REST's; REST's is stored`;
    case 'reconciled':
      return `checked ${e.minutes} streamed minute(s) of ${e.symbols} symbol(s) against REST: ${e.corrected} corrected`;
    case 'folded':
      return `folded ${e.rows} minute(s) of ${e.symbols.length} symbol(s) into the bank`;
    case 'lag':
      return `all symbols stored up to ${e.lastStored === null ? '-' : iso(e.lastStored)}${e.lagMs === null ? '' : ` (lag ${(e.lagMs / 1000).toFixed(1)} s)`}; REST weight ${e.restWeight}`;
    case 'error':
      return `error: ${e.message}`;
    case 'stopped':
      return `stopped: ${e.stored} minute(s) stored, REST weight ${e.restWeight}`;
    case 'stored':
      return `${e.symbol} ${iso(e.openTime)} stored (${e.source})`;
  }
}
