/**
 * `threadx <command> --help`: each command's synopsis and its options, one line each. The table
 * is the CLI's reference; README.md's command table summarises it.
 */
import { SELECTION } from '../../schemas/contracts.ts';

interface CommandHelp {
  synopsis: string;
  summary: string;
  /** Reads no bank: --data-dir is not one of its options. */
  noBank?: boolean;
  /** The common options it takes, when not all of them (flags as in COMMON). */
  common?: string[];
  /** [flag, what it does] */
  options: Array<[string, string]>;
}

/** The options every command (except replay) takes. */
const COMMON: Array<[string, string]> = [
  ['--data-dir DIR', 'the bank folder (default ./data, or [data] root of threadx.toml)'],
  ['--config FILE', 'the configuration file (default ./threadx.toml, else ./paths.toml)'],
  ['--json', 'machine-readable output: one JSON object (JSON lines while a job runs)'],
  ['-h, --help', 'this text'],
];

const INTERVALS = '3m,5m,15m,30m,1h,2h,3h,4h,6h,8h,12h,1d,3d,1w,1M';

export const HELP: Record<string, CommandHelp> = {
  ingest: {
    synopsis: 'threadx ingest (--symbols A,B | --top N | --group NAME) --start ISO [options]',
    summary:
      'Downloads the missing 1m klines from Binance (REST and the checksummed archive), writes them, derives the intervals.',
    options: [
      ['--symbols A,B', 'symbols to download, comma-separated (e.g. BTCUSDC,ETHUSDC)'],
      [
        '--top N',
        `the N most traded (or largest, with a market-cap source) USDC pairs (futures: USDT or USD perpetuals), 1-${SELECTION.maxTop}`,
      ],
      ['--market M', 'spot (default), um (USD-M futures) or cm (COIN-M futures)'],
      ['--kind K', 'klines (trade price, default), mark, index (by pair) or premium'],
      ['--group NAME', 'a built-in group (L1, DeFi, L2, Stable) or one from [groups]'],
      ['--start ISO', 'first candle, UTC (2024-01-31 or 2024-01-31T12:00Z); required'],
      ['--end ISO', 'end of the window, UTC, exclusive (default: the last closed minute)'],
      [
        '--intervals LIST',
        `timeframes to derive (default [data.processing] default_intervals; ${INTERVALS})`,
      ],
      ['--source MODE', 'auto (archive for whole months/days, REST for the rest), rest or archive'],
      [
        '--base-url URL',
        "the market's REST base URL (default [data.api] base_url, um_base_url or cm_base_url)",
      ],
      ['--archive-url URL', 'Binance archive base URL (default [data.api] archive_url)'],
      ['--concurrency N', 'symbols downloaded at once, 1-32 (default [data.api] concurrency)'],
      ['--dry-run', 'print the plan (requests, weight, archive files, time) and download nothing'],
      ['--join', 'run the ingest in the daemon that serves this bank (it holds the bank)'],
    ],
  },
  watch: {
    synopsis: 'threadx watch [--symbols A,B | --group NAME | --top N] [options]',
    summary:
      'Keeps symbols current in the foreground: catches up, then stores each closed kline of the WebSocket stream within seconds, reconciled against REST. Ctrl-C (or SIGTERM) folds what was received into the bank and exits 0.',
    options: [
      [
        '--symbols A,B',
        'symbols to watch (default: [watch] symbols, groups and top of threadx.toml)',
      ],
      ['--group NAME', 'a built-in group (L1, DeFi, L2, Stable) or one from [groups]'],
      ['--top N', `the N most traded USDC pairs, 1-${SELECTION.maxTop}`],
      ['--start ISO', "catch up from here (default: each symbol's last stored minute, else today)"],
      [
        '--intervals LIST',
        `timeframes derived as their buckets complete (default [watch] intervals; ${INTERVALS})`,
      ],
      ['--base-url URL', 'Binance REST base URL (default [data.api] base_url)'],
      ['--archive-url URL', 'Binance archive base URL (default [data.api] archive_url)'],
      ['--ws-url URL', 'Binance WebSocket stream base (default [data.api] ws_url)'],
    ],
  },
  coverage: {
    synopsis: 'threadx coverage --symbols A,B [--start ISO] [--end ISO] [--by day|hour] [options]',
    summary:
      'Why each minute is missing: counts the 1m minutes of a range per class (real, filled, outage, unlisted, not fetched, failed) per symbol, and per UTC day or hour with --by. Reads the registry only.',
    options: [
      ['--symbols A,B', 'symbols to count, comma-separated'],
      ['--start ISO', 'first minute counted (default: the earliest the bank knows of the symbols)'],
      ['--end ISO', 'end, exclusive (default: the latest the bank knows of the symbols)'],
      ['--by day|hour', 'a row per UTC day or hour as well as the totals'],
    ],
  },
  import: {
    synopsis: 'threadx import <files...> [options]',
    summary:
      'Imports Binance kline files: archive zips, CSV or JSON (.gz too); a .CHECKSUM beside a file is verified.',
    options: [
      ['--symbol S', 'the symbol, when the file name does not say it'],
      ['--market M', 'spot, um or cm (default: what the file shows; futures files go to um or cm)'],
      ['--kind K', 'klines, mark, index or premium (default: what the path shows, else klines)'],
      ['--intervals LIST', `timeframes to derive after the import (${INTERVALS})`],
    ],
  },
  resample: {
    synopsis: 'threadx resample --symbol S [--market M] [--kind K] [--intervals LIST]',
    summary: 'Derives timeframes from the 1m truth already in the bank.',
    options: [
      ['--symbol S', 'the symbol; required'],
      ['--market M', 'spot (default), um (USD-M futures) or cm (COIN-M futures)'],
      ['--kind K', 'klines (trade price, default), mark, index (by pair) or premium'],
      ['--intervals LIST', `timeframes to derive (default: all of ${INTERVALS})`],
    ],
  },
  list: {
    synopsis: 'threadx list [--market M] [--kind K]',
    summary:
      'Lists the datasets in the bank: market, kind, rows, first and last candle, gaps, filled candles, files.',
    options: [
      ['--market M', 'only this market: spot, um or cm'],
      ['--kind K', 'only this kline kind: klines, mark, index or premium'],
    ],
  },
  verify: {
    synopsis: 'threadx verify [--market M] [--kind K]',
    summary:
      'Recomputes every checksum and re-validates every file: changed, corrupt, missing, unregistered. Exit 1 when it finds a problem.',
    options: [
      ['--market M', "only this market's datasets (and no scan for unregistered files)"],
      ['--kind K', 'only this kline kind'],
    ],
  },
  check: {
    synopsis: 'threadx check --symbol S [--intervals LIST]',
    summary:
      'Re-derives stored timeframes from 1m and lists every difference. Exit 1 when one differs.',
    options: [
      ['--symbol S', 'the symbol; required'],
      ['--market M', 'spot (default), um (USD-M futures) or cm (COIN-M futures)'],
      ['--kind K', 'klines (trade price, default), mark, index (by pair) or premium'],
      ['--intervals LIST', 'timeframes to check (default: every derived one stored)'],
    ],
  },
  repair: {
    synopsis: 'threadx repair [--symbol S ...] [--join]',
    summary:
      'Re-fetches corrupt or missing 1m months for exactly their ranges, rebuilds damaged derived files and indicator caches from 1m (no network), never rewrites a sound file, then verifies. Exit 1 when something could not be repaired.',
    options: [
      ['--symbol S', 'a symbol to repair (repeat, or comma-separate; default: every damaged one)'],
      ['--market M', "the symbols' market (alone: every series of that market)"],
      ['--kind K', "the symbols' kline kind"],
      ['--base-url URL', "the market's REST base URL (default [data.api] base_url, ...)"],
      ['--archive-url URL', 'Binance archive base URL (default [data.api] archive_url)'],
      ['--join', 'run the repair in the daemon that serves this bank (it holds the bank)'],
    ],
  },
  export: {
    synopsis:
      'threadx export --symbol S --interval I --out F.csv|F.xlsx|F.parquet [--format csv|xlsx|parquet] [--market M] [--kind K] [--start ISO] [--end ISO] [--indicators LIST]',
    summary:
      "Writes a dataset as CSV (ISO-8601 UTC times), an Excel workbook (UTC dates, frozen header) or Parquet, optionally with indicator columns; with --kind funding, a futures perpetual's funding history as CSV. More rows than one Excel sheet holds are refused, never truncated.",
    options: [
      ['--symbol S', 'the symbol; required'],
      ['--market M', 'spot (default), um (USD-M futures) or cm (COIN-M futures)'],
      ['--kind K', 'klines (trade price, default), mark, index (by pair) or premium'],
      ['--interval I', 'the timeframe (1m or a derived one); required'],
      ['--out FILE', 'the file to write, ending .csv, .xlsx or .parquet; required'],
      ['--format F', 'csv, xlsx or parquet (default: from the --out extension)'],
      ['--start ISO', 'first candle, UTC (default: the first stored)'],
      ['--end ISO', 'end, UTC, exclusive (default: after the last stored)'],
      [
        '--indicators LIST',
        'indicator columns to add, e.g. rsi,macd (values as TA-Lib gives them)',
      ],
      ['--params LIST', 'indicator parameters, e.g. rsi.period=21,bbands.k=2.5'],
    ],
  },
  validate: {
    synopsis: 'threadx validate <files...>',
    summary:
      'Checks kline files against the data contract, listing every violation with row and value. Exit 1 when one is invalid. Reads no bank.',
    options: [],
    noBank: true,
  },
  indicators: {
    synopsis:
      'threadx indicators (--symbols A,B | --group NAME) [--intervals LIST] [--indicators LIST] [options]',
    summary: 'Computes indicators identical to TA-Lib and caches them per dataset and parameters.',
    options: [
      ['--symbols A,B', 'symbols, comma-separated'],
      ['--group NAME', 'a built-in group or one from [groups]'],
      ['--market M', 'spot (default), um (USD-M futures) or cm (COIN-M futures)'],
      ['--kind K', 'klines (trade price, default), mark, index (by pair) or premium'],
      ['--intervals LIST', 'timeframes (default [data.processing] default_intervals)'],
      ['--indicators LIST', 'any of sma,ema,rsi,macd,bbands,atr (default: all)'],
      ['--params LIST', 'parameters, e.g. rsi.period=21,bbands.k=2.5'],
      ['--no-derive', 'use stored timeframes only; do not derive missing ones from 1m first'],
    ],
  },
  serve: {
    synopsis: 'threadx serve (--stdio | --socket PATH | --port N) [options]',
    summary: 'Runs the JSON-RPC daemon (LSP framing), see docs/daemon.md.',
    options: [
      ['--stdio', 'talk over stdin/stdout'],
      ['--socket PATH', 'listen on a Unix socket at PATH'],
      ['--port N', 'listen on 127.0.0.1:N (0: a free port, printed)'],
      ['--join', 'with --stdio: join the daemon already serving this bank instead of starting one'],
      ['--idle-timeout S', 'exit after S seconds without a client'],
    ],
  },
  mcp: {
    synopsis: 'threadx mcp [--data-dir DIR] [--allow-writes]',
    summary:
      'Serves the bank to agents over the Model Context Protocol on stdio: list_datasets, get_candles, get_indicators, coverage, plan_ingest, ingest. Reads take no lock.',
    options: [
      [
        '--allow-writes',
        'let the ingest tool run (in the daemon that holds the bank); refused otherwise',
      ],
    ],
  },
  replay: {
    synopsis: 'threadx replay [options]',
    summary:
      'Starts the replay exchange (Binance spot REST and data.binance.vision archives, from local data) on 127.0.0.1 and runs until Ctrl-C. Reads no bank.',
    options: [
      ['--port N', 'TCP port (default 0: a free port)'],
      ['--now TIME', 'the server clock, frozen: ISO date or ms (default: the real clock)'],
      ['--weight-limit N', 'REQUEST_WEIGHT per window (default 6000)'],
      ['--window S', 'the weight window in seconds (default 60)'],
      ['--latency MS', 'latency, fixed ("80") or jittered ("50-100")'],
      ['--seed N', 'seed for synthetic data, faults and jitter (default 1)'],
      ['--time-skew S', '/api/v3/time runs this many seconds ahead of the Date header'],
      [
        '--kline-lag S',
        "the klines lag the exchange's clock by S seconds (the newest is the open minute at now - S)",
      ],
      [
        '--fault SPEC',
        'repeatable: kind[:key=value,...], e.g. http5xx:probability=0.1, reset:count=3, openLast, missing:symbol=BTCUSDT,range=2024-01-01T00:00Z..2024-01-01T02:00Z (keys: path, symbol, probability, count, after, status, range)',
      ],
    ],
    common: ['-h, --help'],
  },
  demo: {
    synopsis: 'threadx demo [--data-dir DIR]',
    summary:
      "Runs the whole pipeline against the built-in replay exchange (no network): BTCUSDT and ETHUSDT for August 2022, then the L1 group from 2023-04-01 up to the replay exchange's clock (2023-05-01 21:03 UTC), then verify.",
    options: [],
  },
};

function lines(options: Array<[string, string]>): string {
  const width = Math.max(...options.map(([f]) => f.length));
  return options.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`).join('\n');
}

/** The first sentence of a command's summary, for the list of commands. */
export function shortSummary(command: string): string | undefined {
  const s = HELP[command]?.summary;
  return s === undefined
    ? undefined
    : (/^.*?[.:;](?=\s|$)/.exec(s)?.[0] ?? s).replace(/[:;]$/, '.');
}

/** The help text of `command`, or undefined when there is no such command. */
export function commandHelp(command: string): string | undefined {
  const h = HELP[command];
  if (!h) return undefined;
  const own = h.options.length ? `Options:\n${lines(h.options)}\n\n` : '';
  return `Usage: ${h.synopsis}

${h.summary}

${own}Common options:
${lines(COMMON.filter(([f]) => (h.common ? h.common.includes(f) : !(h.noBank && f.startsWith('--data-dir')))))}

Exit codes: 0 ok, 1 problems found, 2 bad input, 3 storage or network error, 130 interrupted.`;
}
