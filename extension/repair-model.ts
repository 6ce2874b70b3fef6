/**
 * Which symbols the Repair actions offer, from the registry as listed. No `vscode` here, so it is
 * tested under plain Node.
 */
import { integrityText } from '../schemas/integrity.ts';
import type { DatasetSummary } from '../schemas/protocol.ts';
import { needsRepair } from '../webviews/registry-table.ts';

export interface RepairChoice {
  symbol: string;
  /** The first dataset of the symbol with a problem and its state in words, if any. */
  problem?: string;
}

/** The symbols with a damaged, changed or missing file. */
export function symbolsNeedingRepair(datasets: readonly DatasetSummary[]): string[] {
  return [...new Set(datasets.filter((d) => needsRepair(d.integrity)).map((d) => d.symbol))];
}

/**
 * Every symbol of the bank, those with a problem first (each with its first problem in words),
 * then the rest alphabetically: a file damaged after its last verify does not show as a problem
 * yet, so every symbol can be repaired.
 */
export function repairChoices(
  datasets: readonly DatasetSummary[],
  time: (t: number) => string,
): RepairChoice[] {
  const bySymbol = new Map<string, RepairChoice>();
  for (const d of [...datasets].sort((a, b) => a.id.localeCompare(b.id))) {
    const c = bySymbol.get(d.symbol) ?? { symbol: d.symbol };
    if (!c.problem && d.integrity && needsRepair(d.integrity))
      c.problem = `${d.id} ${integrityText(d.integrity, time)}`;
    bySymbol.set(d.symbol, c);
  }
  return [...bySymbol.values()].sort(
    (a, b) => Number(!a.problem) - Number(!b.problem) || a.symbol.localeCompare(b.symbol),
  );
}
