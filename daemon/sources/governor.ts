import { CancelledError } from './errors.ts';

/**
 * The rate governor: one per process, shared by every request to the exchange.
 *
 * Binance counts request weight per IP in fixed windows (today 6000 per minute, read at run
 * time from exchangeInfo.rateLimits) and reports the window's total on every response in
 * `X-MBX-USED-WEIGHT-<n><unit>`. The governor grants a request only when the window's weight,
 * as best known, plus the request's weight stays under the budget (limit minus a safety margin):
 *
 *   known = max(reported + inFlight, dispatched + carried)
 *
 * - `reported`: the highest used weight the exchange reported for the current window (this
 *   includes other programs on the same IP);
 * - `inFlight`: weight of requests sent but not answered (the exchange may not have counted
 *   them yet), so concurrency can never push past the budget;
 * - `dispatched`: what this process sent in the window; `carried`: what was still in flight
 *   when the window rolled and is not answered yet (it may land in either window, so it
 *   counts in both).
 *
 * The margin is the full `safetyMargin` until a header shows the exchange's count matching ours,
 * then a small `minMargin`; weight from another program, seen in a header, brings the full
 * margin back for that window and the next.
 *
 * When the budget is used up, requests wait for the next window boundary (computed on the
 * exchange's clock, plus a small guard for clock skew) and then go out at once: fixed windows
 * allow a burst at the start of each window, which is how a well-behaved client reaches the
 * limit's floor. A 429 or 418 pauses every request for its Retry-After.
 *
 * Invariant, on top of that (the grant log): any two of our requests that could land in one
 * window of the exchange, however it is aligned, never weigh more than the budget together. A
 * grant stays in the log from the moment it is sent until one window length after its answer
 * (it reached the exchange somewhere in between), and a request is granted only if the log's
 * weight plus its own stays within the budget. So our own traffic alone can never overflow any
 * exchange window, aligned to the clock minute or not, whatever the concurrency. It is enforced
 * from the start, lifted when a header shows the exchange rolled at our boundary (an answer to a
 * request carried over our roll reports less than we carried), and enforced again whenever the
 * exchange's windows prove not to roll where ours do (a header still showing the old window after
 * our roll, a roll confirmed away from our boundary, or a 429/418).
 */

export interface RateLimitEntry {
  rateLimitType: string;
  interval: string;
  intervalNum: number;
  limit: number;
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface GovernorOptions {
  /** REQUEST_WEIGHT limit per window until exchangeInfo says otherwise (default 6000). */
  limit?: number;
  /** Window length in ms until exchangeInfo says otherwise (default 60 000). */
  windowMs?: number;
  /** Share of the limit kept in reserve while others may use the IP (default 0.1). */
  safetyMargin?: number;
  /**
   * Share kept in reserve once the exchange's count has matched ours (no one else is using
   * the IP): default 0.02. Weight from elsewhere, seen in a header, restores `safetyMargin` for
   * that window and the next.
   */
  minMargin?: number;
  /** Local clock (default Date.now). */
  clock?: () => number;
  /** Awaitable timer (default setTimeout). Tests pass a fake one. */
  sleep?: Sleep;
  /** Exchange clock minus local clock, ms (default 0; Binance's clock is NTP-synced). */
  serverOffsetMs?: number;
  /** Time after a window boundary before the new window is trusted (default 1 % of it, max 100 ms). */
  boundaryGuardMs?: number;
  /** Uniform [0, 1) for the jitter after a Retry-After (default Math.random). */
  random?: () => number;
}

export interface GovernorStats {
  granted: number;
  grantedWeight: number;
  /** Times a request had to wait for a window to roll. */
  windowWaits: number;
  count429: number;
  count418: number;
  /** The highest weight the exchange reported in any window. */
  maxReported: number;
  /** The highest weight the governor believed used (known + granted) in any window. */
  maxKnown: number;
}

export interface ResponseInfo {
  status: number;
  headers: Headers | Record<string, string | string[] | undefined>;
}

/** A granted request. Call `settle` once with the answer (or nothing, if there was none). */
export interface Permit {
  readonly weight: number;
  settle(response?: ResponseInfo): void;
}

/** A grant in the log: it counts until one window after `answered` (Infinity while unanswered). */
interface Grant {
  weight: number;
  answered: number;
}

interface Waiter {
  weight: number;
  resolve: (p: Permit) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const UNIT_MS: Record<string, number> = { S: 1000, M: 60_000, H: 3_600_000, D: 86_400_000 };
const INTERVAL_MS: Record<string, number> = {
  SECOND: 1000,
  MINUTE: 60_000,
  HOUR: 3_600_000,
  DAY: 86_400_000,
};

export const defaultSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError(signal.reason));
    const t = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError(signal?.reason));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Reads `X-MBX-USED-WEIGHT-<n><unit>`: the used weight and the window it belongs to. */
