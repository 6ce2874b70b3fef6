/**
 * Technical indicators over columnar float64 series, matching TA-Lib's default mode (see
 * docs/indicators.md): the same definitions, the same first defined index ("lookback"), and in
 * most cases the same floating-point operations in the same order, so results agree bit for bit
 * or to the last few ulps.
 *
 * Every function is pure: no I/O, no clock, no allocation per row. Outputs are Float64Arrays of
 * the input's length holding NaN before the indicator's lookback. Callers that compute many
 * series may pass their own output buffers, which are overwritten entirely.
 *
 * Inputs are expected to be finite (the store validates candles before anything reaches here).
 * As in TA-Lib, a NaN in the input poisons every later value of the running-sum indicators.
 */
import { ThreadxError } from '../../schemas/errors.ts';
import { z } from 'zod';

export { INDICATOR_NAMES, type IndicatorName } from '../../schemas/contracts.ts';
import {
  INDICATOR_DEFAULTS as D,
  INDICATOR_NAMES,
  type IndicatorName,
} from '../../schemas/contracts.ts';

/** Largest accepted period; TA-Lib accepts up to 100000 but nothing sensible needs that. */
export const MAX_PERIOD = 10_000;

// ---------------------------------------------------------------------------------------------
// Parameters: one zod schema per indicator, with defaults and messages that name the parameter.
// ---------------------------------------------------------------------------------------------

function period(name: string, fallback: number) {
  return z
    .number({ error: `${name} must be a number` })
    .int({ error: `${name} must be an integer` })
    .min(1, { error: `${name} must be at least 1` })
    .max(MAX_PERIOD, { error: `${name} must be at most ${MAX_PERIOD}` })
    .default(fallback);
}

