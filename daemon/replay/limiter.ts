/**
 * Binance's IP request-weight limiter as the replay exchange enforces it: fixed windows aligned
 * on the server clock (a new window every `windowMs`), 429 with Retry-After once the window's
 * weight passes the limit, and a 418 ban for a client that keeps sending after a 429 before the
 * Retry-After has passed.
 */

export type Verdict =
  | { kind: 'ok'; used: number }
  | { kind: 'limited'; used: number; retryAfterS: number; windowMs: number }
  | { kind: 'banned'; used: number; retryAfterS: number; until: number };

export interface LimiterStats {
  totalWeight: number;
  count429: number;
  count418: number;
  /** The highest weight any window reached, rejected requests included. */
  maxUsedWeight: number;
}

export class WeightLimiter {
  private window = -1;
  private used = 0;
  /** A client that sends before this instant, after a 429, is banned. */
  private cooloffUntil = 0;
  private bannedUntil = 0;
  stats: LimiterStats = { totalWeight: 0, count429: 0, count418: 0, maxUsedWeight: 0 };

  constructor(
    public limit: number,
    public windowMs: number,
    public banMs: number,
    private readonly clock: () => number,
  ) {}

  /** The weight used so far in the current window. */
  current(): number {
    this.roll(this.clock());
    return this.used;
  }

  private roll(now: number): void {
    const w = Math.floor(now / this.windowMs);
    if (w !== this.window) {
      this.window = w;
      this.used = 0;
    }
  }

  charge(weight: number): Verdict {
    const now = this.clock();
    this.roll(now);
    if (now < this.bannedUntil) {
      this.stats.count418++;
      return {
        kind: 'banned',
        used: this.used,
        retryAfterS: secs(this.bannedUntil - now),
        until: this.bannedUntil,
      };
    }
    if (now < this.cooloffUntil) {
      // Sending again inside the Retry-After of a 429 earns the automatic ban.
      this.bannedUntil = now + this.banMs;
      this.stats.count418++;
      return {
        kind: 'banned',
        used: this.used,
        retryAfterS: secs(this.banMs),
        until: this.bannedUntil,
      };
    }
    this.used += weight;
    this.stats.totalWeight += weight;
    this.stats.maxUsedWeight = Math.max(this.stats.maxUsedWeight, this.used);
    if (this.used > this.limit) {
      const windowEnd = (this.window + 1) * this.windowMs;
      const retryAfterS = secs(windowEnd - now);
      this.cooloffUntil = now + retryAfterS * 1000;
      this.stats.count429++;
      return { kind: 'limited', used: this.used, retryAfterS, windowMs: this.windowMs };
    }
    return { kind: 'ok', used: this.used };
  }

  resetStats(): void {
    this.stats = { totalWeight: 0, count429: 0, count418: 0, maxUsedWeight: 0 };
  }

  /** Clears bans and the current window (tests that provoke bans on purpose). */
  resetState(): void {
    this.window = -1;
    this.used = 0;
    this.cooloffUntil = 0;
    this.bannedUntil = 0;
  }
}

function secs(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** `1M`, `10S`, `1H`, `1D`: the suffix of `X-MBX-USED-WEIGHT-*` and the rateLimits interval. */
export function windowUnit(windowMs: number): { num: number; letter: string; interval: string } {
  if (windowMs % 86_400_000 === 0)
    return { num: windowMs / 86_400_000, letter: 'D', interval: 'DAY' };
  if (windowMs % 3_600_000 === 0)
    return { num: windowMs / 3_600_000, letter: 'H', interval: 'HOUR' };
  if (windowMs % 60_000 === 0) return { num: windowMs / 60_000, letter: 'M', interval: 'MINUTE' };
  if (windowMs % 1000 === 0) return { num: windowMs / 1000, letter: 'S', interval: 'SECOND' };
  throw new Error(`weight window ${windowMs} ms is not a whole number of seconds`);
}
