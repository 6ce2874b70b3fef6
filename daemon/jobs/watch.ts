import pLimit from 'p-limit';
import { allocCandles, type Candles, FLOAT_COLUMNS } from '../../schemas/candles.ts';
import { monthKey } from '../../schemas/common.ts';
import { MINUTE_MS, type Interval } from '../../schemas/intervals.ts';
import { KLINES } from '../../schemas/contracts.ts';
import { fetchRange1m } from '../sources/rest.ts';
import { KlineStream, type StreamKline } from '../sources/stream.ts';
import { type IngestDeps, runIngest } from './ingest.ts';

/**
 * The watcher: keeps symbols current from the kline WebSocket, never trusting it blindly.
 *
 * - It catches up first (archive and REST, as `ingest` plans it), then follows the streams.
 * - Each closed kline (`k.x`) is appended to the bank's tail (fsync) and only then reported
 *   stored, so readers see it within moments and a crash loses nothing reported.
 * - Every minute is accounted for: a minute whose final has not arrived `graceMs` after its close
 *   (a dropped or late final, a reconnect, the time between catch-up and the stream) is fetched by
 *   REST, one request a symbol covering all its missing minutes; a range the exchange confirms
 *   empty is recorded as an outage. Duplicated finals are idempotent.
 * - Streamed minutes are checked against REST every `reconcileMs`; a disagreement is reported and
 *   the REST value stored.
 * - The tail is folded into the monthly partitions every `foldMs`, at a month's end and at stop,
 *   and the configured timeframes are derived for the buckets that completed.
 */

export type WatchEvent =
  | { event: 'catching-up'; symbols: string[]; start: number }
  | { event: 'caught-up'; rows: number; seconds: number; skipped: string[] }
  | { event: 'connected'; connection: number; streams: number }
  | { event: 'reconnecting'; connection: number; reason: string; since: number }
  | {
      event: 'stored';
      symbol: string;
      openTime: number;
      source: 'stream' | 'rest';
      /** From the minute's close (market clock) to the moment it was on disk and readable. */
      latencyMs: number;
    }
  | { event: 'backfilled'; symbol: string; start: number; end: number; rows: number }
  | { event: 'outage'; symbol: string; start: number; end: number }
  | {
      event: 'disagree';
      symbol: string;
      openTime: number;
      stream: number[];
      rest: number[];
    }
  | { event: 'reconciled'; symbols: number; minutes: number; corrected: number }
  | { event: 'folded'; symbols: string[]; rows: number }
  | { event: 'lag'; lastStored: number | null; lagMs: number | null; restWeight: number }
  | { event: 'error'; message: string }
  | { event: 'stopped'; stored: number; restWeight: number };

export interface WatchOptions {
  symbols: string[];
  intervals: Interval[];
  /** Catch up from here; default: each symbol's last stored minute (or today's start). */
  start?: number;
  wsUrl: string;
  /** After a minute's close, how long its final may take before REST is asked (default 3 s). */
  graceMs?: number;
  /** Between two folds of the tail into the partitions (default 5 min). */
  foldMs?: number;
  /** Between two checks of streamed minutes against REST (default 10 min). */
  reconcileMs?: number;
  /** A stream connection silent this long is replaced (default 30 s). */
  silenceMs?: number;
  /** Streams' maximum connection age before they are replaced (default 23 h 50 min). */
  maxAgeMs?: number;
  /** The market clock (default the local clock). */
  now?: () => number;
  /** Real ms between two looks for missing minutes (default 250). */
  tickMs?: number;
  onEvent?: (e: WatchEvent) => void;
  /**
   * Runs a write of the partitions (the catch-up, a fold) with `symbols` held, so it never runs
   * beside another job writing them (the daemon's symbol locks). Default: runs it.
   */
  exclusive?: <T>(symbols: string[], fn: () => Promise<T>) => Promise<T>;
  /** Called after each fold with the symbols whose data changed (`registry/changed`). */
  onChanged?: (symbols: string[]) => void;
}

/** What `status` tells about a running watch. */
export interface WatchStatus {
  symbols: string[];
  intervals: Interval[];
  state: 'catching-up' | 'following' | 'stopping' | 'stopped';
  connections: number;
  connected: number;
  /** The newest minute stored for every symbol (the lowest of the symbols' newest). */
  lastStored: number | null;
  /** From that minute's close to now (market clock). */
  lagMs: number | null;
  stored: number;
  backfilled: number;
  corrected: number;
  duplicates: number;
  restWeight: number;
  reconnects: number;
}

interface SymbolState {
  /** Every minute up to and including this one is stored or confirmed empty. */
  high: number;
  /** Stored minutes after `high + 1 min` (finals that came before an earlier one). */
  ahead: Set<number>;
  /** The oldest streamed minute not yet checked against REST. */
  unchecked: number | null;
  fetching: boolean;
  nextFetch: number;
}

