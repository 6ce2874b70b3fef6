/**
 * `indicators/read`: indicator values over the candles a chart would be served (same interval
 * choice as `data/read`). When the served interval is stored and the indicator's cache file is
 * current (its source checksum is the dataset's), values come from the cache: computed over the
 * full series, exactly what TA-Lib gives on the whole history. Otherwise they are computed on the
 * fly with enough history before the range for each indicator's lookback (EMA-style warm-up
 * converges well inside the extra bars loaded).
 *
 * `indicators/update`: the batch job (`jobs/indicators.ts`) under the symbols' write locks, with
 * `$/progress` per item and cancellation between items.
 */
import { sliceCandles } from '../../schemas/candles.ts';
import { intervalMs, bucketStart } from '../../schemas/intervals.ts';
import type { ParamIssue, ParsedParams, Result } from '../../schemas/protocol.ts';
import {
  type IndicatorName,
  IndicatorParamsError,
  computeIndicator,
  lookback,
  paramsKey,
  parseIndicatorParams,
} from '../engine/indicators.ts';
import type { Interval } from '../../schemas/intervals.ts';
import type { Bank } from '../store/bank.ts';
import type { ColumnsFile } from '../store/parquet.ts';
import { checkIndicators, indicatorMessages, updateIndicators } from '../jobs/indicators.ts';
import { errorFromReport, invalidParams } from '../../schemas/errors.ts';
import { loadPlan, planRead } from './read.ts';
import type { JobContext, Services } from './services.ts';

/** Extra bars loaded beyond the lookback, so EMA-based values have converged at the range start. */
const WARMUP_FACTOR = 4;

type Series = Result<'indicators/read'>['series'][number];

export async function readIndicators(
  bank: Bank,
  symbols: string[],
  p: ParsedParams<'indicators/read'>,
): Promise<Series[]> {
  // Validate every indicator's params first, so a bad one fails the request with its path.
  const issues: ParamIssue[] = [];
  const specs = p.indicators.map((spec, i) => {
    try {
      const params = parseIndicatorParams(spec.name, spec.params as never) as Record<
        string,
        number
      >;
      return {
        name: spec.name as IndicatorName,
        params,
        key: paramsKey(spec.name, params as never),
        lookback: lookback(spec.name, params as never),
      };
    } catch (e) {
      if (!(e instanceof IndicatorParamsError)) throw e;
      for (const x of e.issues) {
        issues.push({
          path: ['indicators', i, 'params', ...(x.param ? x.param.split('.') : [])],
          message: x.message,
        });
      }
      return null;
    }
  });
  if (issues.length) throw invalidParams('indicators/read', issues);
  const valid = specs.filter((s) => s !== null);
  const warm = Math.max(0, ...valid.map((s) => s.lookback)) * WARMUP_FACTOR + 1;

  const out: Series[] = [];
  for (const symbol of symbols) {
    for (const requested of p.intervals) {
      const plan = planRead(bank, symbol, requested, p.start, p.end, p.maxPoints, p.exact);
      const from = bucketStart(plan.start, plan.interval);
      const before = Math.max(-8.64e15, from - warm * intervalMs(plan.interval));
      const c = await loadPlan(bank, { ...plan, start: before, truncate: false }, p.maxPoints);
      let first = 0;
      while (first < c.length && c.openTime[first] < from) first++;
      const last = c.length;
      if (plan.truncate && last - first > p.maxPoints) first = last - p.maxPoints;
      const view = sliceCandles(c, first, last);
      out.push({
        symbol,
        requestedInterval: requested,
        interval: plan.interval,
        openTime: Array.from(view.openTime),
        indicators: await mapAsync(valid, async (s) => {
          const cached = await cachedColumns(bank, symbol, plan.interval, plan.stored, s.key);
          const at = cached ? alignedStart(cached, view.openTime, view.length) : -1;
          if (cached && at >= 0) {
            const cols: Record<string, (number | null)[]> = {};
            for (const [k, v] of Object.entries(cached.columns)) {
              cols[k] = Array.from(v.subarray(at, at + view.length), (x) =>
                Number.isNaN(x) ? null : x,
              );
            }
            return { name: s.name, key: s.key, params: s.params, outputs: cols };
          }
          const outputs = computeIndicator(s.name, s.params as never, {
            close: c.close.subarray(0, c.length),
            high: c.high.subarray(0, c.length),
            low: c.low.subarray(0, c.length),
          }) as unknown as Record<string, Float64Array>;
          const cols: Record<string, (number | null)[]> = {};
          for (const [k, v] of Object.entries(outputs)) {
            cols[k] = Array.from(v.subarray(first, last), (x) => (Number.isNaN(x) ? null : x));
          }
          return { name: s.name, key: s.key, params: s.params, outputs: cols };
        }),
      });
    }
  }
  return out;
}

