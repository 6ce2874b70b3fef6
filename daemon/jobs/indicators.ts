import { ThreadxError } from '../../schemas/errors.ts';
import { promises as fsp } from 'node:fs';
import type { Candles } from '../../schemas/candles.ts';
import type { Config } from '../../schemas/config.ts';
import type { Interval } from '../../schemas/intervals.ts';
import { parseBankKey as parseSymbol } from '../../schemas/common.ts';
import {
  type IndicatorName,
  type IndicatorParamIssue,
  INDICATOR_NAMES,
  IndicatorParamsError,
  OUTPUT_NAMES,
  computeIndicator,
  isIndicatorName,
  paramsKey,
  parseIndicatorParams,
} from '../engine/indicators.ts';
import { type Bank, damaged } from '../store/bank.ts';

/**
 * The indicator batch: symbols x intervals x indicators, each computed over the full stored
 * series of its interval (so EMA-style warm-up lies before anything a user looks at) and cached
 * in `indicators_cache/SYMBOL/interval/key.parquet` with the checksum of the candle dataset it
 * came from.
 *
 * Staleness rule: a cached indicator is current when its `sourceChecksum` equals the candle
 * dataset's checksum now (`Bank.datasetChecksum`) and its file exists; otherwise it is
 * recomputed. A derived interval is itself current only when it was derived from the current 1m
 * files, so a stale or missing derived interval is re-derived from 1m first (new 1m data thus
 * makes every indicator above it stale).
 *
 * Every file is written atomically under the bank's journal, and cancellation is checked between
 * items only, so a cancelled batch leaves each indicator either old-and-registered or
 * new-and-registered.
 */

/** Every message this job shows a person, written once; tests assert on these. */
export const indicatorMessages = {
  updated: (n: number) => `Updated ${n} indicator(s)`,
  counts: (current: number, failed: number, seconds: number) =>
    `${current} already current, ${failed} failed, in ${seconds} s`,
  cancelled: () => 'cancelled: what was written is consistent; re-run to finish',
  noData: (symbol: string) => `no 1m data for ${symbol} in the bank: ingest or import it first`,
  notDerived: (symbol: string, interval: string) =>
    `${symbol} ${interval} is missing or older than the 1m data: run "threadx resample --symbol ${symbol} --intervals ${interval}"`,
  deriveFailed: (symbol: string, interval: string, why: string) =>
    `could not derive ${symbol} ${interval} from 1m: ${why}`,
  unknownIndicator: (name: string) =>
    `unknown indicator '${name}' (expected one of ${INDICATOR_NAMES.join(', ')})`,
  badParamSyntax: (text: string) =>
    `invalid parameter '${text}': write indicator.param=value, e.g. rsi.period=21`,
  paramNotANumber: (text: string) => `invalid parameter '${text}': the value must be a number`,
  paramForUnlisted: (name: string) =>
    `invalid parameter for '${name}': it is not among the indicators to update`,
  badAfterIngest: (entry: string, why: string) =>
    `ignoring indicators.after_ingest entry ${JSON.stringify(entry)}: ${why}`,
} as const;

/** An indicator as a caller asks for it; params are validated and defaulted by the engine. */
export interface IndicatorChoice {
  name: string;
  params?: Record<string, number>;
}

/** A validated indicator: defaults filled in, with its cache key. */
export interface IndicatorSpec {
  name: IndicatorName;
  params: Record<string, number>;
  key: string;
}

export interface IndicatorBatchRequest {
  symbols: string[];
  intervals: Interval[];
  indicators: IndicatorChoice[];
  /**
   * Derive a missing or stale interval from 1m before computing (default true); when false such
   * items fail with a message saying how to derive it.
   */
  derive?: boolean;
  /**
   * Exactly these (dataset, indicator) pairs, instead of every symbol x interval x indicator:
   * a request for some indicators on some datasets computes those and nothing else.
   */
  items?: { symbol: string; interval: Interval; indicator: IndicatorChoice }[];
  /**
   * Exactly these datasets, each with every indicator of `indicators` (instead of `symbols` x
   * `intervals`): ticking BTCUSDC/1h and ETHUSDC/4h computes two datasets, not four.
   */
  datasets?: { symbol: string; interval: Interval }[];
}

export type ItemStatus = 'updated' | 'current' | 'failed';

