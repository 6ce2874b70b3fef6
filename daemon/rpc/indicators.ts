/**
 * `indicators/read`: indicator values computed on the fly by the engine over the candles a chart
 * would be served (same interval choice as `data/read`), with enough history before the range for
 * each indicator's lookback, so the first value in range is the value TA-Lib gives on the whole
 * series (up to EMA-style warm-up, which converges well inside the extra bars loaded).
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
import type { Bank } from '../store/bank.ts';
import type { RpcError } from './errors.ts';
import { loadPlan, planRead } from './read.ts';

/** Extra bars loaded beyond the lookback, so EMA-based values have converged at the range start. */
const WARMUP_FACTOR = 4;

type Series = Result<'indicators/read'>['series'][number];

export async function readIndicators(
  bank: Bank,
  symbols: string[],
  p: ParsedParams<'indicators/read'>,
  invalid: (method: string, issues: ParamIssue[]) => RpcError,
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
  if (issues.length) throw invalid('indicators/read', issues);
  const valid = specs.filter((s) => s !== null);
  const warm = Math.max(0, ...valid.map((s) => s.lookback)) * WARMUP_FACTOR + 1;

  const out: Series[] = [];
  for (const symbol of symbols) {
    for (const requested of p.intervals) {
      const plan = planRead(bank, symbol, requested, p.start, p.end, p.maxPoints);
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
        indicators: valid.map((s) => {
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
