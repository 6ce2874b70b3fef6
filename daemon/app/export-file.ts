/**
 * Writing a dataset's range to a file a person opens elsewhere: CSV (ISO-8601 UTC times), an
 * Excel workbook (typed UTC dates, a frozen header row, number formats) or Parquet (the bank's own
 * conventions), optionally with indicator values as extra columns.
 *
 * Every format is written to a temporary file beside the target and renamed over it, so a
 * half-written export never appears. A range that does not fit one Excel sheet is refused with
 * its size and a command that fits; it is never truncated.
 */
import { createWriteStream, promises as fsp } from 'node:fs';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Candles } from '../../schemas/candles.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { type Interval, INTERVALS, intervalMs } from '../../schemas/intervals.ts';
import { candlesToCsvChunk } from '../store/export.ts';
import { encodeCandles, encodeColumns } from '../store/parquet.ts';
import type { Bank } from '../store/bank.ts';
import { readExact } from './read.ts';
import { readIndicators } from './indicators.ts';

export const EXPORT_FORMATS = ['csv', 'xlsx', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Rows of one Excel sheet (Excel's own limit), the header row included. */
export const XLSX_MAX_ROWS = 1_048_576;

/** An indicator asked for as extra columns: its name and parameters. */
export interface ExportIndicator {
  name: string;
  params?: Record<string, number>;
}

export interface ExportQuery {
  symbol: string;
  interval: Interval;
  start: number;
  end: number;
  out: string;
  format: ExportFormat;
  indicators?: readonly ExportIndicator[];
}

/** Indicator values over the exported candles, by column name (`rsi-14.rsi` ...). */
type ExtraColumns = Record<string, (number | null)[]>;

const CANDLE_HEADER = [
  'timestamp',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'quote_volume',
  'trades',
  'taker_buy_base',
  'taker_buy_quote',
  'filled',
] as const;

export const exportMessages = {
  tooManyRows: (rows: number, symbol: string, interval: string, limit = XLSX_MAX_ROWS - 1) =>
    `${symbol} ${interval} has ${rows.toLocaleString('en-US')} candles in this range: one Excel sheet holds ${limit.toLocaleString('en-US')} rows below its header, and an export is never truncated.`,
  tooManyRowsHint: (commands: string[]) =>
    `Export a part that fits: ${commands.map((c) => `"${c}"`).join(' or ')}; or use --format csv or parquet, which have no row limit.`,
  badFormat: (format: string) =>
    `There is no export format ${JSON.stringify(format)}; the formats are ${EXPORT_FORMATS.join(', ')}.`,
  extension: (format: ExportFormat) =>
    `The output file of ${format === 'xlsx' ? 'an' : 'a'} ${format} export must end with .${format}.`,
  startAfterEnd: () => '--start must be before --end.',
} as const;

/** Candles as the CSV text `threadx export` writes (header included). */
export function candlesCsv(c: Candles): string {
  return `${CANDLE_HEADER.join(',')}\n${candlesToCsvChunk(c, 0, c.length)}`;
}

/** The format a file name asks for (`.csv`, `.xlsx`, `.parquet`), or null. */
export function formatOfPath(file: string): ExportFormat | null {
  const ext = path.extname(file).toLowerCase().slice(1);
  return (EXPORT_FORMATS as readonly string[]).includes(ext) ? (ext as ExportFormat) : null;
}

/** Writes the range; returns the rows written and the file's size. */
export async function exportFile(
  bank: Bank,
  q: ExportQuery,
  /** Rows of a sheet, the header included (Excel's limit; smaller in tests). */
  sheetRows = XLSX_MAX_ROWS,
): Promise<{ out: string; rows: number; bytes: number; columns: string[] }> {
  if (q.start >= q.end)
    throw new ThreadxError('INVALID_RANGE', exportMessages.startAfterEnd(), undefined, {
      start: q.start,
      end: q.end,
    });
  if (formatOfPath(q.out) !== q.format)
    throw new ThreadxError('BAD_INPUT', exportMessages.extension(q.format), undefined, {
      out: q.out,
    });
  const c = await readExact(bank, q.symbol, q.interval, q.start, q.end);
  if (q.format === 'xlsx' && c.length > sheetRows - 1) throw tooLargeForExcel(c, q, sheetRows);
  const extra = q.indicators?.length ? await indicatorColumns(bank, q, c) : {};
  await fsp.mkdir(path.dirname(q.out), { recursive: true });
  const columns = [...CANDLE_HEADER, ...Object.keys(extra)];
  await writeAtomically(q.out, async (tmp) => {
    if (q.format === 'csv') await writeCsv(tmp, c, extra);
    else if (q.format === 'xlsx') await writeXlsx(tmp, c, extra, `${q.symbol} ${q.interval}`);
    else await fsp.writeFile(tmp, encodeParquet(c, extra, q));
  });
  const { size } = await fsp.stat(q.out);
  return { out: q.out, rows: c.length, bytes: size, columns };
}

/**
 * The refusal of a range too large for one sheet: the size, and commands that fit (the finest
 * coarser interval whose candles fit, and the latest range of this interval that fits).
 */
function tooLargeForExcel(c: Candles, q: ExportQuery, sheetRows: number): ThreadxError {
  const limit = sheetRows - 1;
  const first = c.openTime[0];
  const last = c.openTime[c.length - 1];
  const span = last - first + intervalMs(q.interval);
  const iso = (t: number): string => new Date(t).toISOString().replace(/:00\.000Z$/, 'Z');
  const base = `threadx export --symbol ${q.symbol}`;
  const range = `${Number.isFinite(q.start) ? ` --start ${iso(q.start)}` : ''}${Number.isFinite(q.end) ? ` --end ${iso(q.end)}` : ''}`;
  const commands: string[] = [];
  const coarser = INTERVALS.slice(INTERVALS.indexOf(q.interval) + 1).find(
    (iv) => span / intervalMs(iv) + 1 <= limit,
  );
  if (coarser)
    commands.push(
      `${base} --interval ${coarser}${range} --format xlsx --out ${swapExt(q.out, coarser)}`,
    );
  const from = last + intervalMs(q.interval) - limit * intervalMs(q.interval);
  commands.push(
    `${base} --interval ${q.interval} --start ${iso(from)} --end ${iso(last + intervalMs(q.interval))} --format xlsx --out ${q.out}`,
  );
  return new ThreadxError(
    'INVALID_RANGE',
    exportMessages.tooManyRows(c.length, q.symbol, q.interval, limit),
    exportMessages.tooManyRowsHint(commands),
    { rows: c.length, limit, symbol: q.symbol, interval: q.interval },
  );
}

function swapExt(out: string, interval: string): string {
  const ext = path.extname(out);
  return `${out.slice(0, out.length - ext.length)}-${interval}${ext}`;
}

/** Indicator outputs aligned on the candles' open times (null before each lookback). */
async function indicatorColumns(bank: Bank, q: ExportQuery, c: Candles): Promise<ExtraColumns> {
  const [series] = await readIndicators(bank, [q.symbol], {
    symbols: [q.symbol],
    intervals: [q.interval],
    indicators: (q.indicators ?? []).map((i) => ({
      name: i.name as never,
      params: i.params ?? {},
    })),
    start: Number.isFinite(q.start) ? q.start : undefined,
    end: Number.isFinite(q.end) ? q.end : undefined,
    maxPoints: Math.max(1, c.length),
    exact: true,
  } as never);
  const at = new Map<number, number>();
  series.openTime.forEach((t, i) => at.set(t, i));
  const out: ExtraColumns = {};
  for (const ind of series.indicators)
    for (const [name, values] of Object.entries(ind.outputs)) {
      const col: (number | null)[] = new Array<number | null>(c.length);
      for (let i = 0; i < c.length; i++) {
        const j = at.get(c.openTime[i]);
        col[i] = j === undefined ? null : values[j];
      }
      out[`${ind.key}.${name}`] = col;
    }
  return out;
}

async function writeAtomically(out: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = path.join(
    path.dirname(out),
    `.${path.basename(out)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    await write(tmp);
    await fsp.rename(tmp, out);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

async function writeCsv(file: string, c: Candles, extra: ExtraColumns): Promise<void> {
  const names = Object.keys(extra);
  const ws = createWriteStream(file, { flags: 'wx', flush: true });
  const failed = once(ws, 'error').then(([e]) => Promise.reject(e as Error));
  failed.catch(() => undefined);
  try {
    ws.write(`${[...CANDLE_HEADER, ...names].join(',')}\n`);
    const CHUNK = 10_000;
    for (let i = 0; i < c.length; i += CHUNK) {
      const to = Math.min(c.length, i + CHUNK);
      let text = candlesToCsvChunk(c, i, to);
      if (names.length) {
        const lines = text.split('\n');
        for (let k = 0; k < to - i; k++)
          lines[k] += `,${names.map((n) => extra[n][i + k] ?? '').join(',')}`;
        text = lines.join('\n');
      }
      if (!ws.write(text)) await Promise.race([once(ws, 'drain'), failed]);
    }
    ws.end();
    await Promise.race([once(ws, 'finish'), failed]);
  } catch (e) {
    ws.destroy();
    throw e;
  }
}

/** Number formats: prices and volumes to Binance's 8 decimals, counts and flags as integers. */
const XLSX_FORMATS: Record<string, string> = {
  timestamp: 'yyyy-mm-dd hh:mm:ss',
  trades: '0',
  filled: '0',
};
const DECIMAL_FORMAT = '#,##0.00######';

/**
 * An Excel workbook through exceljs's streaming writer (rows are flushed as they are added, so a
 * million rows never sit in memory as cell objects). Times are Excel dates in UTC (the header
 * says so); the header row is frozen.
 */
async function writeXlsx(
  file: string,
  c: Candles,
  extra: ExtraColumns,
  sheetName: string,
): Promise<void> {
  const names = Object.keys(extra);
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: file,
    useStyles: true,
    useSharedStrings: false,
  });
  wb.creator = 'ThreadX Data';
  const ws = wb.addWorksheet(sheetName.slice(0, 31), {
    views: [{ state: 'frozen', xSplit: 1, ySplit: 1 }],
  });
  ws.columns = [...CANDLE_HEADER, ...names].map((name) => ({
    header: name === 'timestamp' ? 'timestamp (UTC)' : name,
    key: name,
    width: name === 'timestamp' ? 20 : Math.max(12, name.length + 2),
    style: { numFmt: XLSX_FORMATS[name] ?? DECIMAL_FORMAT },
  }));
  ws.getRow(1).font = { bold: true };
  ws.getRow(1).commit();
  for (let i = 0; i < c.length; i++) {
    const row: (Date | number | null)[] = [
      new Date(c.openTime[i]),
      c.open[i],
      c.high[i],
      c.low[i],
      c.close[i],
      c.volume[i],
      c.quoteVolume[i],
      c.trades[i],
      c.takerBuyBase[i],
      c.takerBuyQuote[i],
      c.filled[i],
    ];
    for (const n of names) row.push(extra[n][i]);
    ws.addRow(row).commit();
  }
  ws.commit();
  // exceljs's zip writer (archiver 5) still calls the deprecated `Buffer()` constructor; bundled
  // outside node_modules, Node would print DEP0005 on the user's terminal for it. The warning is
  // silenced for the write only.
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    await wb.commit();
  } finally {
    process.noDeprecation = quiet;
  }
}

/** Parquet as the bank writes it; with indicators, every column as float64 beside `timestamp`. */
function encodeParquet(c: Candles, extra: ExtraColumns, q: ExportQuery): Uint8Array {
  const meta = { symbol: q.symbol, interval: q.interval };
  const names = Object.keys(extra);
  if (names.length === 0) return encodeCandles(c, meta);
  const n = c.length;
  const columns: Record<string, Float64Array> = {
    open: c.open.subarray(0, n),
    high: c.high.subarray(0, n),
    low: c.low.subarray(0, n),
    close: c.close.subarray(0, n),
    volume: c.volume.subarray(0, n),
    quote_volume: c.quoteVolume.subarray(0, n),
    trades: c.trades.subarray(0, n),
    taker_buy_base: c.takerBuyBase.subarray(0, n),
    taker_buy_quote: c.takerBuyQuote.subarray(0, n),
    filled: Float64Array.from(c.filled.subarray(0, n)),
  };
  for (const name of names) columns[name] = Float64Array.from(extra[name], (x) => x ?? NaN);
  return encodeColumns(c.openTime.subarray(0, n), columns, meta);
}
