import { ThreadxError } from '../../schemas/errors.ts';
import { type Candles, allocCandles, sliceCandles } from '../../schemas/candles.ts';
import {
  type Interval,
  BUCKET_RULES,
  DAY_MS,
  INTERVALS,
  bucketStart,
} from '../../schemas/intervals.ts';

/**
 * Binance kline text formats, parsed to columnar candles. Pure: the caller reads the bytes.
 *
 * The 12 kline fields are: open time, open, high, low, close, volume, close time, quote volume,
 * trades, taker buy base volume, taker buy quote volume, ignore. Files with 6 fields (open time
 * and OHLCV, as Freqtrade stores them) are accepted too; the missing columns read as 0.
 */

/** Spot archives switched to microseconds on 2025-01-01; anything above this is not ms. */
const MAX_MS = 1e14;

/** Converts an archive timestamp to ms, detecting µs (and ns) by magnitude, row by row. */
export function toMs(t: number): number {
  if (t > 1e17) return Math.floor(t / 1e6);
  if (t > MAX_MS) return Math.floor(t / 1e3);
  return t;
}

/** A kline file or body that cannot be read (code `BAD_FILE`); `line` is the first bad line. */
export class KlineParseError extends ThreadxError {
  override readonly name = 'KlineParseError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super('BAD_FILE', message, undefined, { line });
  }
}

/**
 * Parses a Binance kline CSV (archive format: no header for spot, a header row for futures and
 * for some third-party exports). Throws `KlineParseError` naming the first bad line.
 *
 * Bytes are parsed where they lie, without a string per line or per field: a plain line (12
 * fields of ASCII digits and at most one point each) is read by `fastLine`, which gives exactly
 * the double `Number()` gives; any other line (a header, 6 fields, spaces, an exponent, more
 * digits than a double holds, a bad field) goes through the string path, with its messages.
 */
export function parseKlineCsv(
  input: string | Uint8Array,
  source = 'input',
  opts: { requireAllFields?: boolean } = {},
): Candles {
  // A Buffer view for its `indexOf` (memchr), whatever array the bytes came in.
  const bytes =
    typeof input === 'string'
      ? Buffer.from(input, 'utf8')
      : Buffer.from(input.buffer, input.byteOffset, input.length);
  let lines = 1;
  for (let i = bytes.indexOf(NL); i !== -1; i = bytes.indexOf(NL, i + 1)) lines++;
  const c = allocCandles(lines);
  const cols = FAST_COLUMNS.map((name) => (name === null ? null : c[name]));
  let k = 0;
  let li = 0;
  for (let start = 0; start <= bytes.length; li++) {
    let end = bytes.indexOf(NL, start);
    if (end === -1) end = bytes.length;
    const next = end + 1;
    if (end > start && bytes[end - 1] === CR) end--;
    if (end > start && !fastLine(bytes, start, end, cols, k)) {
      const line = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString();
      k = slowLine(line, li, k, c, source, opts);
    } else if (end > start) k++;
    start = next;
  }
  c.length = k;
  // Views of exactly k rows: no copy, and no spare capacity to mistake for data.
  return sliceCandles(c, 0, k);
}

const NL = 10;
const CR = 13;
const COMMA = 44;
const DOT = 46;
const ZERO = 48;
/** Powers of ten that a double holds exactly (10^0 to 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Field index to column; null: not stored (close time, ignore). */
const FAST_COLUMNS = [
  'openTime',
  'open',
  'high',
  'low',
  'close',
  'volume',
  null,
  'quoteVolume',
  'trades',
  'takerBuyBase',
  'takerBuyQuote',
  null,
] as const;

/**
 * Reads one plain 12-field line into row `k`; false (row untouched or to be overwritten) when
 * the line is anything else. A field of digits with at most one point is m / 10^e with m below
 * 2^53 and e at most 22: both are exact doubles, and IEEE division rounds their quotient
 * correctly, so the result is the double `Number()` parses (Clinger's fast path). The open time
 * must be digits only, as `toMs` takes it.
 */
function fastLine(
  b: Uint8Array,
  start: number,
  end: number,
  cols: readonly (Float64Array | null)[],
  k: number,
): boolean {
  let field = 0;
  let i = start;
  while (field < 12) {
    const col = cols[field];
    if (col === null) {
      // Not stored: skipped to the next comma (the string path does not read it either).
      while (i < end && b[i] !== COMMA) i++;
    } else {
      let m = 0;
      let digits = 0;
      let scale = -1;
      for (; i < end; i++) {
        const ch = b[i];
        if (ch === COMMA) break;
        const d = ch - ZERO;
        if (d >= 0 && d <= 9) {
          m = m * 10 + d;
          digits++;
          if (scale >= 0) scale++;
        } else if (ch === DOT && scale < 0 && field !== 0) scale = 0;
        else return false;
      }
      if (digits === 0 || m > Number.MAX_SAFE_INTEGER || scale > 22) return false;
      const v = scale > 0 ? m / POW10[scale] : m;
      col[k] = field === 0 ? toMs(v) : v;
    }
    field++;
    if (i < end)
      i++; // the comma
    else break;
  }
  // Exactly 12 fields: the last one ended the line, and no comma followed it.
  return field === 12 && i === end && b[end - 1] !== COMMA;
}

