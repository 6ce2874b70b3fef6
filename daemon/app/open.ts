/**
 * Assembles the application for a long-lived process: opens the bank once (its registry kept in
 * memory), makes the exchange client on first use, and returns the `Services` every use case
 * shares. The daemon wraps this in its transports.
 */
import type { Config } from '../../schemas/config.ts';
import { codecPool } from '../store/codec-pool.ts';
import { type BinanceRestClient, restClientFromConfig } from '../sources/rest.ts';
import type { Market } from '../../schemas/markets.ts';
import { openBank } from './bank.ts';
import type { BankLock } from '../store/lock.ts';
import { type AppLogger, type AppState, type ChangeReason } from './services.ts';

export interface OpenOptions {
  dataDir: string;
  config: Config;
  configFile?: string | null;
  logger: AppLogger;
  /** For tests: the exchange's fetch. */
  fetch?: typeof fetch;
  broadcastChanged: (changed: string[], removed: string[], reason: ChangeReason) => void;
  /** The bank's lock, held by the daemon (it is then the bank's one writer). */
  lock?: BankLock;
}

export async function openAppState(opts: OpenOptions): Promise<AppState> {
  const { config } = opts;
  const bank = await openBank(opts.dataDir, config, opts.lock ? { lock: opts.lock } : {});
  const rest = new Map<Market, BinanceRestClient>();
  return {
    bank,
    config,
    configFile: opts.configFile ?? null,
    dataDir: bank.layout.root,
    logger: opts.logger,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    rest: (market: Market = 'spot') => {
      let client = rest.get(market);
      if (!client) {
        client = restClientFromConfig(config.data.api, {
          market,
          ...(opts.fetch ? { fetch: opts.fetch } : {}),
        });
        rest.set(market, client);
      }
      return client;
    },
    broadcastChanged: opts.broadcastChanged,
  };
}

/** Starts the Parquet codec workers (a long-lived process, once a client is connected). */
export function warmCodecs(): void {
  codecPool().warm();
}
