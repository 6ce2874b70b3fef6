/**
 * Assembles a daemon: the bank (opened once, its registry kept in memory), the logger, the
 * exchange client, the handlers and the server. Transports attach connections to `server`; tests
 * do the same over paired streams.
 */
import { PassThrough } from 'node:stream';
import type { Config } from '../../schemas/config.ts';
import type { Bank } from '../app/bank.ts';
import type { BankLock } from '../app/bank-lock.ts';
import { openAppState, warmCodecs } from '../app/open.ts';
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
  let server: RpcServer | null = null;
  const state = await openAppState({
    dataDir,
    config,
    configFile: opts.configFile ?? null,
    logger,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.lock ? { lock: opts.lock } : {}),
    broadcastChanged: (changed, removed, reason) => {
      logger.info(
        `registry changed (${reason}): ${changed.length} written, ${removed.length} removed`,
      );
      server?.broadcast('registry/changed', { changed, removed, reason });
    },
  });
  const { bank } = state;
  const { handlers, services, stop } = createHandlers({ ...state, logger });
  server = new RpcServer({
    handlers,
    logger,
    // The watch folds what it received into the bank before the daemon exits.
    onShutdown: stop,
    // A long-lived process: start the Parquet codec workers once a client is connected.
    onInitialized: () => warmCodecs(),
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
