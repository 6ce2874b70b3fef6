/**
 * `ingest --join` and `repair --join`: the bank's one writer is the daemon serving it, so the
 * command runs there (`ingest/run`, `registry/repair` over its socket or port), as the VS Code
 * extension does. Wired into the CLI by the entry point (`cli/bin.ts`).
 */
import { promises as fsp } from 'node:fs';
import type { JoinIngest, JoinRepair } from '../app/command.ts';
import { ThreadxClient } from './client.ts';
import { findDaemon } from './lifecycle.ts';

/** Connects to the daemon serving `dataDir` and runs `use` on the client; null when none does. */
async function withDaemon<T>(
  dataDir: string,
  name: string,
  use: (client: ThreadxClient) => Promise<T>,
): Promise<{ pid: number; result: T } | null> {
  const info = await findDaemon(dataDir);
  if (!info?.endpoint) return null;
  const ep = info.endpoint;
  const client =
    ep.kind === 'socket'
      ? await ThreadxClient.connectSocket(ep.path)
      : await ThreadxClient.connectPort(ep.port, ep.host);
  try {
    const token =
      ep.kind === 'port' ? (await fsp.readFile(ep.tokenFile, 'utf8')).trim() : undefined;
    await client.initialize({ clientInfo: { name }, ...(token ? { token } : {}) });
    return { pid: info.pid, result: await use(client) };
  } finally {
    client.close();
  }
}

export const joinIngest: JoinIngest = (dataDir, params) =>
  withDaemon(dataDir, 'threadx ingest --join', (client) => client.request('ingest/run', params));

export const joinRepair: JoinRepair = (dataDir, params, onProgress) =>
  withDaemon(dataDir, 'threadx repair --join', (client) =>
    client.request('registry/repair', params, {
      ...(onProgress
        ? {
            onProgress: (p) => {
              if (p.message) onProgress(p.message);
            },
          }
        : {}),
    }),
  );