const KLINE_WEIGHT = KLINES.weight;

export class Watcher {
  private readonly state = new Map<string, SymbolState>();
  private readonly now: () => number;
  private stream?: KlineStream;
  private tick?: NodeJS.Timeout;
  private foldTimer?: NodeJS.Timeout;
  private reconcileTimer?: NodeJS.Timeout;
  private readonly work = new Set<Promise<unknown>>();
  private folding: Promise<void> = Promise.resolve();
  private readonly limit = pLimit(8);
  private readonly opts: Required<
    Pick<WatchOptions, 'graceMs' | 'foldMs' | 'reconcileMs' | 'tickMs'>
  > &
    WatchOptions;
  readonly status: WatchStatus;
  private connected = new Set<number>();
  private stopping = false;
  private monthFold = false;
  private reconnectedAt = 0;

  constructor(
    private readonly deps: IngestDeps,
    opts: WatchOptions,
  ) {
    this.opts = {
      graceMs: 3000,
      foldMs: 5 * 60_000,
      reconcileMs: 10 * 60_000,
      tickMs: 250,
      ...opts,
    };
    this.now = opts.now ?? Date.now;
    this.status = {
      symbols: [...opts.symbols],
      intervals: [...opts.intervals],
      state: 'catching-up',
      connections: 0,
      connected: 0,
      lastStored: null,
      lagMs: null,
      stored: 0,
      backfilled: 0,
      corrected: 0,
      duplicates: 0,
      restWeight: 0,
      reconnects: 0,
    };
  }

  private emit(e: WatchEvent): void {
    this.opts.onEvent?.(e);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.work.add(p);
    void p.finally(() => this.work.delete(p)).catch(() => undefined);
    return p;
  }

  /** Catches up, then follows the streams until `stop`. */
  async start(signal?: AbortSignal): Promise<void> {
    const { bank } = this.deps;
    const closedNow = Math.floor(this.now() / MINUTE_MS) * MINUTE_MS;
    const dayStart = closedNow - (closedNow % 86_400_000);
    let start = this.opts.start;
    if (start === undefined) {
      const lasts = this.opts.symbols.map((s) => bank.span1m(s)?.last);
      start = lasts.every((x) => x !== undefined)
        ? Math.min(...lasts.map((x) => x! + MINUTE_MS))
        : dayStart;
    }
    this.emit({ event: 'catching-up', symbols: this.opts.symbols, start });
    const t0 = performance.now();
    let skipped: string[] = [];
    let rows = 0;
    if (start < closedNow) {
      const summary = await this.exclusive(this.opts.symbols, () =>
        runIngest(
          this.deps,
          { symbols: this.opts.symbols, intervals: this.opts.intervals, start, source: 'auto' },
          { ...(signal ? { signal } : {}) },
        ),
      );
      skipped = summary.skipped.map((s) => s.symbol);
      for (const r of summary.results) {
        rows += r.rowsAdded;
        if (!r.ok) this.emit({ event: 'error', message: `${r.symbol}: ${r.error?.message}` });
      }
    }
    signal?.throwIfAborted();
    this.status.symbols = this.opts.symbols.filter((s) => !skipped.includes(s));
    this.emit({
      event: 'caught-up',
      rows,
      seconds: Math.round(performance.now() - t0) / 1000,
      skipped,
    });
    for (const s of this.status.symbols) {
      const last = bank.span1m(s)?.last;
      this.state.set(s, {
        high: last ?? start - MINUTE_MS,
        ahead: new Set(),
        unchecked: null,
        fetching: false,
        nextFetch: 0,
      });
    }
    if (this.status.symbols.length === 0) return;
    this.status.state = 'following';
    this.stream = new KlineStream({
      wsUrl: this.opts.wsUrl,
      symbols: this.status.symbols,
      onKline: (k) => this.onKline(k),
      onState: (s) => {
        if (s.state === 'connected') {
          // Minutes that closed while a connection was down never come from the stream (it
          // sends no history): they are fetched at once, without waiting for the grace.
          if (this.status.reconnects > 0) this.reconnectedAt = this.now();
          this.connected.add(s.connection);
          this.emit({ event: 'connected', connection: s.connection, streams: s.streams });
          // Whatever closed while it was away is looked for at once.
          this.look();
        } else {
          this.connected.delete(s.connection);
          this.status.reconnects++;
          this.emit({
            event: 'reconnecting',
            connection: s.connection,
            reason: s.reason,
            since: s.since,
          });
        }
        this.status.connected = this.connected.size;
      },
      ...(this.opts.silenceMs !== undefined ? { silenceMs: this.opts.silenceMs } : {}),
      ...(this.opts.maxAgeMs !== undefined ? { maxAgeMs: this.opts.maxAgeMs } : {}),
    });
    this.status.connections = this.stream.connections;
    this.stream.start();
    this.tick = setInterval(() => this.look(), this.opts.tickMs);
    this.foldTimer = setInterval(
      () => void this.fold().catch((e) => this.fail(e)),
      this.opts.foldMs,
    );
    this.reconcileTimer = setInterval(() => this.reconcile(), this.opts.reconcileMs);
  }

