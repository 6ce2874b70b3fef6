/**
 * The long requests (ingest, indicators, verify) as jobs with progress, cancellation and a
 * summary message with actions. Used by the palette commands, the tree and the data manager.
 */
import * as vscode from 'vscode';
import type { Interval } from '../schemas/intervals.ts';
import type { Params, Result } from '../schemas/protocol.ts';
import type { IndicatorChoice } from '../webviews/messages.ts';
import type { Ctx } from './ctx.ts';
import { describeError } from './errors.ts';
import { messages } from './messages.ts';

export interface JobOptions {
  location?: vscode.ProgressLocation;
  external?: AbortSignal;
  /** Show the summary message (the data manager shows its own). */
  quiet?: boolean;
}

export async function runIngest(
  ctx: Ctx,
  params: Params<'ingest/run'>,
  label: string,
  opts: JobOptions = {},
): Promise<Result<'ingest/run'> | undefined> {
  const t0 = Date.now();
  try {
    const client = await ctx.client();
    const result = await ctx.runJob(
      messages.downloadTitle(label),
      (job) =>
        client.request('ingest/run', params, { signal: job.signal, onProgress: job.onProgress }),
      opts,
    );
    const { rows, errors } = result.totals;
    for (const s of result.symbols) {
      if (s.error) ctx.log.error(`${s.symbol}: ${s.error.message}`);
      else ctx.log.info(`${s.symbol}: ${s.rows} new 1m candles, ${s.requests} request(s)`);
    }
    if (!opts.quiet) {
      const text =
        rows === 0 && errors === 0
          ? messages.downloadUpToDate(result.symbols.length)
          : messages.downloadDone(result.symbols.length, rows, errors, Date.now() - t0);
      const first = result.symbols.find((s) => !s.error);
      const actions = [first ? messages.preview() : undefined, messages.showLogs()].filter(
        (a): a is string => a !== undefined,
      );
      const show = errors ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
      void show(text, ...actions).then((pick) => {
        if (pick === messages.showLogs()) ctx.log.show();
        else if (pick === messages.preview() && first) {
          const interval: Interval = first.derived[0] ?? params.intervals?.[0] ?? '1m';
          void vscode.commands.executeCommand('threadx.previewDataset', {
            symbol: first.symbol,
            interval,
          });
        }
      });
    }
    return result;
  } catch (e) {
    if (!opts.quiet) ctx.reportFailure(messages.downloadTitle(label).replace('ThreadX: ', ''), e);
    throw e;
  }
}

export async function runIndicators(
  ctx: Ctx,
  selection: { symbols: string[]; datasets?: { symbol: string; interval: Interval }[] },
  intervals: Interval[],
  indicators: IndicatorChoice[],
  opts: JobOptions = {},
): Promise<{ updated: number; failed: number }> {
  try {
    const client = await ctx.client();
    const { items } = await ctx.runJob(
      messages.indicatorsTitle(),
      (job) =>
        client.request(
          'indicators/update',
          {
            symbols: selection.symbols,
            intervals,
            indicators,
            ...(selection.datasets ? { datasets: selection.datasets } : {}),
          },
          { signal: job.signal, onProgress: job.onProgress },
        ),
      opts,
    );
    const failed = items.filter((i) => i.error);
    for (const f of failed)
      ctx.log.error(`${f.symbol} ${f.interval} ${f.key}: ${f.error!.message}`);
    const updated = items.length - failed.length;
    if (!opts.quiet) {
      const text = failed.length
        ? `${messages.indicatorsDone(updated)} ${messages.indicatorsFailed(failed.length)}`
        : messages.indicatorsDone(updated);
      void vscode.window.showInformationMessage(text, messages.showLogs()).then((p) => {
        if (p) ctx.log.show();
      });
    }
    return { updated, failed: failed.length };
  } catch (e) {
    if (!opts.quiet) ctx.reportFailure('Updating indicators', e);
    throw e;
  }
}

export async function runVerify(
  ctx: Ctx,
  opts: JobOptions = {},
): Promise<Result<'registry/verify'>> {
  try {
    const client = await ctx.client();
    const result = await ctx.runJob(
      messages.verifyTitle(),
      (job) =>
        client.request('registry/verify', {}, { signal: job.signal, onProgress: job.onProgress }),
      opts,
    );
    const bad = result.issues.filter((i) => i.status !== 'ok');
    ctx.registry.setVerify(result.checked, bad);
    for (const i of bad)
      ctx.log.error(`verify: ${i.status} ${i.path}${i.detail ? `: ${i.detail}` : ''}`);
    if (!opts.quiet) {
      if (bad.length === 0)
        void vscode.window.showInformationMessage(messages.verifyOk(result.checked));
      else {
        // The way out is offered with the finding: Repair, for the symbols with a problem.
        const symbols = [
          ...new Set(bad.map((i) => i.dataset?.split('/')[0]).filter((x): x is string => !!x)),
        ];
        void vscode.window
          .showErrorMessage(
            messages.verifyProblems(bad.length, result.checked, `${bad[0].status} ${bad[0].path}`),
            ...(symbols.length ? [messages.repairAction()] : []),
            messages.showLogs(),
          )
          .then((p) => {
            if (p === messages.repairAction()) void runRepair(ctx, symbols).catch(() => undefined);
            else if (p) ctx.log.show();
          });
      }
    }
    return result;
  } catch (e) {
    if (!opts.quiet) ctx.reportFailure('Verify', e);
    throw e;
  }
}

/** `registry/repair` for `symbols`, with progress; says per symbol what was done or why not. */
export async function runRepair(
  ctx: Ctx,
  symbols: string[],
  opts: JobOptions = {},
): Promise<Result<'registry/repair'>> {
  try {
    const client = await ctx.client();
    const result = await ctx.runJob(
      messages.repairTitle(symbols.join(', ')),
      (job) =>
        client.request(
          'registry/repair',
          { symbols },
          { signal: job.signal, onProgress: job.onProgress },
        ),
      opts,
    );
    for (const r of result.results) {
      for (const i of r.remaining)
        ctx.log.error(`repair: ${r.symbol}: still ${i.status} ${i.path}`);
      if (!r.ok && !opts.quiet)
        ctx.showError(
          messages.repairFailed(
            r.symbol,
            r.error?.message ?? r.remaining.map((i) => `${i.status} ${i.path}`).join(', '),
          ),
        );
    }
    if (!opts.quiet && result.ok) {
      const fixed = result.results.filter((r) => r.found.length).map((r) => r.symbol);
      void vscode.window.showInformationMessage(
        fixed.length ? messages.repaired(fixed) : messages.repairSound(symbols),
      );
    }
    return result;
  } catch (e) {
    if (!opts.quiet) ctx.reportFailure('Repair', e);
    throw e;
  }
}

export function errorText(e: unknown): string {
  return describeError(e);
}