export interface IndicatorItemResult {
  symbol: string;
  interval: Interval;
  indicator: IndicatorName;
  key: string;
  params: Record<string, number>;
  status: ItemStatus;
  /** Rows in the cache file (the interval's full stored series). */
  rows: number;
  /** Registry id, `SYMBOL/interval/key`. */
  id: string;
  /** For `failed`: an error code (`NOT_FOUND`, `STORAGE` ...) and a message for a person. */
  error?: { code: string; message: string };
}

export interface IndicatorBatchSummary {
  items: IndicatorItemResult[];
  updated: number;
  current: number;
  failed: number;
  /** Candle datasets derived (or re-derived) from 1m on the way, `SYMBOL/interval`. */
  derived: string[];
  /** True when the signal fired: `items` lists what was done before. */
  cancelled: boolean;
  seconds: number;
}

export interface IndicatorProgress {
  done: number;
  total: number;
  symbol: string;
  interval: Interval;
  key: string;
  status: ItemStatus;
}

export interface IndicatorJobOptions {
  signal?: AbortSignal;
  onProgress?: (p: IndicatorProgress) => void;
}

/**
 * Validates every choice (unknown names, bad parameters) and removes duplicates by key. Issues
 * carry the index of the choice they belong to, so a protocol layer can point at it.
 */
export function checkIndicators(choices: readonly IndicatorChoice[]): {
  specs: IndicatorSpec[];
  issues: (IndicatorParamIssue & { index: number; indicator: string })[];
} {
  const specs: IndicatorSpec[] = [];
  const issues: (IndicatorParamIssue & { index: number; indicator: string })[] = [];
  const seen = new Set<string>();
  choices.forEach((c, index) => {
    try {
      const name = c.name as IndicatorName;
      const params = parseIndicatorParams(name, (c.params ?? {}) as never) as Record<
        string,
        number
      >;
      const key = paramsKey(name, params as never);
      if (seen.has(key)) return;
      seen.add(key);
      specs.push({ name, params, key });
    } catch (e) {
      if (!(e instanceof IndicatorParamsError)) throw e;
      for (const i of e.issues) issues.push({ ...i, index, indicator: e.indicator });
    }
  });
  return { specs, issues };
}

/** Like `checkIndicators`, throwing an `IndicatorParamsError` for the first bad choice. */
export function resolveIndicators(choices: readonly IndicatorChoice[]): IndicatorSpec[] {
  const { specs, issues } = checkIndicators(choices);
  if (issues.length) {
    const first = issues[0].indicator;
    throw new IndicatorParamsError(
      first,
      issues.filter((i) => i.indicator === first),
    );
  }
  return specs;
}

/**
 * Parses the CLI's `--indicators rsi,macd` and `--params rsi.period=21,bbands.k=2.5` into
 * choices (not yet validated against the engine's schemas: `resolveIndicators` does that).
 */
export function parseIndicatorArgs(names: string, params = ''): IndicatorChoice[] {
  const list = names
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const choices: IndicatorChoice[] = [];
  for (const name of list) {
    if (!isIndicatorName(name))
      throw new IndicatorArgsError(indicatorMessages.unknownIndicator(name));
    if (!choices.some((c) => c.name === name)) choices.push({ name, params: {} });
  }
  const items = params
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const raw of items) {
    const m = /^([a-z]+)\.([a-z]+)=(.*)$/i.exec(raw);
    if (!m) throw new IndicatorArgsError(indicatorMessages.badParamSyntax(raw));
    const [, name, param, value] = m;
    const choice = choices.find((c) => c.name === name.toLowerCase());
    if (!choice) throw new IndicatorArgsError(indicatorMessages.paramForUnlisted(name));
    const x = value.trim() === '' ? NaN : Number(value);
    if (!Number.isFinite(x)) throw new IndicatorArgsError(indicatorMessages.paramNotANumber(raw));
    choice.params = { ...choice.params, [param]: x };
  }
  return choices;
}

/** A malformed `--indicators` / `--params` argument (the message starts "unknown" or "invalid"). */
export class IndicatorArgsError extends ThreadxError {
  override readonly name = 'IndicatorArgsError';
  constructor(message: string) {
    super(
      'INVALID_INDICATOR',
      message,
      'Run "threadx indicators --help" for the names and parameters.',
    );
  }
}

/** The file is there with its registered size (a cheap guard; `verify` checks the bytes). */
async function fileLooksIntact(abs: string, bytes: number): Promise<boolean> {
  try {
    const st = await fsp.stat(abs);
    return st.isFile() && st.size === bytes;
  } catch {
    return false;
  }
}

