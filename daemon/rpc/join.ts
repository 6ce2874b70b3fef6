/**
 * `ingest --join`: the bank's one writer is the daemon serving it, so the ingest runs there
 * (`ingest/run` over its socket or port), as the VS Code extension does. Wired into the CLI by the
 * entry point (`cli/bin.ts`).
 */
import { promises as fsp } from 'node:fs';
import type { JoinIngest } from '../app/command.ts';
import { ThreadxClient } from './client.ts';
import { findDaemon } from './lifecycle.ts';

export const joinIngest: JoinIngest = async (dataDir, params) => {
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
    await client.initialize({
      clientInfo: { name: 'threadx ingest --join' },
      ...(token ? { token } : {}),
    });
    const result = await client.request('ingest/run', params);
    return { pid: info.pid, result };
  } finally {
    client.close();
  }
};
