/**
 * In-process daemon + client over paired streams, on a temporary data directory seeded with
 * synthetic 1m candles through the bank's own writer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { defaultConfig, type Config } from '../../schemas/config.ts';
import type { NotificationParams, DaemonNotificationMethod } from '../../schemas/protocol.ts';
import { createDaemon, type Daemon } from '../../daemon/rpc/daemon.ts';
import { ThreadxClient } from '../../daemon/rpc/client.ts';
import { Logger } from '../../daemon/rpc/logger.ts';
import { synth1m } from './synth.ts';

export const JAN_2024 = Date.UTC(2024, 0, 1);
export const DAY = 86_400_000;

export async function tempDir(prefix = 'threadx-rpc-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export interface Harness {
  dir: string;
  daemon: Daemon;
  client: ThreadxClient;
  /** Another client on the same daemon. */
  connect(initialize?: boolean): Promise<ThreadxClient>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Symbols to seed with `days` of synthetic 1m candles from 2024-01-01 (default BTCUSDC: 3). */
  seed?: Record<string, number>;
  /** Derive these intervals after seeding. */
  derive?: Parameters<Daemon['bank']['derive']>[1];
  config?: (c: Config) => void;
  fetch?: typeof fetch;
  initialize?: boolean;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = await tempDir();
  const config = defaultConfig();
  config.data.root = dir;
  opts.config?.(config);
  const daemon = await createDaemon({
    dataDir: dir,
    config,
    logger: new Logger({ level: 'debug' }),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const seed = opts.seed ?? { BTCUSDC: 3 };
  let i = 0;
  for (const [symbol, days] of Object.entries(seed)) {
    await daemon.bank.write1m(symbol, synth1m(JAN_2024, days * 1440, ++i), 'test');
    if (opts.derive?.length) await daemon.bank.derive(symbol, opts.derive);
  }
  // The seed was written behind the server's back: make it the baseline of registry/changed.
  daemon.services.registry.diff();
  const clients: ThreadxClient[] = [];
  const connect = async (initialize = true): Promise<ThreadxClient> => {
    const { input, output } = daemon.connectInMemory();
    const client = ThreadxClient.overStreams(output, input);
    clients.push(client);
    if (initialize) await client.initialize({ clientInfo: { name: 'test' } });
    return client;
  };
  const client = await connect(opts.initialize ?? true);
  return {
    dir,
    daemon,
    client,
    connect,
    async close() {
      for (const c of clients) c.close();
      await daemon.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves with the params of the next `method` notification the client receives. */
export function nextNotification<M extends DaemonNotificationMethod>(
  client: ThreadxClient,
  method: M,
  predicate: (p: NotificationParams<M>) => boolean = () => true,
): Promise<NotificationParams<M>> {
  return new Promise((resolve) => {
    const d = client.onNotification(method, (p) => {
      if (!predicate(p)) return;
      d.dispose();
      resolve(p);
    });
  });
}

export { once };