function strictParams<S extends z.ZodRawShape>(indicator: string, shape: S) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown ${indicator} parameter ${issue.keys.map((k) => `'${k}'`).join(', ')} (expected ${allowed})`
        : issue.code === 'invalid_type'
          ? `${indicator} parameters must be an object`
          : undefined,
  });
}

export const indicatorParamsSchemas = {
  sma: strictParams('sma', { period: period('period', D.sma.period) }),
  ema: strictParams('ema', { period: period('period', D.ema.period) }),
  rsi: strictParams('rsi', { period: period('period', D.rsi.period) }),
  macd: strictParams('macd', {
    fast: period('fast', D.macd.fast),
    slow: period('slow', D.macd.slow),
    signal: period('signal', D.macd.signal),
  }).superRefine((p, ctx) => {
    if (p.fast >= p.slow) {
      ctx.addIssue({
        code: 'custom',
        path: ['fast'],
        message: `fast (${p.fast}) must be less than slow (${p.slow})`,
      });
    }
  }),
  bbands: strictParams('bbands', {
    period: period('period', D.bbands.period),
    k: z
      .number({ error: 'k must be a number' })
      .gt(0, { error: 'k must be greater than 0' })
      .refine(Number.isFinite, { error: 'k must be finite' })
      .default(D.bbands.k),
  }),
  atr: strictParams('atr', { period: period('period', D.atr.period) }),
} as const;

/** Parameters after validation, defaults filled in. */
export type IndicatorParams = {
  [N in IndicatorName]: z.output<(typeof indicatorParamsSchemas)[N]>;
};
/** Parameters as a caller may write them: every field optional. */
export type IndicatorParamsInput = {
  [N in IndicatorName]: z.input<(typeof indicatorParamsSchemas)[N]>;
};

export const DEFAULT_PARAMS: { readonly [N in IndicatorName]: Readonly<IndicatorParams[N]> } = D;

/** `{ name, params }` as it travels over the protocol; params default per indicator. */
export const indicatorSpecSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('sma'), params: indicatorParamsSchemas.sma.prefault({}) }),
  z.object({ name: z.literal('ema'), params: indicatorParamsSchemas.ema.prefault({}) }),
  z.object({ name: z.literal('rsi'), params: indicatorParamsSchemas.rsi.prefault({}) }),
  z.object({ name: z.literal('macd'), params: indicatorParamsSchemas.macd.prefault({}) }),
  z.object({ name: z.literal('bbands'), params: indicatorParamsSchemas.bbands.prefault({}) }),
  z.object({ name: z.literal('atr'), params: indicatorParamsSchemas.atr.prefault({}) }),
]);
export type IndicatorSpec = z.output<typeof indicatorSpecSchema>;

export interface IndicatorParamIssue {
  /** The offending parameter, or '' when the problem is the whole object. */
  param: string;
  message: string;
}

/** Invalid indicator name or parameters; `issues` lists every problem, each naming its parameter. */
export class IndicatorParamsError extends ThreadxError {
  override readonly name = 'IndicatorParamsError';
  constructor(
    readonly indicator: string,
    readonly issues: readonly IndicatorParamIssue[],
  ) {
    super(
      'INVALID_INDICATOR',
      `invalid ${indicator} parameters: ${issues.map((i) => i.message).join('; ')}`,
      undefined,
      {
        indicator,
        issues: issues.map((i) => ({
          path: ['indicators', indicator, ...(i.param ? i.param.split('.') : [])],
          message: i.message,
        })),
      },
    );
  }
}

export function isIndicatorName(name: unknown): name is IndicatorName {
  return typeof name === 'string' && (INDICATOR_NAMES as readonly string[]).includes(name);
}

/** Validates `params` for `name` and fills in defaults; throws IndicatorParamsError. */
export function parseIndicatorParams<N extends IndicatorName>(
  name: N,
  params?: IndicatorParamsInput[N] | null,
): IndicatorParams[N] {
  if (!isIndicatorName(name)) {
    throw new IndicatorParamsError(String(name), [
      {
        param: 'name',
        message: `unknown indicator '${String(name)}' (expected one of ${INDICATOR_NAMES.join(', ')})`,
      },
    ]);
  }
  const schema = indicatorParamsSchemas[name] as unknown as z.ZodType<IndicatorParams[N]>;
  const result = schema.safeParse(params ?? {});
  if (result.success) return result.data;
  throw new IndicatorParamsError(
    name,
    result.error.issues.map((i) => ({ param: i.path.map(String).join('.'), message: i.message })),
  );
}

/**
 * Index of the first defined output for a series starting at index 0 (TA-Lib's lookback): every
 * output before it is NaN.
 */
export function lookback<N extends IndicatorName>(
  name: N,
  params?: IndicatorParamsInput[N] | null,
): number {
  const p = parseIndicatorParams(name, params) as IndicatorParams[IndicatorName];
  switch (name) {
    case 'sma':
    case 'ema':
    case 'bbands':
      return (p as { period: number }).period - 1;
    case 'rsi':
    case 'atr':
      return (p as { period: number }).period;
    case 'macd': {
      const m = p as IndicatorParams['macd'];
      return m.slow - 1 + (m.signal - 1);
    }
  }
  throw new Error(`unreachable: ${String(name)}`);
}

/** Formats a number for a file name: shortest round-trip form, without '+' or '-' in exponents. */
function keyNumber(x: number): string {
  return String(x).replace('e-', 'em').replace('e+', 'e');
}

/**
 * A stable, file-name-safe key for an indicator and its (defaulted) parameters, in a fixed
 * parameter order: `sma-20`, `rsi-14`, `macd-12-26-9`, `bbands-20-2`, `bbands-10-1.5`.
 */
export function paramsKey<N extends IndicatorName>(
  name: N,
  params?: IndicatorParamsInput[N] | null,
): string {
  const p = parseIndicatorParams(name, params) as Record<string, number>;
  const order: Record<IndicatorName, readonly string[]> = {
    sma: ['period'],
    ema: ['period'],
    rsi: ['period'],
    macd: ['fast', 'slow', 'signal'],
    bbands: ['period', 'k'],
    atr: ['period'],
  };
  return [name, ...order[name].map((k) => keyNumber(p[k]))].join('-');
}

// ---------------------------------------------------------------------------------------------
// Output buffers.
// ---------------------------------------------------------------------------------------------

export interface IndicatorOutputs {
  sma: { sma: Float64Array };
  ema: { ema: Float64Array };
  rsi: { rsi: Float64Array };
  macd: { macd: Float64Array; signal: Float64Array; hist: Float64Array };
  bbands: { middle: Float64Array; upper: Float64Array; lower: Float64Array };
  atr: { atr: Float64Array };
}

/** Output column names per indicator, in a stable order. */
export const OUTPUT_NAMES: {
  readonly [N in IndicatorName]: readonly (keyof IndicatorOutputs[N])[];
} = {
  sma: ['sma'],
  ema: ['ema'],
  rsi: ['rsi'],
  macd: ['macd', 'signal', 'hist'],
  bbands: ['middle', 'upper', 'lower'],
  atr: ['atr'],
};

function overlaps(a: Float64Array, b: Float64Array): boolean {
  return (
    a.buffer === b.buffer &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  );
}

/**
 * Returns `out` checked for length and aliasing, or a new buffer. In-place computation is not
 * supported: the running windows read inputs behind the write position.
 */
function outputBuffer(
  out: Float64Array | undefined,
  n: number,
  what: string,
  inputs: readonly Float64Array[],
): Float64Array {
  if (out === undefined) return new Float64Array(n);
  if (out.length !== n) {
    throw new RangeError(`${what} output buffer has length ${out.length}, expected ${n}`);
  }
  for (const input of inputs) {
    if (overlaps(out, input)) throw new RangeError(`${what} output buffer overlaps an input`);
  }
  return out;
}

function checkPeriod(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1 || value > MAX_PERIOD) {
    throw new RangeError(`${what} must be an integer between 1 and ${MAX_PERIOD}, got ${value}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Indicators. The loops mirror TA-Lib's C (ta_SMA.c, ta_EMA.c, ...) operation for operation so
