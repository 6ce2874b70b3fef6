import { type Candles, FLOAT_COLUMNS, STORED_NAMES } from '../../schemas/candles.ts';
import { type Interval, BUCKET_RULES, bucketStart } from '../../schemas/intervals.ts';
import type { PriceSign } from '../../schemas/markets.ts';

const PRICE_COLUMNS: ReadonlySet<string> = new Set(['open', 'high', 'low', 'close']);

/**
 * The UDFI data contract, checked on a columnar series:
 * - index: UTC open times in ms, aligned to the interval, strictly increasing and unique;
 * - type: every price/volume column float64 (guaranteed by Float64Array) and finite: no NaN or
 *   Infinity;
 * - value: high >= max(open, close), low <= min(open, close), volumes and trades >= 0, prices > 0;
 *   a series of signed prices (`prices: 'signed'`: the premium index, a spread around zero) may
 *   have zero or negative prices, every other rule unchanged.
 */
export type ViolationKind = 'column' | 'type' | 'index' | 'order' | 'value';

export interface Violation {
  kind: ViolationKind;
  column: string;
  /** Row number (0-based), or -1 for a whole-column problem. */
  row: number;
  value: number | string | null;
  message: string;
}

export interface ValidationReport {
  ok: boolean;
  rows: number;
  /** Total number of violations found, of which the first `limit` are listed. */
  total: number;
  byKind: Record<ViolationKind, number>;
  violations: Violation[];
}

export interface ValidateOptions {
  /** How many violations are listed (all are counted). */
  limit?: number;
  /** `signed`: prices may be zero or negative (see `pricesOf` in schemas/markets.ts). */
  prices?: PriceSign;
}

export function validateCandles(
  c: Candles,
  interval: Interval,
  { limit = 20, prices = 'positive' }: ValidateOptions = {},
): ValidationReport {
  const signed = prices === 'signed';
  const report: ValidationReport = {
    ok: true,
    rows: c.length,
    total: 0,
    byKind: { column: 0, type: 0, index: 0, order: 0, value: 0 },
    violations: [],
  };
  const add = (v: Violation): void => {
    report.total++;
    report.byKind[v.kind]++;
    if (report.violations.length < limit) report.violations.push(v);
  };
  for (const col of ['openTime', ...FLOAT_COLUMNS] as const) {
    if (!(c[col] instanceof Float64Array)) {
      add({
        kind: 'column',
        column: STORED_NAMES[col],
        row: -1,
        value: null,
        message: `column ${STORED_NAMES[col]} is not float64`,
      });
    } else if (c[col].length < c.length) {
      add({
        kind: 'column',
        column: STORED_NAMES[col],
        row: -1,
        value: c[col].length,
        message: `column ${STORED_NAMES[col]} has ${c[col].length} values for ${c.length} rows`,
      });
    }
  }
  if (report.total > 0) {
    report.ok = false;
    return report;
  }
  const rule = BUCKET_RULES[interval];
  if (rule.kind === 'fixed' && allValid(c, rule.ms, rule.origin, signed)) return report;
  const { openTime, open, high, low, close } = c;
  for (let i = 0; i < c.length; i++) {
    const t = openTime[i];
    if (!Number.isFinite(t) || !Number.isInteger(t)) {
      add({
        kind: 'index',
        column: 'timestamp',
        row: i,
        value: t,
        message: `row ${i}: timestamp ${t} is not an integer ms value`,
      });
      continue;
    }
    const aligned =
      rule.kind === 'fixed' ? (t - rule.origin) % rule.ms === 0 : bucketStart(t, interval) === t;
    if (!aligned) {
      add({
        kind: 'index',
        column: 'timestamp',
        row: i,
        value: t,
        message: `row ${i}: ${new Date(t).toISOString()} is not aligned to ${interval}`,
      });
    }
    if (i > 0 && t <= openTime[i - 1]) {
      add({
        kind: 'order',
        column: 'timestamp',
        row: i,
        value: t,
        message: `row ${i}: ${new Date(t).toISOString()} ${t === openTime[i - 1] ? 'duplicates' : 'is before'} the previous row`,
      });
    }
    let finite = true;
    for (const col of FLOAT_COLUMNS) {
      const v = c[col][i];
      if (!Number.isFinite(v)) {
        finite = false;
        add({
          kind: 'type',
          column: STORED_NAMES[col],
          row: i,
          value: String(v),
          message: `row ${i}: ${STORED_NAMES[col]} is ${v}`,
        });
      } else if (v < 0 && !(signed && PRICE_COLUMNS.has(col))) {
        add({
          kind: 'value',
          column: STORED_NAMES[col],
          row: i,
          value: v,
          message: `row ${i}: ${STORED_NAMES[col]} is negative (${v})`,
        });
      }
    }
    if (!finite) continue;
    if (!signed && (open[i] <= 0 || close[i] <= 0 || low[i] <= 0)) {
      add({
        kind: 'value',
        column: 'low',
        row: i,
        value: low[i],
        message: `row ${i}: prices must be positive`,
      });
    }
    if (high[i] < Math.max(open[i], close[i])) {
      add({
        kind: 'value',
        column: 'high',
        row: i,
        value: high[i],
        message: `row ${i}: high ${high[i]} < max(open ${open[i]}, close ${close[i]})`,
      });
    }
    if (low[i] > Math.min(open[i], close[i])) {
      add({
        kind: 'value',
        column: 'low',
        row: i,
        value: low[i],
        message: `row ${i}: low ${low[i]} > min(open ${open[i]}, close ${close[i]})`,
      });
    }
  }
  report.ok = report.total === 0;
  return report;
}

/**
 * The common case in one tight pass: every row valid. Written so that NaN fails every
 * comparison; any doubt sends the caller to the detailed pass that names each violation.
 */
function allValid(c: Candles, ms: number, origin: number, signed: boolean): boolean {
  const {
    openTime,
    open,
    high,
    low,
    close,
    volume,
    quoteVolume,
    trades,
    takerBuyBase,
    takerBuyQuote,
  } = c;
  let prev = -Infinity;
  for (let i = 0; i < c.length; i++) {
    const t = openTime[i];
    if (!(t > prev) || (t - origin) % ms !== 0) return false;
    prev = t;
    const o = open[i];
    const h = high[i];
    const l = low[i];
    const cl = close[i];
    if (!(
      (signed ? l > -Infinity : l > 0) &&
      l <= o &&
      l <= cl &&
      h >= o &&
      h >= cl &&
      h < Infinity
    ))
      return false;
    if (!(
      volume[i] >= 0 &&
      volume[i] < Infinity &&
      quoteVolume[i] >= 0 &&
      quoteVolume[i] < Infinity
    ))
      return false;
    if (!(
      trades[i] >= 0 &&
      trades[i] < Infinity &&
      takerBuyBase[i] >= 0 &&
      takerBuyBase[i] < Infinity
    ))
      return false;
    if (!(takerBuyQuote[i] >= 0 && takerBuyQuote[i] < Infinity)) return false;
  }
  return true;
}

/** One-paragraph description of a failed report, for error messages. */
export function describeViolations(r: ValidationReport, max = 5): string {
  const kinds = Object.entries(r.byKind)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const first = r.violations
    .slice(0, max)
    .map((v) => v.message)
    .join('; ');
  return `${r.total} violation(s) of the data contract (${kinds}): ${first}${r.total > max ? '; ...' : ''}`;
}
