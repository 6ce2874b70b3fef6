/** Palette flows: quick picks and input boxes with validation, each answering undefined on Escape. */
import * as vscode from 'vscode';
import { DERIVED_INTERVALS, type Interval } from '../schemas/intervals.ts';
import type { DatasetSummary } from '../schemas/protocol.ts';
import { INDICATOR_PRESETS, type IndicatorChoice } from '../webviews/messages.ts';
import type { Ctx } from './ctx.ts';
import { describeError } from './errors.ts';
import { sentence, utcMinute } from './format.ts';
import { parseSymbolList, validateDate, validateSymbolList } from './ingest-form.ts';
import { messages } from './messages.ts';
import { repairChoices } from './repair-model.ts';

export async function pickIntervals(
  defaults: readonly Interval[],
  title = messages.pickIntervals(),
): Promise<Interval[] | undefined> {
  const picked = await vscode.window.showQuickPick(
    DERIVED_INTERVALS.map((i) => ({ label: i, picked: defaults.includes(i) })),
    { canPickMany: true, title, placeHolder: title, ignoreFocusOut: true },
  );
  return picked?.map((p) => p.label);
}

export interface DateRange {
  start: string;
  end: string | undefined;
}

export async function pickDateRange(defaultStart?: string): Promise<DateRange | undefined> {
  const start = await vscode.window.showInputBox({
    title: messages.startDate(),
    prompt: messages.startDate(),
    placeHolder: '2024-01-01',
    value: defaultStart,
    ignoreFocusOut: true,
    validateInput: (v) => validateDate(v),
  });
  if (start === undefined) return undefined;
  const end = await vscode.window.showInputBox({
    title: messages.endDate(),
    prompt: messages.endDate(),
    placeHolder: 'now',
    ignoreFocusOut: true,
    validateInput: (v) => {
      const bad = validateDate(v, true);
      if (bad || !v.trim()) return bad;
      return Date.parse(v) <= Date.parse(start) ? messages.endBeforeStart() : undefined;
    },
  });
  if (end === undefined) return undefined;
  return { start: start.trim(), end: end.trim() || undefined };
}

/**
 * Symbols with search: typing asks the daemon's `symbols/search` (exchangeInfo); the typed text
 * itself, as a list, is accepted too, so the flow also works offline with known symbols.
 */
export async function pickSymbols(ctx: Ctx): Promise<string[] | undefined> {
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
  qp.title = messages.pickSymbols();
  qp.placeholder = messages.symbolsPlaceholder();
  qp.canSelectMany = true;
  qp.ignoreFocusOut = true;
  qp.matchOnDescription = true;
  // QuickPick has no validation message in the stable API (1.90): the title carries it, as a
  // plain sentence (a title does not render codicons).
  const problem = (text: string | undefined): void => {
    qp.title = text ? sentence(text) : messages.pickSymbols();
  };
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const search = (value: string): void => {
    const query = value.split(/[\s,;]+/).pop() ?? '';
    const mine = ++seq;
    clearTimeout(timer);
    if (!query) return;
    // Debounce the typing, not a test: searches go out at most every 150 ms.
    timer = setTimeout(() => {
      qp.busy = true;
      ctx
        .client()
        .then((c) => c.request('symbols/search', { query, limit: 50 }))
        .then(
          ({ matches }) => {
            if (mine !== seq) return;
            const kept = qp.selectedItems;
            qp.items = [
              ...kept,
              ...matches
                .filter((m) => !kept.some((k) => k.label === m.symbol))
                .map((m) => ({
                  label: m.symbol,
                  description: `${m.base} / ${m.quote}`,
                  detail: m.status === 'TRADING' ? undefined : m.status,
                })),
            ];
            qp.selectedItems = kept;
          },
          (e: unknown) => {
            problem(describeError(e));
          },
        )
        .finally(() => {
          if (mine === seq) qp.busy = false;
        });
    }, 150);
  };
  return new Promise((resolve) => {
    qp.onDidChangeValue((v) => {
      problem(undefined);
      search(v);
    });
    qp.onDidAccept(() => {
      const chosen = qp.selectedItems.map((i) => i.label);
      if (chosen.length === 0) {
        const bad = validateSymbolList(qp.value);
        if (bad) {
          problem(bad);
          return;
        }
        chosen.push(...parseSymbolList(qp.value).symbols);
      }
      resolve(chosen);
      qp.hide();
    });
    qp.onDidHide(() => {
      clearTimeout(timer);
      resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

export async function pickDataset(
  ctx: Ctx,
  filter: (d: DatasetSummary) => boolean = (d) => d.kind === 'candles',
): Promise<DatasetSummary | undefined> {
  await ctx.registry.refresh();
  const datasets = ctx.registry.datasets.filter(filter);
  if (datasets.length === 0) {
    void vscode.window
      .showInformationMessage(messages.noDatasets(), messages.openManager())
      .then((p) => {
        if (p) void vscode.commands.executeCommand('threadx.openDataManager');
      });
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    datasets.map((d) => ({
      label: d.id,
      description: `${d.rows.toLocaleString('en-US')} rows`,
      dataset: d,
    })),
    { title: messages.pickDataset(), placeHolder: messages.pickDataset() },
  );
  return picked?.dataset;
}

export async function pickIndicators(
  preselect: readonly IndicatorChoice[] = [],
): Promise<IndicatorChoice[] | undefined> {
  const picked = await vscode.window.showQuickPick(
    INDICATOR_PRESETS.map((p) => ({
      label: p.label,
      picked: preselect.some((c) => c.name === p.choice.name),
      choice: p.choice,
    })),
    { canPickMany: true, title: messages.pickIndicators(), ignoreFocusOut: true },
  );
  return picked?.map((p) => p.choice);
}

/** The symbol to repair: those with a damaged or changed file first, then every other one. */
export async function pickRepairSymbol(ctx: Ctx): Promise<string | undefined> {
  await ctx.registry.refresh();
  const choices = repairChoices(ctx.registry.datasets, (t) => `${utcMinute(t)} UTC`);
  if (choices.length === 0) {
    void vscode.window.showInformationMessage(messages.noDatasets());
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    choices.map((c) => ({
      label: c.symbol,
      description: c.problem ?? messages.repairNoProblem(),
      symbol: c.symbol,
    })),
    { title: messages.pickRepair(), placeHolder: messages.pickRepair(), matchOnDescription: true },
  );
  return picked?.symbol;
}