// that rounding matches, except where noted (Bollinger sigma, zero tests).
// ---------------------------------------------------------------------------------------------

/** Simple moving average: mean of the last `period` values; first defined at period-1. */
export function sma(values: Float64Array, period: number, out?: Float64Array): Float64Array {
  checkPeriod(period, 'sma period');
  const n = values.length;
  const o = outputBuffer(out, n, 'sma', [values]);
  const lb = period - 1;
  if (n <= lb) return o.fill(NaN);
  o.fill(NaN, 0, lb);
  // TA-Lib keeps one running sum (add the new value, read, subtract the trailing one).
  let sum = 0;
  for (let i = 0; i < lb; i++) sum += values[i];
  for (let i = lb, t = 0; i < n; i++, t++) {
    sum += values[i];
    const total = sum;
    sum -= values[t];
    o[i] = total / period;
  }
  return o;
}

/**
 * Exponential moving average with k = 2/(period+1), seeded with the SMA of the first `period`
 * values; first defined at period-1.
 */
export function ema(values: Float64Array, period: number, out?: Float64Array): Float64Array {
  checkPeriod(period, 'ema period');
  const n = values.length;
  const o = outputBuffer(out, n, 'ema', [values]);
  const lb = period - 1;
  if (n <= lb) return o.fill(NaN);
  o.fill(NaN, 0, lb);
  const k = 2 / (period + 1);
  let sum = 0;
  for (let i = 0; i < period; i++) sum += values[i];
  let prev = sum / period;
  o[lb] = prev;
  for (let i = period; i < n; i++) {
    prev = (values[i] - prev) * k + prev;
    o[i] = prev;
  }
  return o;
}

/**
 * Wilder's RSI: average gain and loss seeded with the mean of the first `period` changes, then
 * smoothed as (prev*(period-1)+x)/period; RSI = 100*gain/(gain+loss), 0 when gain+loss is 0.
 * First defined at `period`.
 *
 * TA-Lib tests gain+loss against an epsilon of 1e-14 instead of 0; the two agree for any real
 * price scale, and the exact test keeps RSI scale-invariant for sub-cent assets.
 */
export function rsi(values: Float64Array, period: number, out?: Float64Array): Float64Array {
  checkPeriod(period, 'rsi period');
  const n = values.length;
  const o = outputBuffer(out, n, 'rsi', [values]);
  const lb = period;
  if (n <= lb) return o.fill(NaN);
  o.fill(NaN, 0, lb);
  let gain = 0;
  let loss = 0;
  let prev = values[0];
  for (let i = 1; i <= period; i++) {
    const x = values[i];
    const d = x - prev;
    prev = x;
    if (d < 0) loss -= d;
    else gain += d;
  }
  loss /= period;
  gain /= period;
  let total = gain + loss;
  o[lb] = total !== 0 ? 100 * (gain / total) : 0;
  const m = period - 1;
  for (let i = lb + 1; i < n; i++) {
    const x = values[i];
    const d = x - prev;
    prev = x;
    loss *= m;
    gain *= m;
    if (d < 0) loss -= d;
    else gain += d;
    loss /= period;
    gain /= period;
    total = gain + loss;
    o[i] = total !== 0 ? 100 * (gain / total) : 0;
  }
  return o;
}

