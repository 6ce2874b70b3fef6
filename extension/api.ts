/**
 * The API other extensions get from `activate()` (see `api-model.ts` for its types and
 * docs/extension.md for an example): the user's selected dataset, kept in workspace state, and
 * reads through this window's daemon, so a strategy or backtest extension needs no second daemon.
 */
import * as vscode from 'vscode';
import type { Ctx } from './ctx.ts';
import {
  API_VERSION,
  type BankChange,
  type ThreadxDataApi,
  indicatorColumns,
} from './api-model.ts';
import type { DatasetSelection } from './selection.ts';

const DEFAULT_MAX_POINTS = 1_000_000;

export function createApi(ctx: Ctx, selection: DatasetSelection = ctx.selection): ThreadxDataApi {
  const bank = new vscode.EventEmitter<BankChange>();
  ctx.push(
    bank,
    ctx.daemon.onDidConnect((conn) => {
      conn.client.onNotification('registry/changed', (p) =>
        bank.fire({ changed: p.changed, removed: p.removed }),
      );
    }),
  );
  return {
    version: API_VERSION,
    get selection() {
      return selection.current;
    },
    onDidChangeSelection: selection.onDidChange,
    select: (dataset) => selection.set(dataset),
    async listDatasets() {
      const client = await ctx.client();
      return (await client.request('registry/list', {})).datasets;
    },
    async readCandles(dataset, range = {}) {
      const client = await ctx.client();
      const r = await client.request('data/read', {
        symbol: dataset.symbol,
        interval: dataset.interval,
        ...(range.start !== undefined ? { start: range.start } : {}),
        ...(range.end !== undefined ? { end: range.end } : {}),
        maxPoints: range.maxPoints ?? DEFAULT_MAX_POINTS,
        exact: true,
      });
      return {
        symbol: r.symbol,
        interval: r.interval,
        length: r.length,
        truncated: r.truncated,
        columns: r.columns,
      };
    },
    async readIndicators(dataset, indicators, range = {}) {
      const client = await ctx.client();
      const { series } = await client.request('indicators/read', {
        symbols: [dataset.symbol],
        intervals: [dataset.interval],
        indicators: indicators.map((i) => ({ name: i.name, params: i.params ?? {} })),
        ...(range.start !== undefined ? { start: range.start } : {}),
        ...(range.end !== undefined ? { end: range.end } : {}),
        maxPoints: range.maxPoints ?? DEFAULT_MAX_POINTS,
        exact: true,
      });
      const s = series[0];
      return {
        symbol: s.symbol,
        interval: s.interval,
        openTime: s.openTime,
        columns: indicatorColumns(s.indicators),
      };
    },
    onDidChangeBank: bank.event,
  };
}
