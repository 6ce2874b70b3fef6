import { type ErrorDetails, ThreadxError } from '../../schemas/errors.ts';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Unzip, UnzipInflate, strFromU8 } from 'fflate';
import {
  checkArchiveChecksum as verifyArchiveChecksum,
  checkTimeBounds,
  gunzipCapped,
  maxUncompressedBytes,
  parseArchiveZipBytes as parseZip,
  parseKlineCsvCapped,
} from '../engine/archive-file.ts';
import type { Candles } from '../../schemas/candles.ts';
import { codecPool } from './codec-pool.ts';
import { parseSymbol } from '../../schemas/common.ts';
import { type Interval, isInterval } from '../../schemas/intervals.ts';
import type { KlineKind } from '../../schemas/markets.ts';
import {
  type KlineMarket,
  detectInterval,
  parseKlineRows,
  sniffCsvMarket,
} from '../engine/parse.ts';

/**
 * Reading kline files users bring: Binance archive zips (`SYMBOL-1m-2024-01.zip`), their CSVs,
 * and JSON kline arrays. A `.CHECKSUM` beside a file is verified before anything is read.
 */
export class ImportError extends ThreadxError {
  override readonly name = 'ImportError';
  constructor(message: string, details: ErrorDetails = {}) {
    super('BAD_FILE', message, undefined, details);
  }
}

export interface KlineFile {
  file: string;
  symbol: string | null;
  interval: Interval | null;
  candles: Candles;
  checksum: 'verified' | 'absent';
  /** The interval the open times show, whatever the name says (null: one row, cannot tell). */
  detectedInterval: Interval | null;
  /** The market the file's path, name or text shows, and why when it is futures. */
  market: KlineMarket;
  marketReason?: string;
}

/** Futures archive paths and names: `futures/um/...`, `futures/cm/...`, `...-um-...`. */
const FUTURES_PATH = /(^|[\\/_-])futures([\\/_-]|$)|[\\/](um|cm)[\\/]/i;
const COIN_M_PATH = /(^|[\\/_-])(futures[\\/_-])?cm[\\/_-]/i;
const KIND_DIRS: Array<[RegExp, KlineKind]> = [
  [/(^|[\\/])markPriceKlines[\\/]/, 'mark'],
  [/(^|[\\/])indexPriceKlines[\\/]/, 'index'],
  [/(^|[\\/])premiumIndexKlines[\\/]/, 'premium'],
];

/**
 * The futures market and kline kind a futures file's path shows (`data/futures/cm/.../
 * markPriceKlines/...`); without a path that says, USD-M, or COIN-M for a COIN-M symbol
 * (`BTCUSD_PERP`, `BTCUSD_240628`, a pair quoted in USD), and trade klines.
 */
export function futuresSeriesOf(
  file: string,
  symbol: string | null,
): { market: 'um' | 'cm'; kind: KlineKind } {
  const kind = KIND_DIRS.find(([re]) => re.test(file))?.[1] ?? 'klines';
  const coinM =
    COIN_M_PATH.test(file) || (symbol !== null && (symbol.includes('_') || /USD$/.test(symbol)));
  return { market: coinM ? 'cm' : 'um', kind };
}

/** The first few KB of the CSV inside a zip, decompressed no further than that. */
function zipHead(bytes: Uint8Array): string {
  let head = '';
  try {
    const uz = new Unzip();
    uz.register(UnzipInflate);
    uz.onfile = (f) => {
      f.ondata = (_err, data) => {
        if (!head && data.length) head = strFromU8(data.subarray(0, 4096));
        f.terminate();
      };
      f.start();
    };
    uz.push(bytes, true);
  } catch {
    // A damaged zip is reported by the parser below.
  }
  return head;
}

const NAME =
  /^([A-Za-z0-9]{2,20}(?:_[A-Za-z0-9]{1,10})?)-([0-9]+[a-zA-Z])-(\d{4}-\d{2}(?:-\d{2})?)\.(zip|csv|json)(?:\.gz)?$/;

/** Symbol and interval from an archive file name, when it follows Binance's naming. */
export function parseArchiveName(
  file: string,
): { symbol: string; interval: Interval; period: string } | null {
  const m = NAME.exec(path.basename(file));
  if (!m || !isInterval(m[2])) return null;
  return { symbol: parseSymbol(m[1]), interval: m[2], period: m[3] };
}

/** Verifies bytes against a `sha256sum`-format CHECKSUM text naming `name`. */
export function verifyChecksum(bytes: Uint8Array, checksumText: string, name: string): void {
  try {
    verifyArchiveChecksum(bytes, checksumText, name);
  } catch (e) {
    throw new ImportError(`${name}: ${(e as Error).message}`);
  }
}

/** Extracts and parses the CSV inside a Binance archive zip. */
export function parseArchiveZip(bytes: Uint8Array, name: string): Candles {
  try {
    return parseZip(bytes, name);
  } catch (e) {
    throw new ImportError((e as Error).message);
  }
}

export async function readKlineFile(file: string): Promise<KlineFile> {
  const name = path.basename(file);
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    throw new ImportError(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let checksum: KlineFile['checksum'] = 'absent';
  try {
    const text = await fsp.readFile(`${file}.CHECKSUM`, 'utf8');
    verifyChecksum(bytes, text, name);
    checksum = 'verified';
  } catch (e) {
    if (e instanceof ImportError) throw e;
  }
  const parsedName = parseArchiveName(file);
  let candles: Candles;
  let inner = name;
  /** The start of a zip's CSV, as the parser saw it (no second inflate to sniff the market). */
  let zipText: string | null = null;
  try {
    // Decompressed as a stream with a cap from the rows the file's name allows: a bomb is
    // refused after a few MB instead of being unpacked whole.
    if (name.endsWith('.gz')) {
      inner = name.slice(0, -3);
      bytes = gunzipCapped(bytes, name, maxUncompressedBytes(inner));
    }
    // Archives unzip and parse on a codec worker: the next file's parse overlaps this one's write.
    if (inner.endsWith('.zip'))
      ({ candles, head: zipText } = await codecPool().parseArchive(bytes, name));
    else if (inner.endsWith('.csv')) candles = parseKlineCsvCapped(bytes, inner);
    else if (inner.endsWith('.json')) {
      candles = parseKlineRows(JSON.parse(strFromU8(bytes)), name);
      checkTimeBounds(candles, name, Date.now());
    } else
      throw new ImportError(
        `${name}: unsupported file type (expected .zip, .csv or .json, optionally gzipped)`,
      );
  } catch (e) {
    if (e instanceof ImportError) throw e;
    throw new ImportError((e as Error).message);
  }
  let market: KlineMarket = 'spot';
  let marketReason: string | undefined;
  if (FUTURES_PATH.test(file)) {
    market = 'futures';
    marketReason = 'its path names a futures market';
  } else if (!inner.endsWith('.json')) {
    const head = inner.endsWith('.zip')
      ? (zipText ?? zipHead(bytes))
      : strFromU8(bytes.subarray(0, 4096));
    if (sniffCsvMarket(head) === 'futures') {
      market = 'futures';
      marketReason =
        'it has the futures archive header row and prices at a contract tick size, not spot 8-decimal prices';
    }
  }
  return {
    file,
    symbol: parsedName?.symbol ?? null,
    interval: parsedName?.interval ?? null,
    candles,
    checksum,
    detectedInterval: detectInterval(candles.openTime, candles.length),
    market,
    ...(marketReason ? { marketReason } : {}),
  };
}