export function usedWeightHeader(
  headers: ResponseInfo['headers'],
): { used: number; windowMs: number } | undefined {
  const entries: Array<[string, string]> =
    headers instanceof Headers
      ? [...headers.entries()]
      : Object.entries(headers).flatMap(([k, v]) =>
          v === undefined ? [] : [[k, String(v)] as [string, string]],
        );
  let best: { used: number; windowMs: number } | undefined;
  for (const [k, v] of entries) {
    const m = /^x-mbx-used-weight-(\d+)([smhd])$/i.exec(k);
    if (!m) continue;
    const windowMs = Number(m[1]) * UNIT_MS[m[2].toUpperCase()];
    const used = Number(v);
    if (!Number.isFinite(used)) continue;
    // With several weight windows, pace on the shortest (the one that fills first).
    if (!best || windowMs < best.windowMs) best = { used, windowMs };
  }
  return best;
}

function retryAfterMs(headers: ResponseInfo['headers']): number | undefined {
  const v =
    headers instanceof Headers
      ? headers.get('retry-after')
      : (headers['retry-after'] ?? headers['Retry-After']);
  if (v === undefined || v === null) return undefined;
  const s = Number(Array.isArray(v) ? v[0] : v);
  return Number.isFinite(s) ? s * 1000 : undefined;
}

export class RateGovernor {
  private limit: number;
  private windowMs: number;
  private margin: number;
  private minMargin: number;
  private readonly minMarginSetting: number;
  /** Until which window the full margin applies (foreign weight seen, or nothing known yet). */
  private cautiousUntil = Number.POSITIVE_INFINITY;
  private readonly clock: () => number;
  private readonly sleep: Sleep;
  private offset: number;
  private guardMs: number | undefined;
  private configured = false;

  private window = Number.NEGATIVE_INFINITY;
  private reported = 0;
  private dispatched = 0;
  /** Weight still in flight from earlier windows (it may land in this one). */
  private carried = 0;
  private inFlight = 0;
  private pausedUntil = 0;
  /**
   * After a busy window rolled on our clock, the exchange's window may not have rolled yet
   * (windows need not be aligned to the clock minute): until a header confirms the drop, the old
   * level (`previous`) still counts, and one probe at a time goes out, `probeMs` apart.
   */
  private unconfirmed = false;
  private previous = 0;
  private probing = false;
  private nextProbe = 0;
  /** After a 429: a smaller budget up to and including this window. */
  private slowUntil: number | null = null;
  /** The next roll is the one a 429's Retry-After announced: no probe needed. */
  private trustRoll = false;
  private readonly random: () => number;
  private readonly queue: Waiter[] = [];
  /** Recent grants (see the invariant above); oldest answers first out. */
  private log: Grant[] = [];
  /** The grant log is enforced: the exchange's windows are not known to roll where ours do. */
  private unaligned = true;
  private wakeAt: number | undefined;
  readonly stats: GovernorStats = {
    granted: 0,
    grantedWeight: 0,
    windowWaits: 0,
    count429: 0,
    count418: 0,
    maxReported: 0,
    maxKnown: 0,
  };