/**
 * MACD: EMA(fast) - EMA(slow), with both EMAs seeded on windows ending on bar slow-1 (so the fast
 * one is seeded on bars slow-fast..slow-1, as TA-Lib does); signal = EMA(signal) of the MACD
 * line seeded with the SMA of its first `signal` values; hist = macd - signal. All three are
 * first defined at (slow-1)+(signal-1), 33 for 12/26/9.
 */
export function macd(
  values: Float64Array,
  fast: number,
  slow: number,
  signal: number,
  out?: Partial<IndicatorOutputs['macd']>,
): IndicatorOutputs['macd'] {
  checkPeriod(fast, 'macd fast');
  checkPeriod(slow, 'macd slow');
  checkPeriod(signal, 'macd signal');
  if (fast >= slow) throw new RangeError(`macd fast (${fast}) must be less than slow (${slow})`);
  const n = values.length;
  const om = outputBuffer(out?.macd, n, 'macd', [values]);
  const os = outputBuffer(out?.signal, n, 'macd signal', [values, om]);
  const oh = outputBuffer(out?.hist, n, 'macd hist', [values, om, os]);
  const start = slow - 1;
  const lb = start + signal - 1;
  if (n <= lb) {
    om.fill(NaN);
    os.fill(NaN);
    oh.fill(NaN);
    return { macd: om, signal: os, hist: oh };
  }
  om.fill(NaN, 0, lb);
  os.fill(NaN, 0, lb);
  oh.fill(NaN, 0, lb);
  const kSlow = 2 / (slow + 1);
  const kFast = 2 / (fast + 1);
  const kSignal = 2 / (signal + 1);
  let sumSlow = 0;
  for (let i = 0; i < slow; i++) sumSlow += values[i];
  let sumFast = 0;
  for (let i = slow - fast; i < slow; i++) sumFast += values[i];
  let emaSlow = sumSlow / slow;
  let emaFast = sumFast / fast;
  // The MACD line before `lb` only feeds the signal's seed.
  let sumSignal = emaFast - emaSlow;
  for (let i = slow; i <= lb; i++) {
    const x = values[i];
    emaSlow = (x - emaSlow) * kSlow + emaSlow;
    emaFast = (x - emaFast) * kFast + emaFast;
    sumSignal += emaFast - emaSlow;
  }
  let line = emaFast - emaSlow;
  let sig = sumSignal / signal;
  om[lb] = line;
  os[lb] = sig;
  oh[lb] = line - sig;
  for (let i = lb + 1; i < n; i++) {
    const x = values[i];
    emaSlow = (x - emaSlow) * kSlow + emaSlow;
    emaFast = (x - emaFast) * kFast + emaFast;
    line = emaFast - emaSlow;
    sig = (line - sig) * kSignal + sig;
    om[i] = line;
    os[i] = sig;
    oh[i] = line - sig;
  }
  return { macd: om, signal: os, hist: oh };
}

/**
 * Bollinger bands: middle = SMA(period) (TA-Lib's running sum, bit-identical), upper/lower =
 * middle +- k*sigma with sigma the population standard deviation (divide by period). First
 * defined at period-1.
 *
 * TA-Lib computes sigma as sqrt(E[x^2] - mean^2) from running sums of squares, which loses about
 * log10(mean^2/variance) digits: at 1e5 a flat window comes out with a sigma of ~1e-3 instead of
 * 0. Here the sum of squared deviations M2 is rolled with Welford's window update
 * M2 += (xn - xo)(xn - meanNew + xo - meanOld), whose rounding scales with the deviations rather
 * than the price. The update is exact only for exact means, and a running sum's mean drifts, so
 * a running bound on the accumulated rounding (drift included) decides when to recompute M2 and
 * the sum from the window (a corrected two-pass sum): whenever the bound could move sigma by more
 * than max(1e-9 sigma, 8 ulps of the price). Volatile data recomputes every few hundred rows at
 * a cost of ~2 period operations; a window going flat recomputes until it is flat, after which
 * sigma is exactly 0 and stays so.
 */
