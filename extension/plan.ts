/** Estimates shown with a dry run: exchange weight and wall time of a plan. No `vscode`. */
import { KLINES, estimateSeconds } from '../schemas/contracts.ts';
import type { Result, SymbolProgress } from '../schemas/protocol.ts';
import type { PlanView, SymbolJobState } from '../webviews/messages.ts';

export function planView(
  plan: Result<'ingest/plan'>,
  opts: { concurrency: number; weightPerMinute?: number; safetyMargin?: number },
): PlanView {
  // The daemon's own estimate wins when it sends one (protocol 1.x may add it).
  const totals = plan.totals as typeof plan.totals & { weight?: number; estimatedSeconds?: number };
  const weight = totals.weight ?? plan.totals.requests * KLINES.weight;
  const budget = (opts.weightPerMinute ?? 6000) * (1 - (opts.safetyMargin ?? 0.1));
  return {
    items: plan.items,
    skipped: plan.skipped ?? [],
    totals: plan.totals,
    weight,
    seconds:
      totals.estimatedSeconds ??
      estimateSeconds({
        requests: plan.totals.requests,
        archives: plan.totals.archives,
        weight,
        concurrency: opts.concurrency,
        weightPerSecond: budget / 60,
      }),
  };
}

/** Mean of the per-symbol percentages: the overall bar of a batch. */
export function overallPercentage(perSymbol: number[]): number {
  if (perSymbol.length === 0) return 0;
  return perSymbol.reduce((a, b) => a + b, 0) / perSymbol.length;
}

/** A symbol's state in the daemon's progress, as the panel draws its bar. */
export function symbolView(s: SymbolProgress): {
  state: SymbolJobState;
  percentage: number;
  message?: string;
} {
  const state: SymbolJobState =
    s.phase === 'queued'
      ? 'queued'
      : s.phase === 'done'
        ? 'done'
        : s.phase === 'error' || s.phase === 'skipped'
          ? 'failed'
          : 'running';
  const percentage =
    state === 'done' || state === 'failed'
      ? 100
      : s.requestsTotal > 0
        ? Math.min(99, Math.floor((100 * s.requestsDone) / s.requestsTotal))
        : 0;
  return { state, percentage, ...(s.message ? { message: s.message } : {}) };
}