  private exclusive<T>(symbols: string[], fn: () => Promise<T>): Promise<T> {
    return this.opts.exclusive ? this.opts.exclusive(symbols, fn) : fn();
  }

  private fail(e: unknown): void {
    this.emit({ event: 'error', message: e instanceof Error ? e.message : String(e) });
  }

  private onKline(k: StreamKline): void {
    if (!k.final || this.stopping) return;
    const st = this.state.get(k.symbol);
    if (!st) return;
    const t = k.candle.openTime[0];
    if (t <= st.high || st.ahead.has(t)) {
      this.status.duplicates++;
      return;
    }
    st.ahead.add(t);
    st.unchecked = st.unchecked === null ? t : Math.min(st.unchecked, t);
    this.track(this.store(k.symbol, k.candle, 'stream')).catch((e) => {
      st.ahead.delete(t);
      this.fail(e);
    });
  }

  /** Appends minutes to the tail and accounts for them once they are on disk. */
  private async store(symbol: string, c: Candles, source: 'stream' | 'rest'): Promise<void> {
    await this.deps.bank.tails.append(symbol, c);
    const st = this.state.get(symbol)!;
    const at = this.now();
    for (let i = 0; i < c.length; i++) {
      const t = c.openTime[i];
      if (t > st.high) st.ahead.add(t);
      this.status.stored++;
      this.emit({
        event: 'stored',
        symbol,
        openTime: t,
        source,
        latencyMs: at - (t + MINUTE_MS),
      });
    }
    this.advance(st);
  }

  private advance(st: SymbolState): void {
    while (st.ahead.has(st.high + MINUTE_MS)) {
      st.high += MINUTE_MS;
      st.ahead.delete(st.high);
    }
    this.measureLag();
  }

  private measureLag(): void {
    let low = Infinity;
    for (const s of this.state.values()) low = Math.min(low, s.high);
    if (Number.isFinite(low)) {
      this.status.lastStored = low;
      this.status.lagMs = this.now() - (low + MINUTE_MS);
    }
  }

  /** Fetches by REST the minutes of every symbol whose final is overdue. */
  private look(): void {
    if (this.stopping) return;
    const now = this.now();
    const closed = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    if (!this.monthFold && this.monthTurned()) {
      this.monthFold = true;
      void this.fold()
        .catch((e) => this.fail(e))
        .finally(() => (this.monthFold = false));
    }
    for (const [symbol, st] of this.state) {
      const next = st.high + MINUTE_MS;
      if (next >= closed || st.fetching || Date.now() < st.nextFetch) continue;
      const missed = next + MINUTE_MS <= this.reconnectedAt;
      if (next + MINUTE_MS + this.opts.graceMs > now && !missed) continue;
      st.fetching = true;
      this.track(
        this.limit(() => this.backfill(symbol, next, closed, false)).finally(() => {
          st.fetching = false;
        }),
      ).catch((e) => {
        st.nextFetch = Date.now() + 2000;
        this.fail(e);
      });
    }
  }

