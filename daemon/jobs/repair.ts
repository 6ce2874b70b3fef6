/**
 * Repair: bring a symbol's files back to what the registry promises, touching only what is
 * broken. Corrupt or missing 1m partitions are re-fetched for exactly their ranges (archive or
 * REST, as ingest does); corrupt derived files and indicator caches are rebuilt from 1m (no
 * network); the symbol is verified again. A sound file is never rewritten.
 */
import { MINUTE_MS, type Interval } from '../../schemas/intervals.ts';
import { parseSymbol } from '../../schemas/common.ts';
import type { VerifyIssue } from '../../schemas/registry.ts';
import { type ErrorCodeName, ThreadxError, isErrorCode } from '../../schemas/errors.ts';
import { runIngest, type IngestDeps } from './ingest.ts';
import { refreshStaleIndicators, updateIndicators } from './indicators.ts';

export interface RepairResult {
  symbol: string;
  /** True when the symbol's files all verify after the repair. */
  ok: boolean;
  /** What verify found before the repair (problems only). */
  found: VerifyIssue[];
  /** 1m ranges fetched again, [start, end) in ms. */
  refetched: [number, number][];
  /** Datasets rebuilt from 1m (`SYMBOL/interval`, `SYMBOL/interval/key`). */
  rebuilt: string[];
  /** What verify finds after the repair (problems only). */
  remaining: VerifyIssue[];
  /** Why the symbol could not be repaired (no network, no longer served ...). */
  error?: { code: string; message: string };
}

export interface RepairSummary {
  ok: boolean;
  results: RepairResult[];
}

export interface RepairOptions {
  signal?: AbortSignal;
  onProgress?: (symbol: string, message: string) => void;
}

/** Repairs `symbols` (default: every symbol with a problem) and reports per symbol. */
export async function repairSymbols(
  deps: IngestDeps,
  symbols: readonly string[] | undefined,
  opts: RepairOptions = {},
): Promise<RepairSummary> {
  const { bank } = deps;
  const list = symbols?.length
    ? [...new Set(symbols.map((s) => parseSymbol(s)))]
    : [...new Set(bank.list().map((d) => d.symbol))].sort();
  const results: RepairResult[] = [];
  for (const symbol of list) {
    opts.signal?.throwIfAborted();
    results.push(await repairSymbol(deps, symbol, opts));
  }
  return { ok: results.every((r) => r.ok), results };
}