/** One line by the string path (headers, 6-field files, anything `fastLine` does not take). */
function slowLine(
  line: string,
  li: number,
  k: number,
  c: Candles,
  source: string,
  opts: { requireAllFields?: boolean },
): number {
  const f = line.split(',');
  if (k === 0 && li < 2 && !/^\s*\d/.test(f[0])) return k; // header row
  if (f.length !== 12 && (f.length !== 6 || opts.requireAllFields)) {
    throw new KlineParseError(
      `${source}: line ${li + 1} has ${f.length} fields, expected 12 (Binance kline CSV)`,
      li + 1,
    );
  }
  const t = Number(f[0]);
  if (!Number.isFinite(t) || t < 0) {
    throw new KlineParseError(
      `${source}: line ${li + 1}: open time ${JSON.stringify(f[0])} is not a number`,
      li + 1,
    );
  }
  c.openTime[k] = toMs(t);
  c.open[k] = num(f[1], source, li, 'open');
  c.high[k] = num(f[2], source, li, 'high');
  c.low[k] = num(f[3], source, li, 'low');
  c.close[k] = num(f[4], source, li, 'close');
  c.volume[k] = num(f[5], source, li, 'volume');
  if (f.length === 12) {
    c.quoteVolume[k] = num(f[7], source, li, 'quote_volume');
    c.trades[k] = num(f[8], source, li, 'trades');
    c.takerBuyBase[k] = num(f[9], source, li, 'taker_buy_base');
    c.takerBuyQuote[k] = num(f[10], source, li, 'taker_buy_quote');
  } else {
    c.quoteVolume[k] = 0;
    c.trades[k] = 0;
    c.takerBuyBase[k] = 0;
    c.takerBuyQuote[k] = 0;
  }
  return k + 1;
}

function num(s: string, source: string, li: number, col: string): number {
  const v = Number(s);
  if (s.length === 0 || !Number.isFinite(v)) {
    throw new KlineParseError(
      `${source}: line ${li + 1}: ${col} ${JSON.stringify(s)} is not a finite number`,
      li + 1,
    );
  }
  return v;
}

/**
 * Parses kline rows as JSON arrays: the REST `/api/v3/klines` body (12 fields, numbers as
 * strings) or Freqtrade's `[[ms, o, h, l, c, v], ...]`.
 */
export function parseKlineRows(rows: unknown, source = 'input'): Candles {
  if (!Array.isArray(rows))
    throw new KlineParseError(`${source}: expected a JSON array of klines`, 0);
  const c = allocCandles(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r: unknown = rows[i];
    if (!Array.isArray(r) || (r.length !== 12 && r.length !== 6)) {
      throw new KlineParseError(`${source}: kline ${i} is not an array of 12 (or 6) fields`, i);
    }
    const vals = r.map((x: unknown) =>
      typeof x === 'string' ? Number(x) : typeof x === 'number' ? x : NaN,
    );
    for (const idx of r.length === 12 ? [0, 1, 2, 3, 4, 5, 7, 8, 9, 10] : [0, 1, 2, 3, 4, 5]) {
      if (!Number.isFinite(vals[idx])) {
        throw new KlineParseError(
          `${source}: kline ${i} field ${idx} ${JSON.stringify(r[idx])} is not a finite number`,
          i,
        );
      }
    }
    c.openTime[i] = toMs(vals[0]);
    c.open[i] = vals[1];
    c.high[i] = vals[2];
    c.low[i] = vals[3];
    c.close[i] = vals[4];
    c.volume[i] = vals[5];
    if (r.length === 12) {
      c.quoteVolume[i] = vals[7];
      c.trades[i] = vals[8];
      c.takerBuyBase[i] = vals[9];
      c.takerBuyQuote[i] = vals[10];
    }
  }
  c.length = rows.length;
  return c;
}

/**
 * The interval of a kline series, from its open times alone (whatever a file is called): the
 * coarsest interval every open time is aligned to whose length the smallest step between rows
 * reaches. Null for fewer than two rows (one kline cannot show its interval).
 */
export function detectInterval(
  openTime: ArrayLike<number>,
  length = openTime.length,
): Interval | null {
  if (length < 2) return null;
  let minStep = Infinity;
  for (let i = 1; i < length; i++) {
    const d = openTime[i] - openTime[i - 1];
    if (d > 0 && d < minStep) minStep = d;
  }
  for (let k = INTERVALS.length - 1; k >= 0; k--) {
    const iv = INTERVALS[k];
    const rule = BUCKET_RULES[iv];
    const len = rule.kind === 'fixed' ? rule.ms : 28 * DAY_MS;
    if (len > minStep) continue;
    let aligned = true;
    for (let i = 0; i < length && aligned; i++)
      aligned = bucketStart(openTime[i], iv) === openTime[i];
    if (aligned) return iv;
  }
  return null;
}

/** What a kline CSV's text says about its market. */
export type KlineMarket = 'spot' | 'futures';

/**
 * Tells a spot kline CSV from a USD-M/COIN-M futures one by its text: futures archives carry a
 * header row (`open_time,open,...,ignore`) and print prices at the contract's tick size
 * (`19992.70`), where spot archives have no header and Binance's spot API prints every price with
 * 8 decimals. A header with 8-decimal prices is a spot export (e.g. a REST dump) and stays spot.
 */
export function sniffCsvMarket(text: string): KlineMarket {
  const lines = text
    .slice(0, 4096)
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  if (lines.length === 0 || /^\s*\d/.test(lines[0])) return 'spot';
  const row = lines[1]?.split(',');
  if (!row || row.length < 5) return 'spot';
  const eight = row.slice(1, 5).every((v) => /^\d+\.\d{8}$/.test(v.trim()));
  return eight ? 'spot' : 'futures';
}