  constructor(opts: GovernorOptions = {}) {
    this.limit = opts.limit ?? 6000;
    this.windowMs = opts.windowMs ?? 60_000;
    this.margin = opts.safetyMargin ?? 0.1;
    this.minMarginSetting = opts.minMargin ?? 0.02;
    this.minMargin = Math.min(this.minMarginSetting, this.margin);
    this.clock = opts.clock ?? Date.now;
    this.sleep = opts.sleep ?? defaultSleep;
    this.offset = opts.serverOffsetMs ?? 0;
    this.guardMs = opts.boundaryGuardMs;
    this.random = opts.random ?? Math.random;
    if (opts.limit !== undefined) this.configured = true;
  }

  /**
   * Applies the configuration (`[data.api]` weight_safety_margin, rate_limit_weight_per_minute):
   * the share of the limit kept free, and the limit assumed until exchangeInfo tells the real one.
   */
  applySettings(s: { safetyMargin?: number; defaultLimit?: number }): void {
    if (s.safetyMargin !== undefined) {
      this.margin = s.safetyMargin;
      this.minMargin = Math.min(this.minMarginSetting, s.safetyMargin);
    }
    if (s.defaultLimit !== undefined && !this.configured) this.limit = s.defaultLimit;
  }

  /** Whether limits were read from the exchange (or given explicitly). */
  get isConfigured(): boolean {
    return this.configured;
  }

  /** The weight this governor lets through per window. */
  get budget(): number {
    const margin = this.window <= this.cautiousUntil ? this.margin : this.minMargin;
    const slow = this.slowUntil !== null && this.window <= this.slowUntil ? 0.75 : 1;
    return Math.floor(this.limit * (1 - margin) * slow);
  }

  get limits(): { limit: number; windowMs: number } {
    return { limit: this.limit, windowMs: this.windowMs };
  }

  /** Adopts the REQUEST_WEIGHT limit from exchangeInfo.rateLimits. */
  configure(rateLimits: readonly RateLimitEntry[]): void {
    const weights = rateLimits
      .filter((r) => r.rateLimitType === 'REQUEST_WEIGHT' && INTERVAL_MS[r.interval] !== undefined)
      .map((r) => ({ limit: r.limit, windowMs: r.intervalNum * INTERVAL_MS[r.interval] }));
    if (weights.length === 0) return;
    // Several weight limiters: pace on the one with the lowest sustained rate.
    weights.sort((a, b) => a.limit / a.windowMs - b.limit / b.windowMs);
    this.setLimit(weights[0].limit, weights[0].windowMs);
  }

  setLimit(limit: number, windowMs: number): void {
    if (windowMs !== this.windowMs) this.window = Number.NEGATIVE_INFINITY;
    this.limit = limit;
    this.windowMs = windowMs;
    this.configured = true;
    this.pump();
  }

  /** Exchange clock minus local clock (from GET /api/v3/time, corrected by half the round trip). */
  setServerOffset(ms: number): void {
    this.offset = ms;
  }

  private guard(): number {
    return this.guardMs ?? Math.min(100, this.windowMs * 0.01);
  }

  private windowOf(now: number): number {
    return Math.floor((now + this.offset - this.guard()) / this.windowMs);
  }

  /** Local time at which window `w` starts. */
  private windowStart(w: number): number {
    return w * this.windowMs - this.offset + this.guard();
  }

  private roll(now: number): void {
    const w = this.windowOf(now);
    if (w > this.window) {
      // A busy window is assumed to persist until a header shows it rolled at the exchange.
      const level = Math.max(this.reported, this.unconfirmed ? this.previous : 0);
      // Unconfirmed whenever a full burst on top of what the old window held would pass the limit.
      this.unconfirmed =
        !this.trustRoll && w === this.window + 1 && level + this.budget > this.limit;
      this.trustRoll = false;
      this.previous = this.unconfirmed ? level : 0;
      this.nextProbe = now;
      this.window = w;
      this.reported = 0;
      this.dispatched = 0;
      this.carried = this.inFlight;
    }
  }