async function repairSymbol(
  deps: IngestDeps,
  symbol: string,
  opts: RepairOptions,
): Promise<RepairResult> {
  const { bank } = deps;
  const say = (m: string): void => opts.onProgress?.(symbol, m);
  const res: RepairResult = {
    symbol,
    ok: false,
    found: [],
    refetched: [],
    rebuilt: [],
    remaining: [],
  };
  if (!bank.list().some((d) => d.symbol === symbol)) {
    res.error = {
      code: 'NOT_FOUND',
      message: `${symbol} is not in the bank: download it with "threadx ingest --symbols ${symbol} --start ..."`,
    };
    return res;
  }
  say('verifying');
  res.found = (await bank.verify({ symbols: [symbol], signal: opts.signal })).filter(
    (i) => i.status !== 'ok',
  );
  const byDataset = new Map<string, VerifyIssue[]>();
  for (const i of res.found) {
    if (!i.dataset) continue;
    byDataset.set(i.dataset, [...(byDataset.get(i.dataset) ?? []), i]);
  }
  // Derived files and caches first: forgetting them lets the 1m re-fetch re-derive into them.
  const derived: Interval[] = [];
  const caches: { interval: Interval; name: string; params: Record<string, number> }[] = [];
  for (const [id, issues] of byDataset) {
    const e = bank.registry().datasets[id];
    if (!e || e.interval === '1m') continue;
    await bank.dropFiles(
      id,
      issues.map((i) => i.path),
    );
    if (e.kind === 'indicator' && e.indicator)
      caches.push({ interval: e.interval, name: e.indicator.name, params: e.indicator.params });
    else derived.push(e.interval);
  }
  try {
    const m1Issues = byDataset.get(`${symbol}/1m`) ?? [];
    if (m1Issues.length) {
      const entry = bank.get(symbol, '1m')!;
      const bad = entry.files.filter((f) => m1Issues.some((i) => i.path === f.path));
      const ranges = bad
        .filter((f) => f.first !== null && f.last !== null)
        .map((f): [number, number] => [f.first!, f.last! + MINUTE_MS]);
      await bank.dropFiles(
        `${symbol}/1m`,
        bad.map((f) => f.path),
      );
      for (const [start, end] of ranges) {
        say(`fetching ${new Date(start).toISOString()} .. ${new Date(end).toISOString()}`);
        const unreachable = (why: string, code: string): ThreadxError =>
          new ThreadxError(
            codeOf(code, 'NETWORK'),
            `${symbol} could not be fetched again (${why}); its damaged month was removed and the rest of the bank is sound. Run "threadx repair --symbol ${symbol}" again when the exchange is reachable.`,
            undefined,
            { symbol, start, end },
          );
        let s: Awaited<ReturnType<typeof runIngest>>;
        try {
          s = await runIngest(
            deps,
            { symbols: [symbol], start, end, intervals: derived },
            { signal: opts.signal },
          );
        } catch (e) {
          const err = e as Error & { code?: unknown };
          throw unreachable(err.message, typeof err.code === 'string' ? err.code : 'NETWORK');
        }
        const r = s.results[0];
        if (s.skipped.length)
          throw new ThreadxError(
            'NOT_FOUND',
            `${symbol} cannot be fetched again: ${s.skipped[0].reason ?? s.skipped[0].status}. Its damaged month was removed; the rest of the bank is sound.`,
            undefined,
            { symbol },
          );
        if (!r?.ok) throw unreachable(r?.error?.message ?? 'failed', r?.error?.code ?? 'NETWORK');
        res.refetched.push([start, end]);
      }
    }
    // Rebuild the derived files that were damaged (from 1m: no network).
    const still = derived.filter((iv) => (bank.get(symbol, iv)?.files.length ?? 0) === 0);
    if (still.length) {
      say(`deriving ${still.join(', ')}`);
      await bank.derive(symbol, still);
    }
    res.rebuilt.push(...derived.map((iv) => `${symbol}/${iv}`));
    if (caches.length) {
      const s = await updateIndicators(bank, {
        symbols: [symbol],
        intervals: [],
        indicators: [],
        items: caches.map((c) => ({
          symbol,
          interval: c.interval,
          indicator: { name: c.name, params: c.params },
        })),
      });
      res.rebuilt.push(...s.items.filter((i) => i.status !== 'failed').map((i) => i.id));
    }
    const refreshed = await refreshStaleIndicators(bank, symbol);
    if (refreshed)
      res.rebuilt.push(...refreshed.items.filter((i) => i.status === 'updated').map((i) => i.id));
    res.rebuilt = [...new Set(res.rebuilt)];
  } catch (e) {
    const err = e as Error & { code?: unknown };
    res.error = {
      code: typeof err.code === 'string' ? err.code : 'INTERNAL',
      message: err.message,
    };
    // Derived files follow the 1m that is left, hole included: never ahead of their source.
    const stored = bank
      .list()
      .filter((d) => d.symbol === symbol && d.kind === 'candles' && d.interval !== '1m')
      .map((d) => d.interval);
    if (bank.get(symbol, '1m')?.rows) await bank.derive(symbol, stored).catch(() => undefined);
  }
  say('verifying the result');
  res.remaining = (await bank.verify({ symbols: [symbol], signal: opts.signal })).filter(
    (i) => i.status !== 'ok',
  );
  res.ok = !res.error && res.remaining.length === 0;
  return res;
}

/** `code` when the error table knows it, else `fallback`. */
function codeOf(code: string, fallback: ErrorCodeName): ErrorCodeName {
  return isErrorCode(code) ? code : fallback;
}
