/**
 * Every message the extension shows a person, written once (vega-lite's `log/message.ts`).
 * Tests assert on these functions rather than on copies of the text.
 */
import { SELECTION } from '../schemas/contracts.ts';
import { bytes, duration, plural, sentence } from './format.ts';

export const messages = {
  daemonStarting: (dataDir: string) => `Starting the ThreadX daemon for ${dataDir}`,
  daemonJoined: (pid: number) => `Joined the ThreadX daemon already running (pid ${pid})`,
  daemonReady: (version: string, pid: number) => `ThreadX daemon ${version} ready (pid ${pid})`,
  daemonCrashedRestarting: (code: number | null, signal: string | null, n: number, max: number) =>
    `The ThreadX daemon stopped unexpectedly (${signal ?? `exit code ${code}`}); restarting (${n} of ${max}).`,
  daemonGaveUp: (max: number, minutes: number) =>
    `The ThreadX daemon crashed ${max} times in ${minutes} minutes and will not be restarted. Check the logs, then use "ThreadX: Restart Daemon".`,
  daemonFailedToStart: (why: string) => `The ThreadX daemon could not start: ${why}`,
  daemonNotRunning: () => 'The ThreadX daemon is not running. Use "ThreadX: Restart Daemon".',
  protocolMismatch: (theirs: string, ours: string) =>
    `The ThreadX daemon speaks protocol ${theirs}, this extension ${ours}. Update the extension or the daemon.`,
  restartNeeded: (keys: string[]) =>
    `ThreadX: the change to ${keys.map((k) => `"threadx.${k}"`).join(', ')} takes effect after the daemon restarts.`,
  restartNow: () => 'Restart Daemon',
  later: () => 'Later',
  showLogs: () => 'Show Logs',
  preview: () => 'Preview',
  openManager: () => 'Open Data Manager',
  retry: () => 'Retry',

  // Palette flows.
  pickSymbols: () => 'Symbols to download (type to search the exchange)',
  symbolsPlaceholder: () => 'e.g. BTCUSDC, ETHUSDC',
  invalidSymbols: (bad: string[]) =>
    `Not a symbol: ${bad.join(', ')}. Use 2 to 20 letters or digits, such as BTCUSDC.`,
  noSymbols: () => 'Give at least one symbol.',
  pickIntervals: () => 'Timeframes to build from the 1m data (1m is always downloaded)',
  startDate: () => 'First day to download (UTC), e.g. 2024-01-01',
  endDate: () => 'Last moment to download (UTC); empty for now',
  badDate: (why: string) => sentence(why),
  endBeforeStart: () => 'The end must be after the start.',
  topN: () => 'How many of the largest symbols?',
  topNInvalid: () => `A whole number from 1 to ${SELECTION.maxTop}.`,
  quoteAsset: () => 'Quote asset (the currency prices are in)',
  quoteInvalid: () => '2 to 10 letters or digits, such as USDC.',
  pickGroup: () => 'Symbol group to download',
  watchPrompt: () =>
    'Symbols to keep current from the kline stream (comma-separated); missed minutes are caught up first',
  watchStarted: (symbols: string[]) =>
    `Watching ${symbols.join(', ')}: missed minutes are caught up, then each closed minute is stored within seconds.`,
  pickDataset: () => 'Dataset',
  pickIndicators: () => 'Indicators to compute',
  noDatasets: () => 'The bank is empty. Download some data first.',
  exportSaveTitle: (format: 'csv' | 'xlsx' | 'parquet' = 'csv') =>
    `Export candles to ${{ csv: 'CSV', xlsx: 'Excel', parquet: 'Parquet' }[format]}`,

  // Job summaries.
  downloadTitle: (what: string) => `ThreadX: downloading ${what}`,
  downloadDone: (symbols: number, rows: number, errors: number, ms: number) =>
    errors === 0
      ? `Downloaded ${plural(rows, 'candle')} for ${plural(symbols, 'symbol')} in ${duration(ms)}.`
      : `Downloaded ${plural(rows, 'candle')} for ${plural(symbols - errors, 'symbol')}; ${plural(errors, 'symbol')} failed (see the logs).`,
  downloadUpToDate: (symbols: number) =>
    `Nothing to download: ${plural(symbols, 'symbol')} already up to date.`,
  cancelled: (what: string) => `${what} was cancelled; what was already written is kept.`,
  indicatorsTitle: () => 'ThreadX: updating indicators',
  indicatorsDone: (n: number) => `Updated ${plural(n, 'indicator')}.`,
  indicatorsFailed: (n: number) =>
    `${plural(n, 'indicator')} could not be computed (see the logs).`,
  verifyTitle: () => 'ThreadX: verifying the registry',
  verifyOk: (checked: number) => `Verified ${plural(checked, 'file')}: every checksum matches.`,
  verifyProblems: (bad: number, checked: number, first: string) =>
    `Verify found ${plural(bad, 'problem')} in ${plural(checked, 'file')} checked: ${first}`,
  repairAction: () => 'Repair',
  repairTitle: (what: string) => `ThreadX: repairing ${what}`,
  repaired: (symbols: string[]) => `Repaired ${symbols.join(', ')}: every file verifies again.`,
  repairSound: (symbols: string[]) =>
    `${symbols.join(', ')}: nothing to repair, every file is sound.`,
  repairFailed: (symbol: string, why: string) => `${symbol} could not be repaired: ${why}`,
  pickRepair: () => 'Symbol to repair (those with a damaged or changed file first)',
  repairNoProblem: () => 'no problem recorded; Repair verifies it and fixes what it finds',
  damaged: (d: { symbol: string; dataset: string; file?: string; reason?: string }) =>
    `${d.dataset} cannot be read: ${d.file ?? 'a file'} is damaged${d.reason ? ` (${d.reason})` : ''}. Repair ${d.symbol} to fetch it again or rebuild it from 1m.`,
  exportDone: (rows: number, size: number, out: string) =>
    `Exported ${plural(rows, 'candle')} (${bytes(size)}) to ${out}.`,
  tableSaved: (rows: number, out: string) =>
    `Saved the registry table (${plural(rows, 'dataset')}) to ${out}.`,
  open: () => 'Open',
  reveal: () => 'Reveal',
  verifiedAfterDownload: (files: number, problems: number) =>
    problems === 0
      ? `Verified the ${plural(files, 'file')} written.`
      : `Verify found ${plural(problems, 'problem')} in the ${plural(files, 'file')} written: Repair the symbol.`,
  deleteConfirm: (id: string, all: boolean) =>
    all
      ? `Delete ${id} and every timeframe derived from it? The files are removed from the bank.`
      : `Delete ${id}? Its files are removed from the bank.`,
  deleteAction: () => 'Delete',
  deleted: (n: number) => `Deleted ${plural(n, 'dataset')}.`,
  connectionCopied: () => 'ThreadX daemon connection info copied to the clipboard.',
  requestFailed: (what: string, why: string) => `${what} failed: ${why}`,
} as const;