  private get probeMs(): number {
    return Math.max(250, this.windowMs / 30);
  }

  /** Moves our window boundaries so that one falls at local time `at`. */
  private anchor(at: number): void {
    const g = this.guard();
    this.offset = (((g - at) % this.windowMs) + this.windowMs) % this.windowMs;
    this.window = this.windowOf(this.clock());
  }

  private known(): number {
    return Math.max(
      this.reported + this.inFlight,
      this.dispatched + this.carried,
      this.unconfirmed ? this.previous + this.inFlight : 0,
    );
  }

  /** Drops answered grants older than a window; returns the weight still logged. */
  private logged(now: number): number {
    this.log = this.log.filter((g) => g.answered + this.windowMs > now);
    return this.log.reduce((a, g) => a + g.weight, 0);
  }

  /** Waits until `weight` fits in the current window, then reserves it. */
  acquire(weight: number, signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(new CancelledError(signal.reason));
    return new Promise<Permit>((resolve, reject) => {
      const w: Waiter = { weight, resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.queue.indexOf(w);
          if (i >= 0) this.queue.splice(i, 1);
          reject(new CancelledError(signal.reason));
          this.pump();
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.queue.push(w);
      this.pump();
    });
  }

  /** Pauses every request until `until` (local clock). */
  pauseUntil(until: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const now = this.clock();
      if (now < this.pausedUntil) return this.wake(this.pausedUntil);
      this.roll(now);
      const head = this.queue[0];
      const known = this.known();
      let probe = false;
      if (known + head.weight > this.budget && !(known === 0 && head.weight > this.budget)) {
        if (!this.unconfirmed) {
          this.stats.windowWaits++;
          return this.wake(this.windowStart(this.window + 1));
        }
        // Has the exchange's window rolled? One small request at a time asks.
        if (this.probing) return;
        if (now < this.nextProbe) return this.wake(this.nextProbe);
        probe = true;
      }
      // The grant log: nothing that could share an exchange window with this request may
      // bring it past the budget (a lone request heavier than the budget still goes alone).
      const logged = this.logged(now);
      if (this.unaligned && logged + head.weight > this.budget && logged > 0) {
        const answered = Math.min(...this.log.map((g) => g.answered));
        // Nothing answered yet: the next answer pumps again.
        if (answered === Number.POSITIVE_INFINITY) return;
        return this.wake(answered + this.windowMs);
      }
      this.queue.shift();
      if (head.onAbort) head.signal?.removeEventListener('abort', head.onAbort);
      head.resolve(this.grant(head.weight, probe));
    }
  }

  private grant(weight: number, probe = false): Permit {
    if (probe) this.probing = true;
    this.inFlight += weight;
    this.dispatched += weight;
    this.stats.granted++;
    this.stats.grantedWeight += weight;
    this.stats.maxKnown = Math.max(this.stats.maxKnown, this.known());
    const sentWindow = this.window;
    const entry: Grant = { weight, answered: Number.POSITIVE_INFINITY };
    this.log.push(entry);
    let settled = false;
    return {
      weight,
      settle: (response?: ResponseInfo) => {
        if (settled) return;
        settled = true;
        this.roll(this.clock());
        entry.answered = this.clock();
        this.inFlight -= weight;
        if (probe) {
          this.probing = false;
          this.nextProbe = this.clock() + this.probeMs;
        }
        if (response) this.observe(response, sentWindow, weight);
        else if (probe) this.unconfirmed = false; // nothing to pace on: trust our clock
        // Once answered, a request carried over from an earlier window is either in the
        // reported weight (it landed here) or was counted there.
        if (sentWindow < this.window) this.carried = Math.max(0, this.carried - weight);
        this.pump();
      },
    };
  }

