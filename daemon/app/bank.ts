/**
 * The bank's use cases for the command line: open it with the config's settings, import files,
 * derive timeframes, export a range, validate a file, check derived data against 1m, and the
 * configuration file itself. The daemon reaches the same bank through `Services`.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../schemas/config.ts';
import type { Interval } from '../../schemas/intervals.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { validateCandles } from '../engine/validate.ts';
import { detectGaps } from '../engine/gaps.ts';
import { Bank } from '../store/bank.ts';
import { type BankLock, acquireBankLock, lockedError, watchingMessage } from '../store/lock.ts';
import { seeFiles } from '../store/observe.ts';
import { type DatasetEntry, type Integrity, datasetIntegrity } from '../../schemas/registry.ts';
import { loadConfig as loadConfigFile } from '../store/config.ts';
import { futuresSeriesOf, readKlineFile } from '../store/importer.ts';
import { readFunding } from '../store/funding.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import { fundingCsv } from '../engine/funding.ts';
import { restClientFromConfig } from '../sources/rest.ts';
import type { IngestDeps } from '../jobs/ingest.ts';
import { type Market, pricesOf } from '../../schemas/markets.ts';

export { importFiles, type ImportSummary } from '../jobs/import.ts';
export type { Bank } from '../store/bank.ts';

/** `threadx.toml` (or defaults) from `dir`, or the file given. */
export function loadConfig(
  dir?: string,
  explicit?: string,
): Promise<{ config: Config; file: string | null }> {
  return loadConfigFile(dir, explicit);
}

export interface OpenBankOptions {
  /** `read` (the default) takes no lock; `write` takes the bank's lock or throws LOCKED. */
  mode?: 'read' | 'write';
  /** What takes the lock, as `owner.json` and a refused writer's message name it. */
  command?: string;
  /** Whether the command can run through the daemon instead (`--join`), for LOCKED's hint. */
  canJoin?: boolean;
  /** A lock the caller already holds (the daemon's); `mode` is then ignored. */
  lock?: BankLock;
  /** Told when the lock is held from elsewhere and its heartbeat is being watched. */
  onWatch?: (text: string) => void;
}

/** Locks taken by `openBank` in this process, released by `releaseBankLocks`. */
const held: BankLock[] = [];

/**
 * Opens the bank at `dataDir` with the config's gap-filling limit. One writer per bank: in
 * `write` mode the bank's lock is taken (and held until `releaseBankLocks`), or LOCKED is thrown
 * naming the process that holds it.
 */
export async function openBank(
  dataDir: string,
  config: Config,
  opts: OpenBankOptions = {},
): Promise<Bank> {
  const maxGapFillMinutes = Math.round(config.data.processing.max_gap_fill_hours * 60);
  if (opts.lock) return Bank.open(dataDir, { maxGapFillMinutes, lock: opts.lock });
  if (opts.mode !== 'write') return Bank.open(dataDir, { maxGapFillMinutes });
  const got = await acquireBankLock(dataDir, opts.command ?? 'threadx', {
    onWatch: (owner, ms) => opts.onWatch?.(watchingMessage(owner, ms)),
  });
  if (!got.acquired) {
    const isDaemon = got.owner?.command.startsWith('threadx serve') ?? false;
    throw lockedError(dataDir, got.owner, isDaemon, opts.canJoin ?? false);
  }
  held.push(got.lock);
  try {
    return await Bank.open(dataDir, { maxGapFillMinutes, lock: got.lock });
  } catch (e) {
    held.splice(held.indexOf(got.lock), 1);
    await got.lock.release();
    throw e;
  }
}

/** Releases the locks `openBank` took (a command that wrote, at its end). */
export async function releaseBankLocks(): Promise<void> {
  for (const l of held.splice(0)) await l.release();
}

/** What an ingest needs, for a process of its own (the CLI): the REST client from the config. */
export function ingestDepsFor(
  bank: Bank,
  config: Config,
  urls: { baseUrl?: string; archiveUrl?: string } = {},
  market: Market = 'spot',
): IngestDeps {
  return {
    bank,
    config,
    rest: restClientFromConfig(config.data.api, {
      market,
      ...(urls.baseUrl ? { baseUrl: urls.baseUrl } : {}),
    }),
    // Another market's series (a repair of every series) use that market's configured host.
    restFor: (m: Market) =>
      m === market && urls.baseUrl
        ? restClientFromConfig(config.data.api, { market: m, baseUrl: urls.baseUrl })
        : restClientFromConfig(config.data.api, { market: m }),
    archiveBaseUrl: urls.archiveUrl ?? config.data.api.archive_url,
  };
}

/**
 * Writes a perpetual's funding history to `out` as CSV (fundingTime, fundingRate, markPrice,
 * interval in hours derived from the timestamps); returns the events. NOT_FOUND when none is
 * stored.
 */
export async function exportFunding(
  bank: Bank,
  q: { market: 'um' | 'cm'; symbol: string; out: string },
): Promise<number> {
  const events = await readFunding(bank.layout, q.market, q.symbol);
  if (events.length === 0)
    throw new ThreadxError(
      'NOT_FOUND',
      `The bank holds no funding rates of ${q.symbol} (${q.market}).`,
      `Download them with "threadx ingest --market ${q.market} --kind funding --symbols ${q.symbol} --start ...".`,
      { symbol: q.symbol, market: q.market },
    );
  await fsp.mkdir(path.dirname(q.out), { recursive: true });
  await writeFileAtomic(q.out, fundingCsv(events));
  return events.length;
}

/**
 * A kline file against the data contract: the interval its timestamps show (whatever its name
 * says), the interval its name says, its market (spot or futures, and why), violations, and the
 * gaps of a 1m file.
 */
export async function validateFile(file: string) {
  const kf = await readKlineFile(file);
  const interval = kf.detectedInterval ?? kf.interval ?? '1m';
  // A premium-index file (signed prices) is judged as one.
  const kind = kf.market === 'futures' ? futuresSeriesOf(file, kf.symbol).kind : 'klines';
  const report = validateCandles(kf.candles, interval, { prices: pricesOf(kind) });
  const gaps = interval === '1m' ? detectGaps(kf.candles, 60_000) : [];
  return {
    file,
    interval,
    namedInterval: kf.interval,
    market: kf.market,
    marketReason: kf.marketReason,
    checksum: kf.checksum,
    report,
    gaps,
  };
}

/**
 * The bank's datasets, sorted by id, each with its integrity as its files are on disk now: one
 * `stat` per file (`seeFiles`), so `threadx list` says "changed" for a file changed since its
 * last verify, as the daemon's `registry/list` does.
 */
export async function listBank(
  bank: Bank,
): Promise<{ entry: DatasetEntry; integrity: Integrity }[]> {
  const list = bank.list();
  const seen = await seeFiles(bank.layout, list);
  return list.map((entry) => ({ entry, integrity: datasetIntegrity(entry.files, seen) }));
}

/** Re-derives each stored timeframe of `symbol` from 1m and lists the differences. */
export async function checkDerived(bank: Bank, symbol: string, intervals?: Interval[]) {
  const list =
    intervals ??
    bank
      .list()
      .filter((d) => d.symbol === symbol && d.interval !== '1m' && d.kind === 'candles')
      .map((d) => d.interval);
  const out = [];
  for (const iv of list) out.push({ interval: iv, ...(await bank.checkConsistency(symbol, iv)) });
  return out;
}
