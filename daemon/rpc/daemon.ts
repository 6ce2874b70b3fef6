/**
 * Assembles a daemon: the bank (opened once, its registry kept in memory), the logger, the
 * exchange client, the handlers and the server. Transports attach connections to `server`; tests
 * do the same over paired streams.
 */
import { codecPool } from '../store/codec-pool.ts';
import { PassThrough } from 'node:stream';
import type { Config } from '../../schemas/config.ts';
import { Bank } from '../store/bank.ts';
import type { BankLock } from '../store/lock.ts';
import { type BinanceRestClient, restClientFromConfig } from '../sources/rest.ts';
import { type MessageTransport, type ReaderOptions, streamTransport } from './framing.ts';
import { Logger } from './logger.ts';
import { createHandlers, type DaemonServices } from './methods.ts';
import { type Connection, type ConnectionOptions, RpcServer } from './server.ts';

export { PRODUCT_VERSION } from '../version.ts';
import { PRODUCT_VERSION } from '../version.ts';

export interface DaemonOptions {
  dataDir: string;
  config: Config;
  configFile?: string | null;
  /** Default: a rotating file logger under `<data>/logs`. */
  logger?: Logger;
  /** For tests: the exchange's fetch. */
  fetch?: typeof fetch;
  /** The bank's lock, held by `serve` (the daemon is then the bank's one writer). */
  lock?: BankLock;
}

export interface Daemon {
  server: RpcServer;
  services: DaemonServices;
  bank: Bank;
  logger: Logger;
  /** Connects a client over a pair of in-memory streams (tests, benchmarks). */
  connectInMemory(opts?: ConnectionOptions & { reader?: ReaderOptions }): {
    connection: Connection;
    input: PassThrough;
    output: PassThrough;
  };
  /** Cancels running requests, waits for them, closes every connection and the log. */
  close(): Promise<void>;
}

export async function createDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { config, dataDir } = opts;
  const logger =
    opts.logger ??
    new Logger({
      dir: `${dataDir}/${config.data.logs}`,
      level: config.logging.level,
      maxFileBytes: config.logging.max_file_bytes,
      maxFiles: config.logging.max_files,
    });
  const bank = await Bank.open(dataDir, {
    maxGapFillMinutes: Math.round(config.data.processing.max_gap_fill_hours * 60),
    ...(opts.lock ? { lock: opts.lock } : {}),
  });
  let rest: BinanceRestClient | null = null;
  let server: RpcServer | null = null;
  const { handlers, services } = createHandlers({
    bank,
    config,
    configFile: opts.configFile ?? null,
    dataDir: bank.layout.root,
    logger,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    rest: () =>
      (rest ??= restClientFromConfig(config.data.api, opts.fetch ? { fetch: opts.fetch } : {})),
    broadcastChanged: (changed, removed, reason) => {
      logger.info(
        `registry changed (${reason}): ${changed.length} written, ${removed.length} removed`,
      );
      server?.broadcast('registry/changed', { changed, removed, reason });
    },
  });
  server = new RpcServer({
    handlers,
    logger,
    // A long-lived process: start the Parquet codec workers once a client is connected.
    onInitialized: () => codecPool().warm(),
    info: {
      version: PRODUCT_VERSION,
      dataDir: bank.layout.root,
      ingest: Boolean(handlers['ingest/run']),
      indicators: Boolean(handlers['indicators/update']),
    },
  });
  const srv = server;
  return {
    server: srv,
    services,
    bank,
    logger,
    connectInMemory(copts) {
      // Client writes to `input`, daemon writes to `output`.
      const input = new PassThrough();
      const output = new PassThrough();
      const transport: MessageTransport = streamTransport(input, output, copts?.reader);
      const connection = srv.connect(transport, copts);
      return { connection, input, output };
    },
    async close() {
      await srv.shutdown();
      for (const c of [...srv.connections]) c.close();
      logger.close();
    },
  };
}