  /** Learns from an answer: the reported weight, and 429/418 pauses. */
  private observe(response: ResponseInfo, sentWindow: number, weight: number): void {
    const now = this.clock();
    const h = usedWeightHeader(response.headers);
    if (h && h.windowMs !== this.windowMs && !this.configured) {
      // The exchange names its window in the header; trust it until exchangeInfo is read.
      this.windowMs = h.windowMs;
      this.window = Number.NEGATIVE_INFINITY;
      this.roll(now);
    }
    if (h && this.unconfirmed && sentWindow === this.window) {
      if (h.used <= this.dispatched + this.carried + weight) {
        // The exchange's window rolled: from now on our boundaries fall where it did.
        this.unconfirmed = false;
        this.previous = 0;
        if (now - this.windowStart(this.window) > this.probeMs) {
          this.unaligned = true;
          this.anchor(now);
        }
      } else {
        // Still the old window: its level counts until a later probe sees the drop.
        this.unaligned = true;
        this.previous = Math.max(this.previous, h.used - this.dispatched - this.carried);
      }
    } else if (!h && this.unconfirmed) {
      this.unconfirmed = false;
    }
    if (h) {
      this.stats.maxReported = Math.max(this.stats.maxReported, h.used);
      // An answer to a request sent in an earlier window may carry that window's total; it
      // belongs to the current window only if it is no more than what could have landed here.
      if (this.unconfirmed) {
        // Counted in `previous` until the roll is confirmed.
      } else if (sentWindow === this.window || h.used <= this.dispatched + this.carried + weight) {
        this.reported = Math.max(this.reported, h.used);
        // More weight than this process could have caused: someone else uses the IP.
        // Less than what we carried over the roll: the exchange rolled between their sending
        // and now, i.e. at our boundary give or take a round trip; bursts may go again.
        if (sentWindow < this.window && h.used < this.carried) this.unaligned = false;
        const foreign = h.used > this.dispatched + this.carried;
        if (foreign) this.cautiousUntil = this.window + 1;
        else if (this.cautiousUntil === Number.POSITIVE_INFINITY)
          this.cautiousUntil = this.window - 1;
      }
    }
    if (response.status === 429 || response.status === 418) {
      this.unaligned = true;
      if (response.status === 429) this.stats.count429++;
      else this.stats.count418++;
      // Wait what the exchange says, plus a small jitter so waiting clients do not all return
      // at the same instant; then go on at a slower pace rather than stopping the world.
      const ra = retryAfterMs(response.headers) ?? 1000;
      const jitter = this.random() * Math.min(250, ra * 0.1 + 50);
      // Retry-After is when the exchange counts afresh (a 429's window rolls; a 418's ban
      // ends): our windows now roll there too, and the next one starts slower.
      this.anchor(now + ra);
      this.unconfirmed = false;
      this.trustRoll = true;
      this.slowUntil = this.windowOf(now + ra) + 1;
      this.cautiousUntil = Math.max(this.cautiousUntil, this.windowOf(now + ra) + 1);
      this.pauseUntil(now + ra + jitter);
      // Whatever the window held, treat it as full until it rolls.
      this.reported = Math.max(this.reported, this.limit);
    }
  }

  private wake(at: number): void {
    if (this.wakeAt !== undefined && this.wakeAt <= at) return;
    this.wakeAt = at;
    const ms = Math.max(0, at - this.clock());
    this.sleep(ms).then(
      () => {
        if (this.wakeAt === at) this.wakeAt = undefined;
        this.pump();
      },
      () => {
        if (this.wakeAt === at) this.wakeAt = undefined;
      },
    );
  }
}

const shared = new Map<string, RateGovernor>();

/**
 * The process-wide governor every Binance request of one market goes through: spot, USD-M and
 * COIN-M each have their own weight budget (read from their own exchangeInfo).
 */
export function sharedGovernor(market: 'spot' | 'um' | 'cm' = 'spot'): RateGovernor {
  let g = shared.get(market);
  if (!g) {
    g = new RateGovernor();
    shared.set(market, g);
  }
  return g;
}