export function bbands(
  values: Float64Array,
  period: number,
  k: number,
  out?: Partial<IndicatorOutputs['bbands']>,
): IndicatorOutputs['bbands'] {
  checkPeriod(period, 'bbands period');
  if (!(k > 0) || !Number.isFinite(k)) {
    throw new RangeError(`bbands k must be a finite number greater than 0, got ${k}`);
  }
  const n = values.length;
  const om = outputBuffer(out?.middle, n, 'bbands middle', [values]);
  const ou = outputBuffer(out?.upper, n, 'bbands upper', [values, om]);
  const ol = outputBuffer(out?.lower, n, 'bbands lower', [values, om, ou]);
  const lb = period - 1;
  if (n <= lb) {
    om.fill(NaN);
    ou.fill(NaN);
    ol.fill(NaN);
    return { middle: om, upper: ou, lower: ol };
  }
  om.fill(NaN, 0, lb);
  ou.fill(NaN, 0, lb);
  ol.fill(NaN, 0, lb);
  const eps = Number.EPSILON;
  const inv = 1 / period;
  let sum = 0; // TA-Lib's running sum, for the middle band
  for (let i = 0; i < lb; i++) sum += values[i];
  sum += values[lb];
  om[lb] = sum / period;
  sum -= values[0];
  // State of the variance: its own running sum `vs` (reset at each recompute, unlike TA-Lib's),
  // a bound `drift` on the error of vs (an ulp of rounding per step, plus the initial ulp), M2,
  // and a bound `err` on M2's accumulated rounding.
  const ulp2 = 2 * eps;
  const floor = 8 * eps; // sigma may be off by 8 ulps of the price...
  const rel = 1e-9; // ...or by 1e-9 of itself, whichever is larger
  let m2 = windowM2(values, 0, lb, period);
  let vs = windowSum;
  let drift = ulp2 * Math.abs(vs);
  let err = (period + 2) * eps * m2;
  let mean = vs * inv;
  let sigma = Math.sqrt(m2 * inv);
  ou[lb] = om[lb] + sigma * k;
  ol[lb] = om[lb] - sigma * k;
  for (let i = lb + 1, t = 1; i < n; i++, t++) {
    const x = values[i];
    const xo = values[t - 1];
    sum += x;
    const middle = sum / period;
    sum -= values[t];
    vs = vs - xo + x;
    drift += ulp2 * Math.abs(vs);
    const meanPrev = mean;
    mean = vs * inv;
    const d = x - xo;
    const a = x - mean;
    const b = xo - meanPrev;
    m2 += d * (a + b);
    // The update is exact only for exact means; theirs are off by at most drift/period.
    err +=
      Math.abs(d) * (ulp2 * (Math.abs(a) + Math.abs(b)) + 2 * drift * inv) + ulp2 * Math.abs(m2);
    sigma = m2 > 0 ? Math.sqrt(m2 * inv) : 0;
    const t1 = rel * sigma;
    const t2 = floor * Math.abs(mean);
    const tol = t1 > t2 ? t1 : t2;
    if (err > period * tol * (sigma + sigma + tol)) {
      m2 = windowM2(values, t, i, period);
      vs = windowSum;
      drift = ulp2 * Math.abs(vs);
      err = (period + 2) * eps * m2;
      mean = vs * inv;
      sigma = Math.sqrt(m2 * inv);
    }
    const band = sigma * k;
    om[i] = middle;
    ou[i] = middle + band;
    ol[i] = middle - band;
  }
  return { middle: om, upper: ou, lower: ol };
}

/** The window sum computed by the last windowM2 call (a second return value, without allocating). */
let windowSum = 0;

/**
 * M2 = sum((x - mean)^2) of values[from..to] by the corrected two-pass formula
 * sum(d^2) - (sum d)^2/n, which stays accurate when the mean itself is slightly off.
 */
