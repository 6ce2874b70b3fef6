/**
 * Funding-rate events of a perpetual contract, and the funding interval of each one derived from
 * the timestamps: Binance mixes 1 h, 4 h and 8 h intervals across contracts and over time, and
 * publishes only the current one. Pure: no I/O, no clock.
 */

export interface FundingEvent {
  /** When the funding was settled (ms, UTC; Binance's may lie a few ms after the hour). */
  fundingTime: number;
  /** The rate (signed: negative when shorts pay longs). */
  fundingRate: number;
  /** The mark price at settlement; null when Binance gave none. */
  markPrice: number | null;
}

const HOUR_MS = 3_600_000;

/**
 * Each event's funding interval in hours: the time since the previous event, to the nearest
 * hour (settlements lag the hour by a few ms). The first event has no previous one: it takes the
 * interval to the next (the same schedule, as far as anyone can tell); a lone event has none.
 */
export function fundingIntervalHours(events: readonly FundingEvent[]): (number | null)[] {
  const out: (number | null)[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const j = i > 0 ? i - 1 : i + 1;
    if (j >= events.length) {
      out[i] = null;
      continue;
    }
    out[i] = Math.round(Math.abs(events[i].fundingTime - events[j].fundingTime) / HOUR_MS);
  }
  return out;
}

/** Events merged by funding time (a newer answer wins), sorted. */
export function mergeFunding(
  old: readonly FundingEvent[],
  fresh: readonly FundingEvent[],
): FundingEvent[] {
  const byTime = new Map<number, FundingEvent>();
  for (const e of old) byTime.set(e.fundingTime, e);
  for (const e of fresh) byTime.set(e.fundingTime, e);
  return [...byTime.values()].sort((a, b) => a.fundingTime - b.fundingTime);
}

const HEADER = 'fundingTime,fundingRate,markPrice,intervalHours';

/** The export CSV: ISO-8601 UTC funding time, rate, mark price, interval in hours. */
export function fundingCsv(events: readonly FundingEvent[]): string {
  const hours = fundingIntervalHours(events);
  const lines = [HEADER];
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    lines.push(
      `${new Date(e.fundingTime).toISOString()},${e.fundingRate},${e.markPrice ?? ''},${hours[i] ?? ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The stored form: one event a line, `fundingTime,fundingRate,markPrice` (ms, numbers). */
export function fundingStoreText(events: readonly FundingEvent[]): string {
  return events.map((e) => `${e.fundingTime},${e.fundingRate},${e.markPrice ?? ''}`).join('\n');
}

/** Parses the stored form; throws on a malformed line. */
export function parseFundingStore(text: string, source: string): FundingEvent[] {
  const out: FundingEvent[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const [t, r, m] = line.split(',');
    const e = { fundingTime: Number(t), fundingRate: Number(r), markPrice: m ? Number(m) : null };
    if (!Number.isInteger(e.fundingTime) || !Number.isFinite(e.fundingRate))
      throw new Error(`${source}: line ${i + 1} is not a funding event`);
    out.push(e);
  }
  return out;
}
