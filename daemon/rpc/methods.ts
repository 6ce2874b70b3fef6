/**
 * The method table: each handler gets validated params (the server parsed them with the
 * protocol's schemas), calls one use case of `daemon/app/` and returns its result. No application
 * logic lives here.
 */
import type { Result } from '../../schemas/protocol.ts';
import { runIngestUseCase, planIngestUseCase } from '../app/ingest.ts';
import { readIndicators, updateIndicatorsRequest } from '../app/indicators.ts';
import { coverageCounts } from '../app/coverage.ts';
import { exportData, readForChart } from '../app/data.ts';
import { deleteDataset, listRegistry, registryListJson, verifyBank } from '../app/registry.ts';
import { repairUseCase } from '../app/repair.ts';
import { type AppState, Services } from '../app/services.ts';
import {
  groupsUseCase,
  searchSymbolsUseCase,
  selectSymbols,
  topSymbolsUseCase,
} from '../app/symbols.ts';
import { WatchService } from '../app/watch.ts';
import type { Logger } from './logger.ts';
import { type Handlers, RawJson } from './server.ts';

export type DaemonState = AppState & { logger: Logger };
export type { ChangeReason } from '../app/services.ts';
/** The services of a daemon (the application layer's shared state). */
export type DaemonServices = Services;

export function createHandlers(state: DaemonState): {
  handlers: Handlers;
  services: Services;
  /** Stops what runs beside the requests (the watch), at shutdown. */
  stop: () => Promise<void>;
} {
  const svc = new Services(state);
  const watch = new WatchService(svc);
  const { logger } = state;

  const handlers: Handlers = {
    'config/get': () => ({ config: state.config, file: state.configFile, dataDir: state.dataDir }),
    'symbols/search': (p, ctx) => searchSymbolsUseCase(svc, p, ctx),
    'symbols/top': (p, ctx) => topSymbolsUseCase(svc, p, ctx),
    'symbols/groups': () => groupsUseCase(svc),
    'ingest/plan': (p, ctx) => planIngestUseCase(svc, p, ctx),
    'ingest/run': (p, ctx) => runIngestUseCase(svc, p, ctx),
    'registry/list': (p) =>
      // The common case, the full list: served from a cached serialisation.
      !p.filter && !p.details
        ? registryListJson(svc).then((t) => new RawJson(t) as unknown as Result<'registry/list'>)
        : listRegistry(svc, p),
    'registry/verify': (_p, ctx) => verifyBank(svc, ctx),
    'registry/repair': (p, ctx) => repairUseCase(svc, p, ctx),
    'registry/delete': (p, ctx) => deleteDataset(svc, p, ctx),
    'data/read': (p) => readForChart(svc, p),
    'data/export': (p, ctx) => exportData(svc, p, ctx),
    'indicators/update': async (p, ctx) =>
      updateIndicatorsRequest(svc, await selectSymbols(svc, p, ctx), p, ctx),
    'indicators/read': async (p, ctx) => ({
      series: await readIndicators(state.bank, await selectSymbols(svc, p, ctx), p),
    }),
    'watch/add': (p, ctx) => watch.add(p, ctx),
    'watch/remove': (p) => watch.remove(p),
    'watch/list': () => watch.list(),
    'watch/status': () => watch.status(),
    'coverage/get': (p) => coverageCounts(state.bank, p),
    'logs/subscribe': (p, ctx) => {
      const conn = ctx.connection;
      if (!p.enabled) {
        conn.subscribeLogs(null);
        return { subscribed: false, logFile: logger.file };
      }
      for (const r of logger.tail(p.tail, p.level)) {
        conn.notify('log/message', { level: r.level, time: r.time, message: r.message });
      }
      const min = p.level;
      const rank = { debug: 10, info: 20, warn: 30, error: 40 } as const;
      conn.subscribeLogs((level, time, message) => {
        const l = level as keyof typeof rank;
        if (rank[l] >= rank[min]) conn.notify('log/message', { level: l, time, message });
      });
      return { subscribed: true, logFile: logger.file };
    },
  };
  return { handlers, services: svc, stop: () => watch.stop() };
}