function errorOf(e: unknown): { code: string; message: string } {
  const err = e as { code?: unknown; name?: unknown; message?: unknown };
  const code =
    typeof err.code === 'string' ? err.code : typeof err.name === 'string' ? err.name : 'ERROR';
  return { code, message: typeof err.message === 'string' ? err.message : String(e) };
}

/**
 * Brings the cached indicators of `symbols x intervals x indicators` up to date. Throws an
 * `IndicatorParamsError` before doing anything when a choice is invalid; any other failure is
 * reported on its items and the batch goes on.
 */
export async function updateIndicators(
  bank: Bank,
  req: IndicatorBatchRequest,
  opts: IndicatorJobOptions = {},
): Promise<IndicatorBatchSummary> {
  const t0 = performance.now();
  const allSpecs = resolveIndicators([
    ...req.indicators,
    ...(req.items ?? []).map((i) => i.indicator),
  ]);
  // The work: one (symbol, interval) group with its indicators, in the order asked.
  const groups = new Map<string, { symbol: string; interval: Interval; specs: IndicatorSpec[] }>();
  const addTo = (symbol: string, interval: Interval, spec: IndicatorSpec): void => {
    const k = `${symbol}/${interval}`;
    const g = groups.get(k) ?? { symbol, interval, specs: [] };
    if (!g.specs.some((x) => x.key === spec.key)) g.specs.push(spec);
    groups.set(k, g);
  };
  if (req.items) {
    for (const it of req.items) {
      const [spec] = resolveIndicators([it.indicator]);
      addTo(parseSymbol(it.symbol), it.interval, spec);
    }
  } else if (req.datasets) {
    for (const d of req.datasets)
      for (const spec of allSpecs) addTo(parseSymbol(d.symbol), d.interval, spec);
  } else {
    for (const symbol of new Set(req.symbols.map((s) => parseSymbol(s))))
      for (const interval of new Set(req.intervals))
        for (const spec of allSpecs) addTo(symbol, interval, spec);
  }
  const total = [...groups.values()].reduce((a, g) => a + g.specs.length, 0);
  const items: IndicatorItemResult[] = [];
  const derived: string[] = [];
  let cancelled = false;

  const push = (item: IndicatorItemResult): void => {
    items.push(item);
    opts.onProgress?.({
      done: items.length,
      total,
      symbol: item.symbol,
      interval: item.interval,
      key: item.key,
      status: item.status,
    });
  };
  const base = (symbol: string, interval: Interval, s: IndicatorSpec) => ({
    symbol,
    interval,
    indicator: s.name,
    key: s.key,
    params: s.params,
    id: `${symbol}/${interval}/${s.key}`,
  });
  let specs: IndicatorSpec[] = [];
  const failAll = (
    symbol: string,
    interval: Interval,
    error: { code: string; message: string },
  ) => {
    for (const s of specs) push({ ...base(symbol, interval, s), status: 'failed', rows: 0, error });
  };

  outer: for (const g of groups.values()) {
    {
      const { symbol, interval } = g;
      specs = g.specs;
      if (opts.signal?.aborted) {
        cancelled = true;
        break outer;
      }
      const m1 = bank.datasetChecksum(symbol, '1m');
      if (m1 === null) {
        failAll(symbol, interval, { code: 'NOT_FOUND', message: indicatorMessages.noData(symbol) });
        continue;
      }
      if (interval !== '1m') {
        const entry = bank.get(symbol, interval);
        if (!entry || entry.rows === 0 || entry.sourceChecksum !== m1) {
          if (req.derive === false) {
            failAll(symbol, interval, {
              code: 'NOT_FOUND',
              message: indicatorMessages.notDerived(symbol, interval),
            });
            continue;
          }
          try {
            await bank.derive(symbol, [interval]);
            derived.push(`${symbol}/${interval}`);
          } catch (e) {
            const err = errorOf(e);
            failAll(symbol, interval, {
              code: err.code,
              message: indicatorMessages.deriveFailed(symbol, interval, err.message),
            });
            continue;
          }
        }
      }
      const source = bank.datasetChecksum(symbol, interval);
      if (source === null) {
        failAll(symbol, interval, { code: 'NOT_FOUND', message: indicatorMessages.noData(symbol) });
        continue;
      }
      let candles: Candles | null = null;
      for (const s of specs) {
        if (opts.signal?.aborted) {
          cancelled = true;
          break outer;
        }
        const b = base(symbol, interval, s);
        try {
          const cached = bank.getIndicator(symbol, interval, s.key);
          if (
            cached?.sourceChecksum === source &&
            cached.files.length === 1 &&
            !damaged(cached.files[0]) &&
            (await fileLooksIntact(bank.layout.abs(cached.files[0].path), cached.files[0].bytes))
          ) {
            push({ ...b, status: 'current', rows: cached.rows });
            continue;
          }
          candles ??= await bank.read(symbol, interval);
          const n = candles.length;
          const outputs = computeIndicator(s.name, s.params as never, {
            close: candles.close.subarray(0, n),
            high: candles.high.subarray(0, n),
            low: candles.low.subarray(0, n),
          }) as unknown as Record<string, Float64Array>;
          const columns: Record<string, Float64Array> = {};
          for (const name of OUTPUT_NAMES[s.name] as readonly string[])
            columns[name] = outputs[name];
          const w = await bank.writeIndicator(
            {
              symbol,
              interval,
              key: s.key,
              name: s.name,
              params: s.params,
              sourceChecksum: source,
            },
            candles.openTime.subarray(0, n),
            columns,
          );
          push({ ...b, status: w.written ? 'updated' : 'current', rows: w.rows });
        } catch (e) {
          push({ ...b, status: 'failed', rows: 0, error: errorOf(e) });
        }
      }
    }
  }
  const count = (st: ItemStatus): number => items.filter((i) => i.status === st).length;
  return {
    items,
    updated: count('updated'),
    current: count('current'),
    failed: count('failed'),
    derived,
    cancelled,
    seconds: Math.round(performance.now() - t0) / 1000,
  };
}