async function mapAsync<T, U>(xs: readonly T[], fn: (x: T) => Promise<U>): Promise<U[]> {
  const out: U[] = [];
  for (const x of xs) out.push(await fn(x));
  return out;
}

/**
 * Decoded cache files by checksum, most recently used last, bounded in rows: a chart reads the
 * same indicators again on every pan and refresh. A checksum names exact bytes, so an entry is
 * never stale.
 */
const decoded = new Map<string, ColumnsFile>();
const DECODED_MAX_ROWS = 4_000_000;
let decodedRows = 0;

/** The cache file of an indicator when it is current for the stored interval, else null. */
async function cachedColumns(
  bank: Bank,
  symbol: string,
  interval: Interval,
  stored: boolean,
  key: string,
): Promise<ColumnsFile | null> {
  if (!stored) return null;
  const entry = bank.getIndicator(symbol, interval, key);
  const file = entry?.files[0];
  if (!entry || !file || entry.sourceChecksum !== bank.datasetChecksum(symbol, interval)) {
    return null;
  }
  const hit = decoded.get(file.sha256);
  if (hit) {
    decoded.delete(file.sha256);
    decoded.set(file.sha256, hit);
    return hit;
  }
  let cols: ColumnsFile;
  try {
    cols = await bank.readIndicator(symbol, interval, key);
  } catch {
    // An unreadable cache file is verify's business; the chart falls back to computing.
    return null;
  }
  decoded.set(file.sha256, cols);
  decodedRows += cols.timestamp.length;
  for (const [k, v] of decoded) {
    if (decodedRows <= DECODED_MAX_ROWS || k === file.sha256) break;
    decoded.delete(k);
    decodedRows -= v.timestamp.length;
  }
  return cols;
}

/** Index in the cache of the view's first open time, when both ends line up; else -1. */
function alignedStart(cached: ColumnsFile, openTime: Float64Array, n: number): number {
  const ts = cached.timestamp;
  if (n === 0) return 0;
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] < openTime[0]) lo = mid + 1;
    else hi = mid;
  }
  if (lo + n > ts.length || ts[lo] !== openTime[0] || ts[lo + n - 1] !== openTime[n - 1]) return -1;
  return lo;
}

type UpdateItem = Result<'indicators/update'>['items'][number];

/** `indicators/update` for the selected symbols, under their write locks. */
export async function updateIndicatorsRequest(
  svc: Services,
  symbols: string[],
  p: ParsedParams<'indicators/update'>,
  ctx: JobContext,
): Promise<Result<'indicators/update'>> {
  const { specs, issues } = checkIndicators(p.indicators);
  if (issues.length) {
    throw invalidParams(
      'indicators/update',
      issues.map((i) => ({
        path: ['indicators', i.index, 'params', ...(i.param ? i.param.split('.') : [])],
        message: i.message,
      })),
    );
  }
  ctx.progress.begin(
    'Update indicators',
    `${symbols.length} symbol(s) x ${p.intervals.length} interval(s) x ${specs.length} indicator(s)`,
  );
  return svc.writing(symbols, 'indicators', ctx, async () => {
    const summary = await updateIndicators(
      svc.state.bank,
      {
        symbols,
        intervals: p.intervals,
        indicators: p.indicators,
        ...(p.datasets ? { datasets: p.datasets } : {}),
      },
      {
        signal: ctx.signal,
        onProgress: (e) => {
          ctx.progress.report(e.done, e.total, `${e.symbol} ${e.interval} ${e.key}: ${e.status}`);
          if (e.status === 'updated') svc.maybeFlush('indicators');
        },
      },
    );
    ctx.signal.throwIfAborted();
    const message = indicatorMessages.updated(summary.updated);
    svc.state.logger.info(
      `indicators/update: ${message}; ${indicatorMessages.counts(summary.current, summary.failed, summary.seconds)}`,
    );
    ctx.progress.end(message);
    const items: UpdateItem[] = summary.items.map((i) => {
      let error: UpdateItem['error'] = null;
      if (i.error) {
        const e = errorFromReport(i.error.code, i.error.message);
        error = { code: e.kind.rpc, reason: i.error.code, message: i.error.message };
      }
      return {
        symbol: i.symbol,
        interval: i.interval,
        indicator: i.indicator,
        key: i.key,
        rows: i.rows,
        written: i.status === 'updated',
        error,
      };
    });
    return { items };
  });
}

export {
  type IndicatorBatchSummary,
  indicatorMessages,
  parseIndicatorArgs,
  refreshAfterIngest,
  resolveIndicators,
  updateIndicators,
} from '../jobs/indicators.ts';
export { INDICATOR_NAMES } from '../engine/indicators.ts';
