import { ThreadxError } from './errors.ts';
import { z } from 'zod';
import { parseSeriesKey, seriesKey } from './markets.ts';

/**
 * A Binance symbol. Upper-cased, then `^[A-Z0-9]{2,20}$`, or with a COIN-M contract suffix
 * (`BTCUSD_PERP`, `BTCUSD_240628`): nothing else passes, so a symbol can safely become a folder
 * name and no path is ever built from unchecked text.
 */
export const SymbolSchema = z
  .string({ error: 'symbol must be a string' })
  .trim()
  .transform((s) => s.toUpperCase())
  .refine((s) => /^[A-Z0-9]{2,20}(_[A-Z0-9]{1,10})?$/.test(s), {
    error: (issue) =>
      `invalid symbol ${JSON.stringify(issue.input)}: expected 2 to 20 letters or digits, such as BTCUSDC`,
  });

export function parseSymbol(text: string): string {
  return SymbolSchema.parse(text);
}

/**
 * A bank key validated and normalised: a symbol (spot trade klines, upper-cased) or
 * `SYMBOL@market[.kind]`. Anything else is refused with the error the symbol gets.
 */
export function parseBankKey(text: string): string {
  const at = text.indexOf('@');
  if (at < 0) return parseSymbol(text);
  const s = parseSeriesKey(`${parseSymbol(text.slice(0, at))}${text.slice(at)}`);
  if (!s)
    throw new ThreadxError(
      'INVALID_PARAMS',
      `invalid series ${JSON.stringify(text)}: expected SYMBOL or SYMBOL@um, SYMBOL@cm.mark, ...`,
    );
  return seriesKey(s);
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/;
const NAIVE_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/**
 * Parses a UTC ISO-8601 date or datetime to ms since the epoch. A bare date means 00:00 UTC.
 * A datetime must carry `Z` or an offset: a naive one is ambiguous and is rejected.
 */
export function parseUtcDate(text: string): number {
  const s = text.trim();
  if (ISO_DATE.test(s)) {
    const t = Date.parse(`${s}T00:00:00Z`);
    if (Number.isFinite(t) && new Date(t).toISOString().startsWith(s)) return t;
    throw new ThreadxError(
      'INVALID_DATE',
      `invalid date ${JSON.stringify(text)}: no such calendar day`,
    );
  }
  if (NAIVE_DATETIME.test(s)) {
    throw new ThreadxError(
      'INVALID_DATE',
      `naive datetime ${JSON.stringify(text)}: add a time zone, e.g. ${s.replace(' ', 'T')}Z for UTC`,
    );
  }
  if (ISO_DATETIME.test(s)) {
    const t = Date.parse(s.replace(' ', 'T'));
    if (Number.isFinite(t)) return t;
  }
  throw new ThreadxError(
    'INVALID_DATE',
    `invalid date ${JSON.stringify(text)}: expected UTC ISO-8601 such as 2024-01-31 or 2024-01-31T12:00Z`,
  );
}

export const UtcDateSchema = z.string().transform((s, ctx) => {
  try {
    return parseUtcDate(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

/** `YYYY-MM` of a UTC time (month partitions, monthly archive files). */
export function monthKey(t: number): string {
  return new Date(t).toISOString().slice(0, 7);
}

/** `YYYY-MM-DD` of a UTC time (daily archive files). */
export function dayKey(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

export function isoMinute(t: number): string {
  return new Date(t).toISOString().replace(':00.000Z', 'Z');
}

export function isoTime(t: number): string {
  return new Date(t).toISOString();
}