/**
 * Parses `indicators.after_ingest` entries: a name (`rsi`) or a name with parameters
 * (`bbands:period=10,k=1.5`). Bad entries are reported through `warn` and skipped, so a typo in
 * the configuration never fails an ingest.
 */
export function afterIngestChoices(
  entries: readonly string[],
  warn: (message: string) => void = () => undefined,
): IndicatorChoice[] {
  const out: IndicatorChoice[] = [];
  for (const entry of entries) {
    const [name, rest = ''] = entry.split(':', 2);
    const n = name.trim().toLowerCase();
    const params = rest
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => `${n}.${p}`)
      .join(',');
    try {
      const [choice] = parseIndicatorArgs(n, params);
      if (!choice) throw new Error('empty entry');
      resolveIndicators([choice]);
      out.push(choice);
    } catch (e) {
      warn(indicatorMessages.badAfterIngest(entry, (e as Error).message));
    }
  }
  return out;
}

/**
 * After an ingest: refreshes the configured `indicators.after_ingest` for the ingested symbols
 * and intervals. Returns null when nothing is configured.
 */
export async function refreshAfterIngest(
  bank: Bank,
  config: Config,
  symbols: readonly string[],
  intervals: readonly Interval[],
  opts: IndicatorJobOptions & { warn?: (message: string) => void } = {},
): Promise<IndicatorBatchSummary | null> {
  const choices = afterIngestChoices(config.indicators.after_ingest, opts.warn);
  if (choices.length === 0 || symbols.length === 0 || intervals.length === 0) return null;
  return updateIndicators(
    bank,
    { symbols: [...symbols], intervals: [...intervals], indicators: choices },
    opts,
  );
}

/**
 * Recomputes every cached indicator of `symbol` whose candles changed since it was computed (its
 * `sourceChecksum` is no longer the candle dataset's checksum), so caches stay in step with 1m
 * after history is extended or repaired. Returns the number of caches rewritten.
 */
export async function refreshStaleIndicators(
  bank: Bank,
  symbolIn: string,
  opts: IndicatorJobOptions = {},
): Promise<IndicatorBatchSummary | null> {
  const symbol = parseSymbol(symbolIn);
  const stale = bank
    .list()
    .filter(
      (e) =>
        e.kind === 'indicator' &&
        e.symbol === symbol &&
        e.indicator &&
        e.sourceChecksum !== bank.datasetChecksum(symbol, e.interval),
    );
  if (stale.length === 0) return null;
  return updateIndicators(
    bank,
    {
      symbols: [symbol],
      intervals: [],
      indicators: [],
      items: stale.map((e) => ({
        symbol,
        interval: e.interval,
        indicator: { name: e.indicator!.name, params: e.indicator!.params },
      })),
    },
    opts,
  );
}