function windowM2(values: Float64Array, from: number, to: number, period: number): number {
  let s = 0;
  for (let j = from; j <= to; j++) s += values[j];
  const mean = s / period;
  let sd = 0;
  let sd2 = 0;
  for (let j = from; j <= to; j++) {
    const d = values[j] - mean;
    sd += d;
    sd2 += d * d;
  }
  windowSum = s;
  const m2 = sd2 - (sd * sd) / period;
  return m2 > 0 ? m2 : 0;
}

/**
 * Average true range (Wilder): TR = max(H-L, |H-Cprev|, |L-Cprev|) from bar 1, seeded with the
 * mean of TR[1..period], then (prev*(period-1)+TR)/period. First defined at `period`.
 */
export function atr(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period: number,
  out?: Float64Array,
): Float64Array {
  checkPeriod(period, 'atr period');
  const n = close.length;
  if (high.length !== n || low.length !== n) {
    throw new RangeError(
      `atr needs high, low and close of equal length, got ${high.length}, ${low.length}, ${n}`,
    );
  }
  const o = outputBuffer(out, n, 'atr', [high, low, close]);
  const lb = period;
  if (n <= lb) return o.fill(NaN);
  o.fill(NaN, 0, lb);
  let sum = 0;
  for (let i = 1; i <= period; i++) sum += trueRange(high[i], low[i], close[i - 1]);
  let prev = sum / period;
  o[lb] = prev;
  const m = period - 1;
  for (let i = lb + 1; i < n; i++) {
    const cy = close[i - 1];
    const h = high[i];
    const l = low[i];
    let tr = h - l;
    const a = Math.abs(cy - h);
    if (a > tr) tr = a;
    const b = Math.abs(cy - l);
    if (b > tr) tr = b;
    prev = (prev * m + tr) / period;
    o[i] = prev;
  }
  return o;
}

function trueRange(h: number, l: number, cy: number): number {
  let tr = h - l;
  const a = Math.abs(cy - h);
  if (a > tr) tr = a;
  const b = Math.abs(cy - l);
  if (b > tr) tr = b;
  return tr;
}

// ---------------------------------------------------------------------------------------------
// Generic entry point.
// ---------------------------------------------------------------------------------------------

export interface IndicatorSeries {
  close: Float64Array;
  /** Required by ATR only. */
  high?: Float64Array;
  /** Required by ATR only. */
  low?: Float64Array;
}

/**
 * Computes `name` with validated, defaulted `params` over `series`, writing into `outputs` where
 * given (each of the input's length). Returns the named output arrays, e.g. `{ rsi }` or
 * `{ macd, signal, hist }`. Throws IndicatorParamsError for bad parameters and RangeError for
 * mismatched buffers.
 */
export function computeIndicator<N extends IndicatorName>(
  name: N,
  params: IndicatorParamsInput[N] | null | undefined,
  series: IndicatorSeries,
  outputs?: Partial<IndicatorOutputs[N]>,
): IndicatorOutputs[N] {
  const p = parseIndicatorParams(name, params) as IndicatorParams[IndicatorName];
  const o = (outputs ?? {}) as Partial<Record<string, Float64Array>>;
  const { close } = series;
  let result: IndicatorOutputs[IndicatorName];
  switch (name) {
    case 'sma':
      result = { sma: sma(close, (p as IndicatorParams['sma']).period, o.sma) };
      break;
    case 'ema':
      result = { ema: ema(close, (p as IndicatorParams['ema']).period, o.ema) };
      break;
    case 'rsi':
      result = { rsi: rsi(close, (p as IndicatorParams['rsi']).period, o.rsi) };
      break;
    case 'macd': {
      const m = p as IndicatorParams['macd'];
      result = macd(close, m.fast, m.slow, m.signal, o);
      break;
    }
    case 'bbands': {
      const b = p as IndicatorParams['bbands'];
      result = bbands(close, b.period, b.k, o);
      break;
    }
    case 'atr': {
      const { high, low } = series;
      if (high === undefined || low === undefined) {
        throw new RangeError('atr needs high and low series as well as close');
      }
      result = { atr: atr(high, low, close, (p as IndicatorParams['atr']).period, o.atr) };
      break;
    }
    default:
      throw new Error(`unreachable: ${String(name)}`);
  }
  return result as IndicatorOutputs[N];
}
