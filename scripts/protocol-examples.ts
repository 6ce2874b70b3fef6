/**
 * One example exchange per message, shown in docs/protocol.md. `scripts/gen-protocol.ts` checks
 * each against the message's schemas, so an example cannot drift from the protocol.
 */
import type {
  NotificationMethod,
  NotificationParams,
  Params,
  RequestMethod,
  Result,
} from '../schemas/protocol.ts';

const T0 = 1704067200000; // 2024-01-01T00:00Z
const H = 3_600_000;

type Examples = {
  [M in RequestMethod]: { params: Params<M>; result: Result<M> };
} & { [M in NotificationMethod]: { params: NotificationParams<M> | undefined } };

export const EXAMPLES: Examples = {
  initialize: {
    params: {
      processId: 4242,
      clientInfo: { name: 'vscode-threadx', version: '0.1.0' },
      protocolVersion: '1.0',
      capabilities: { progress: true, registryChanged: true },
    },
    result: {
      protocolVersion: '1.0',
      serverInfo: { name: 'threadx-data', version: '0.1.0' },
      dataDir: '/home/me/threadx/data',
      pid: 5151,
      capabilities: {
        progress: true,
        cancellation: true,
        registryChanged: true,
        logs: true,
        ingest: true,
        indicators: true,
        methods: ['initialize', 'shutdown', 'registry/list', 'data/read', '…'],
      },
    },
  },
  shutdown: { params: undefined, result: null },
  'config/get': {
    params: undefined,
    result: {
      config: {
        data: {
          root: '/home/me/threadx/data',
          processed: 'processed',
          raw: 'raw',
          indicators: 'indicators_cache',
          logs: 'logs',
          api: {
            base_url: 'https://api.binance.com',
            um_base_url: 'https://fapi.binance.com',
            cm_base_url: 'https://dapi.binance.com',
            archive_url: 'https://data.binance.vision',
            ws_url: 'wss://stream.binance.com:9443',
            klines_endpoint: '/api/v3/klines',
            weight_safety_margin: 0.1,
            rate_limit_weight_per_minute: 6000,
            max_retries: 5,
            retry_delay: 0.5,
            timeout_seconds: 30,
            concurrency: 4,
            final_after_minutes: 60,
          },
          processing: {
            default_batch_size: 1000,
            max_gap_fill_hours: 4,
            resample_validation: true,
            default_intervals: ['1h', '4h', '1d'],
          },
        },
        groups: {},
        indicators: { after_ingest: [] },
        watch: {
          symbols: [],
          groups: [],
          top: 0,
          grace_seconds: 3,
          fold_seconds: 300,
          reconcile_seconds: 600,
        },
        logging: { level: 'info', max_file_bytes: 5000000, max_files: 3 },
      },
      file: '/home/me/threadx/threadx.toml',
      dataDir: '/home/me/threadx/data',
    },
  },
  'symbols/search': {
    params: { query: 'sol', quote: 'USDC', limit: 3 },
    result: { matches: [{ symbol: 'SOLUSDC', base: 'SOL', quote: 'USDC', status: 'TRADING' }] },
  },
  'symbols/top': {
    params: { n: 2, quote: 'USDC' },
    result: {
      symbols: [
        {
          rank: 1,
          symbol: 'BTCUSDC',
          base: 'BTC',
          quote: 'USDC',
          status: 'TRADING',
          quoteVolume24h: 912345678.5,
        },
        {
          rank: 2,
          symbol: 'ETHUSDC',
          base: 'ETH',
          quote: 'USDC',
          status: 'TRADING',
          quoteVolume24h: 512345678.25,
        },
      ],
      ranking: 'volume',
      note: 'ranked by 24h quote volume only: no market-cap source is configured (data.api.market_cap_url)',
    },
  },
  'symbols/groups': {
    params: undefined,
    result: {
      groups: [
        { name: 'L1', symbols: ['BTCUSDC', 'ETHUSDC', 'SOLUSDC', 'ADAUSDC'], source: 'builtin' },
        { name: 'mine', symbols: ['BTCUSDC', 'PEPEUSDC'], source: 'config' },
      ],
    },
  },
  'ingest/plan': {
    params: { group: 'L1', intervals: ['1h', '1d'], start: '2024-01-01', end: '2024-02-01' },
    result: {
      window: [T0, T0 + 31 * 24 * H],
      items: [
        {
          symbol: 'BTCUSDC',
          missing: [[T0, T0 + 31 * 24 * H]],
          candles: 44640,
          requests: 0,
          archives: 1,
          weight: 0,
        },
      ],
      skipped: [
        { symbol: 'ADAUSDC', status: 'BREAK', reason: 'ADAUSDC does not trade: status BREAK' },
      ],
      totals: { candles: 44640, requests: 0, archives: 1, weight: 0, estimatedSeconds: 0.3 },
    },
  },
  'ingest/run': {
    params: {
      symbols: ['BTCUSDC'],
      intervals: ['1h'],
      start: '2024-01-01',
      end: '2024-01-02',
      workDoneToken: 'p1',
    },
    result: {
      dryRun: false,
      symbols: [
        {
          symbol: 'BTCUSDC',
          rows: 1440,
          missing: [[T0, T0 + 24 * H]],
          ranges: 1,
          requests: 2,
          archives: 0,
          gaps: 0,
          filled: 0,
          timeMs: 840,
          derived: ['1h'],
          error: null,
        },
      ],
      totals: { rows: 1440, requests: 2, errors: 0, timeMs: 850 },
    },
  },
  'registry/list': {
    params: { filter: { symbol: 'BTCUSDC' } },
    result: {
      datasets: [
        {
          id: 'BTCUSDC/1m',
          symbol: 'BTCUSDC',
          interval: '1m',
          kind: 'candles',
          rows: 1440,
          first: T0,
          last: T0 + 24 * H - 60_000,
          gaps: 0,
          missing: 0,
          filled: 0,
          files: 1,
          bytes: 61234,
          updated: T0 + 48 * H,
          derived: false,
        },
      ],
    },
  },
  'registry/verify': {
    params: { workDoneToken: 'p2' },
    result: {
      ok: false,
      checked: 14,
      issues: [
        {
          path: 'processed/BTCUSDC/1m/2024-01.parquet',
          status: 'changed',
          dataset: 'BTCUSDC/1m',
          detail: "sha256 3f2a9c1b7e0d… differs from the registry's 9be1c04f5a22…",
        },
      ],
    },
  },
  'registry/repair': {
    params: { symbols: ['BTCUSDC'], workDoneToken: 'p3' },
    result: {
      ok: true,
      results: [
        {
          symbol: 'BTCUSDC',
          ok: true,
          found: [
            {
              path: 'processed/BTCUSDC/1m/2024-01.parquet',
              status: 'corrupt',
              dataset: 'BTCUSDC/1m',
              detail: 'cannot be decoded',
            },
          ],
          refetched: [[1704067200000, 1706745600000]],
          rebuilt: [],
          remaining: [],
        },
      ],
    },
  },
  'registry/delete': {
    params: { symbol: 'ETHUSDC', interval: '1m' },
    result: {
      datasets: ['ETHUSDC/1h', 'ETHUSDC/1m'],
      files: ['processed/ETHUSDC/1m/2024-01.parquet', 'processed/ETHUSDC/1h.parquet'],
    },
  },
  'data/read': {
    params: {
      symbol: 'BTCUSDC',
      interval: '1m',
      start: '2024-01-01',
      end: '2024-01-01T02:00Z',
      maxPoints: 2,
    },
    result: {
      symbol: 'BTCUSDC',
      interval: '1h',
      requestedInterval: '1m',
      resampled: false,
      truncated: false,
      length: 2,
      columns: {
        openTime: [T0, T0 + H],
        open: [42283.58, 42475.23],
        high: [42554.57, 42600],
        low: [42261.02, 42431.65],
        close: [42475.23, 42594.78],
        volume: [1271.68108, 904.15334],
        quoteVolume: [54008787.56, 38463912.12],
        trades: [47134, 35262],
        takerBuyBase: [682.57581, 476.01208],
        takerBuyQuote: [28988420.42, 20250110.27],
        filled: [0, 0],
      },
    },
  },
  'data/export': {
    params: {
      symbol: 'BTCUSDC',
      interval: '1d',
      start: '2024-01-01',
      out: '/home/me/exports/btc-1d.csv',
    },
    result: { out: '/home/me/exports/btc-1d.csv', rows: 366, bytes: 48211 },
  },
  'indicators/update': {
    params: {
      group: 'L1',
      intervals: ['1h'],
      indicators: [{ name: 'rsi', params: { period: 14 } }],
      workDoneToken: 'p3',
    },
    result: {
      items: [
        {
          symbol: 'BTCUSDC',
          interval: '1h',
          indicator: 'rsi',
          key: 'rsi-14',
          rows: 8784,
          written: true,
          error: null,
        },
      ],
    },
  },
  'indicators/read': {
    params: {
      symbols: ['BTCUSDC'],
      intervals: ['1h'],
      indicators: [{ name: 'sma', params: { period: 2 } }],
      start: '2024-01-01',
      end: '2024-01-01T03:00Z',
    },
    result: {
      series: [
        {
          symbol: 'BTCUSDC',
          requestedInterval: '1h',
          interval: '1h',
          openTime: [T0, T0 + H, T0 + 2 * H],
          indicators: [
            {
              name: 'sma',
              key: 'sma-2',
              params: { period: 2 },
              outputs: { sma: [42300.5, 42535.005, 42618.39] },
            },
          ],
        },
      ],
    },
  },
  'logs/subscribe': {
    params: { level: 'info', tail: 50 },
    result: { subscribed: true, logFile: '/home/me/threadx/data/logs/daemon.log' },
  },
  'watch/add': {
    params: { symbols: ['BTCUSDC', 'ETHUSDC'], intervals: ['5m', '1h'] },
    result: {
      state: 'following',
      symbols: ['BTCUSDC', 'ETHUSDC'],
      intervals: ['5m', '1h'],
      connections: 1,
      connected: 1,
      lastStored: 1714597260000,
      lagMs: 1200,
      stored: 184,
      backfilled: 3,
      corrected: 0,
      restWeight: 14,
      reconnects: 0,
    },
  },
  'watch/remove': {
    params: { symbols: ['ETHUSDC'] },
    result: {
      state: 'following',
      symbols: ['BTCUSDC'],
      intervals: ['5m', '1h'],
      connections: 1,
      connected: 1,
      lastStored: 1714597260000,
      lagMs: 1200,
      stored: 184,
      backfilled: 3,
      corrected: 0,
      restWeight: 14,
      reconnects: 0,
    },
  },
  'watch/list': { params: undefined, result: { symbols: ['BTCUSDC', 'ETHUSDC'] } },
  'watch/status': {
    params: undefined,
    result: {
      state: 'following',
      symbols: ['BTCUSDC', 'ETHUSDC'],
      intervals: ['5m', '1h'],
      connections: 1,
      connected: 1,
      lastStored: 1714597260000,
      lagMs: 1200,
      stored: 184,
      backfilled: 3,
      corrected: 0,
      restWeight: 14,
      reconnects: 0,
    },
  },
  'coverage/get': {
    params: {
      symbols: ['ETHUSDT'],
      start: '2023-03-22',
      end: '2023-03-26',
      bucket: 'day',
    },
    result: {
      bucket: 'day',
      start: 1679443200000,
      end: 1679788800000,
      buckets: [1679443200000, 1679529600000, 1679616000000, 1679702400000],
      symbols: [
        {
          symbol: 'ETHUSDT',
          held: true,
          total: { real: 2800, filled: 0, outage: 80, unlisted: 1440, notFetched: 1440, failed: 0 },
          counts: {
            real: [0, 0, 1360, 1440],
            filled: [0, 0, 0, 0],
            outage: [0, 0, 80, 0],
            unlisted: [0, 1440, 0, 0],
            notFetched: [1440, 0, 0, 0],
            failed: [0, 0, 0, 0],
          },
        },
      ],
    },
  },
  exit: { params: undefined },
  '$/progress': {
    params: {
      token: 'p1',
      value: { kind: 'report', message: '1/3 symbols · ETHUSDC: 12 request(s)', percentage: 40 },
    },
  },
  '$/cancelRequest': { params: { id: 7 } },
  'registry/changed': {
    params: { changed: ['BTCUSDC/1h', 'BTCUSDC/1m'], removed: [], reason: 'ingest' },
  },
  'log/message': {
    params: { level: 'info', time: T0, message: 'registry changed (ingest): 2 written, 0 removed' },
  },
};