  /**
   * Fetches [start, end) of `symbol` by REST and stores what is missing or differs; with
   * `check`, the minutes already stored are compared and corrected.
   */
  private async backfill(
    symbol: string,
    start: number,
    end: number,
    check: boolean,
  ): Promise<number> {
    const { bank, rest } = this.deps;
    const st = this.state.get(symbol)!;
    const got = await fetchRange1m(rest, symbol, start, end, {
      now: this.now,
      finalAfterMs: 60 * MINUTE_MS,
    });
    this.status.restWeight += got.pages * KLINE_WEIGHT + 1;
    if (got.emptyRanges.length > 0) {
      await bank.addConfirmedEmpty(
        symbol,
        got.emptyRanges.map((r) => [r.start, r.end] as [number, number]),
      );
      for (const r of got.emptyRanges) {
        this.emit({ event: 'outage', symbol, start: r.start, end: r.end });
        for (let t = r.start; t < r.end; t += MINUTE_MS) if (t > st.high) st.ahead.add(t);
      }
    }
    const c = got.candles;
    if (c.length === 0) {
      this.advance(st);
      // Nothing final yet (the exchange lags): ask again a little later.
      if (got.coveredEnd <= start) st.nextFetch = Date.now() + 1000;
      return 0;
    }
    const stored = await bank.read1m(symbol, c.openTime[0], c.openTime[c.length - 1] + MINUTE_MS);
    const have = new Map<number, number>();
    for (let i = 0; i < stored.length; i++) have.set(stored.openTime[i], i);
    const keep: number[] = [];
    let corrected = 0;
    for (let i = 0; i < c.length; i++) {
      const j = have.get(c.openTime[i]);
      if (j === undefined) {
        keep.push(i);
        continue;
      }
      if (stored.filled[j] === 0 && sameRow(stored, j, c, i)) continue;
      keep.push(i);
      if (stored.filled[j] === 0) {
        corrected++;
        this.emit({
          event: 'disagree',
          symbol,
          openTime: c.openTime[i],
          stream: rowOf(stored, j),
          rest: rowOf(c, i),
        });
      }
    }
    if (keep.length > 0) {
      const out = allocCandles(keep.length);
      for (const [k, i] of keep.entries()) {
        out.openTime[k] = c.openTime[i];
        for (const col of FLOAT_COLUMNS) out[col][k] = c[col][i];
      }
      out.length = keep.length;
      await this.store(symbol, out, 'rest');
      if (!check) {
        this.status.backfilled += out.length;
        this.emit({ event: 'backfilled', symbol, start, end: got.coveredEnd, rows: out.length });
      }
    } else this.advance(st);
    this.status.corrected += corrected;
    return corrected;
  }

  /** Checks the streamed minutes against REST (and stores REST's value where they differ). */
  private reconcile(): void {
    if (this.stopping) return;
    const jobs: Promise<number>[] = [];
    let minutes = 0;
    for (const [symbol, st] of this.state) {
      if (st.unchecked === null) continue;
      const from = st.unchecked;
      const to = st.high + MINUTE_MS;
      if (to <= from) continue;
      st.unchecked = null;
      minutes += (to - from) / MINUTE_MS;
      jobs.push(this.limit(() => this.backfill(symbol, from, to, true)));
    }
    if (jobs.length === 0) return;
    this.track(Promise.all(jobs))
      .then((c) =>
        this.emit({
          event: 'reconciled',
          symbols: jobs.length,
          minutes,
          corrected: c.reduce((a, b) => a + b, 0),
        }),
      )
      .catch((e) => this.fail(e));
  }

  /**
   * Folds every tail into its partitions and derives the configured timeframes for the buckets
   * the folded minutes complete. Runs one at a time; new minutes wait for it.
   */
  fold(): Promise<void> {
    const run = this.folding.then(async () => {
      const { bank } = this.deps;
      const done: string[] = [];
      let rows = 0;
      for (const symbol of bank.tails.symbols()) {
        const c = await this.exclusive([symbol], async () => {
          const folded = await bank.tails.fold(symbol, async (part) => {
            await bank.write1m(symbol, part, 'stream');
          });
          const intervals = this.opts.intervals.filter((iv) => iv !== '1m');
          if (folded.length > 0 && intervals.length > 0)
            await bank.derive(symbol, intervals, [
              folded.openTime[0],
              folded.openTime[folded.length - 1] + MINUTE_MS,
            ]);
          return folded;
        });
        if (c.length === 0) continue;
        rows += c.length;
        done.push(symbol);
      }
      if (done.length > 0) {
        this.emit({ event: 'folded', symbols: done, rows });
        this.opts.onChanged?.(done);
      }
    });
    this.folding = run.catch(() => undefined);
    return run;
  }

  /** The tail spans two months: fold now, so a partition never waits past its month. */
  monthTurned(): boolean {
    const key = monthKey(this.now());
    return this.deps.bank.tails
      .symbols()
      .some((s) => monthKey(this.deps.bank.tails.span(s)!.first) !== key);
  }

  /** Stops following, lets what was received land, folds the tail. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.status.state = 'stopping';
    for (const t of [this.tick, this.foldTimer, this.reconcileTimer]) if (t) clearInterval(t);
    await this.stream?.stop();
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
    await this.fold();
    await this.deps.bank.tails.close();
    this.status.state = 'stopped';
    this.emit({ event: 'stopped', stored: this.status.stored, restWeight: this.status.restWeight });
  }

  /** One line of the watch's state (emitted as the `lag` event). */
  reportLag(): void {
    this.measureLag();
    this.emit({
      event: 'lag',
      lastStored: this.status.lastStored,
      lagMs: this.status.lagMs,
      restWeight: this.status.restWeight,
    });
  }
}

function sameRow(a: Candles, i: number, b: Candles, j: number): boolean {
  for (const col of FLOAT_COLUMNS) if (a[col][i] !== b[col][j]) return false;
  return true;
}

function rowOf(c: Candles, i: number): number[] {
  return [c.openTime[i], ...FLOAT_COLUMNS.map((col) => c[col][i])];
}
