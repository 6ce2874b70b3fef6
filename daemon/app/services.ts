/**
 * The state the use cases share in a long-lived process (the daemon): the bank, the config, the
 * exchange client made on first use, the symbol locks and the registry view whose changes become
 * `registry/changed`. The CLI runs the same use cases over a `Services` of its own.
 */
import type { Config } from '../../schemas/config.ts';
import type { SymbolProgress } from '../../schemas/protocol.ts';
import type { Bank } from '../store/bank.ts';
import type { BinanceRestClient } from '../sources/rest.ts';
import type { Market } from '../../schemas/markets.ts';
import type { IngestDeps } from '../jobs/ingest.ts';
import { ALL, KeyedLock } from './locks.ts';
import { RegistryView } from './registry-view.ts';

/** Where a use case logs (the daemon's rotating log; the CLI's stderr). */
export interface AppLogger {
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string, e?: unknown): void;
}

export interface AppState {
  bank: Bank;
  config: Config;
  configFile: string | null;
  dataDir: string;
  logger: AppLogger;
  /**
   * The exchange client of a market (default spot), created on first use (so a process that
   * only reads never connects).
   */
  rest: (market?: Market) => BinanceRestClient;
  /** Tells every client what changed in the registry (`registry/changed`). */
  broadcastChanged: (changed: string[], removed: string[], reason: ChangeReason) => void;
  fetch?: typeof fetch;
}

export type ChangeReason =
  'ingest' | 'delete' | 'derive' | 'indicators' | 'import' | 'verify' | 'repair' | 'watch';

/** Progress of a job, as the caller shows it (`$/progress` in the daemon, a line in the CLI). */
export interface ProgressSink {
  begin(title: string, message?: string, cancellable?: boolean): void;
  /** `symbols`: batch jobs' per-symbol states that changed (never dropped, even when throttled). */
  report(done: number, total: number, message?: string, symbols?: SymbolProgress[]): void;
  end(message?: string): void;
}

/** What every use case receives from its caller: cancellation and a progress sink. */
export interface JobContext {
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
}

/** A progress sink that shows nothing. */
export const NO_PROGRESS: ProgressSink = { begin() {}, report() {}, end() {} };

/** Shared by the use cases: locks and the registry view. */
export class Services {
  readonly locks = new KeyedLock();
  readonly registry: RegistryView;
  private lastFlush = 0;

  constructor(readonly state: AppState) {
    this.registry = new RegistryView(state.bank);
  }

  /** Broadcasts what changed in the registry since the last flush. */
  flushChanges(reason: ChangeReason): void {
    this.lastFlush = performance.now();
    const { changed, removed } = this.registry.diff();
    if (changed.length || removed.length) this.state.broadcastChanged(changed, removed, reason);
  }

  /** During a long job: flush at most twice a second. */
  maybeFlush(reason: ChangeReason): void {
    if (performance.now() - this.lastFlush >= 500) this.flushChanges(reason);
  }

  /**
   * Runs a job that writes `symbols`: their keys exclusively, the bank key shared (so `verify`
   * waits), with the registry cache bypassed while it runs and the changes broadcast after.
   */
  async writing<T>(
    symbols: readonly string[],
    reason: ChangeReason,
    ctx: Pick<JobContext, 'signal'>,
    fn: () => Promise<T>,
  ): Promise<T> {
    return this.locks.run(
      { exclusive: symbols.map((s) => `symbol:${s}`), shared: [ALL] },
      async () => {
        const done = this.registry.beginWrite();
        try {
          return await fn();
        } finally {
          done();
          this.flushChanges(reason);
        }
      },
      ctx.signal,
    );
  }

  /** Runs bank-wide work (verify) alone. */
  exclusive<T>(ctx: Pick<JobContext, 'signal'>, fn: () => Promise<T>): Promise<T> {
    return this.locks.run({ exclusive: [ALL] }, fn, ctx.signal);
  }

  ingestDeps(market: Market = 'spot'): IngestDeps {
    const { bank, config, logger } = this.state;
    return {
      bank,
      config,
      rest: this.state.rest(market),
      restFor: (m: Market) => this.state.rest(m),
      archiveBaseUrl: config.data.api.archive_url,
      ...(this.state.fetch ? { fetch: this.state.fetch } : {}),
      log: (level, message) => logger.log(level, message),
    };
  }
}
