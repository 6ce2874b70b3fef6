/**
 * Validation of what a person types (symbol lists, dates, N) and the request it becomes. Shared
 * by the palette flows and the data manager's host; no `vscode`.
 */
import { SELECTION } from '../schemas/contracts.ts';
import { parseUtcDate } from '../schemas/common.ts';
import type { Params } from '../schemas/protocol.ts';
import type { FormErrors, IngestForm } from '../webviews/messages.ts';
import { messages } from './messages.ts';

const SYMBOL = /^[A-Z0-9]{2,20}$/;

/** Splits on commas, spaces and new lines; upper-cases; removes duplicates. */
export function parseSymbolList(text: string): { symbols: string[]; bad: string[] } {
  const parts = text
    .split(/[\s,;]+/)
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const symbols: string[] = [];
  const bad: string[] = [];
  for (const p of parts) {
    if (!SYMBOL.test(p)) bad.push(p);
    else if (!symbols.includes(p)) symbols.push(p);
  }
  return { symbols, bad };
}

/** An input box validator for a symbol list: a message, or undefined when valid. */
export function validateSymbolList(text: string): string | undefined {
  const { symbols, bad } = parseSymbolList(text);
  if (bad.length) return messages.invalidSymbols(bad);
  if (symbols.length === 0) return messages.noSymbols();
  return undefined;
}

/** Validator for a date field; `optional` accepts empty. */
export function validateDate(text: string, optional = false): string | undefined {
  if (!text.trim()) return optional ? undefined : messages.startDate();
  try {
    parseUtcDate(text);
    return undefined;
  } catch (e) {
    return messages.badDate((e as Error).message);
  }
}

export function validateTopN(text: string): string | undefined {
  const n = Number(text.trim());
  return Number.isInteger(n) && n >= 1 && n <= SELECTION.maxTop
    ? undefined
    : messages.topNInvalid();
}

export function validateQuote(text: string): string | undefined {
  return /^[A-Za-z0-9]{2,10}$/.test(text.trim()) ? undefined : messages.quoteInvalid();
}

export type FormResult =
  { ok: true; params: Params<'ingest/run'> } | { ok: false; errors: FormErrors };

/** Checks the form field by field and builds the `ingest/run` params. */
export function formToParams(form: IngestForm, dryRun = false): FormResult {
  const errors: FormErrors = {};
  const params: Params<'ingest/run'> = {
    start: form.start.trim(),
    intervals: form.intervals,
    source: form.source,
    dryRun,
  } as Params<'ingest/run'>;
  switch (form.mode) {
    case 'single':
    case 'list': {
      const { symbols, bad } = parseSymbolList(form.symbols);
      if (bad.length) errors.symbols = messages.invalidSymbols(bad);
      else if (symbols.length === 0) errors.symbols = messages.noSymbols();
      else if (form.mode === 'single' && symbols.length > 1)
        errors.symbols = 'Single mode takes one symbol; switch to List for several.';
      params.symbols = symbols;
      break;
    }
    case 'top':
      if (validateTopN(String(form.topN))) errors.topN = messages.topNInvalid();
      if (validateQuote(form.quote)) errors.quote = messages.quoteInvalid();
      params.top = { n: Number(form.topN), quote: form.quote.trim().toUpperCase() };
      break;
    case 'group':
      if (!form.group) errors.group = 'Choose a group.';
      params.group = form.group;
      break;
  }
  const s = validateDate(form.start);
  if (s) errors.start = s;
  const e = validateDate(form.end, true);
  if (e) errors.end = e;
  else if (form.end.trim()) {
    params.end = form.end.trim();
    if (!s && parseUtcDate(form.end) <= parseUtcDate(form.start)) {
      errors.end = messages.endBeforeStart();
    }
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, params };
}
