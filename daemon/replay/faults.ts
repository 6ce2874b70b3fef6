import { ThreadxError } from '../../schemas/errors.ts';
import { mulberry32 } from './rng.ts';

/**
 * Fault injection for the replay exchange. A fault matches requests by path (and optionally
 * symbol), fires with a probability drawn from the server's seeded generator, at most `count`
 * times, after skipping the first `after` matches. Data faults (`missing`) always apply.
 */
export type FaultKind =
  /** Answer with an HTTP 5xx (`status`, default 503) and Binance's -1007 body. */
  | 'http5xx'
  /** Destroy the connection without an answer. */
  | 'reset'
  /** Never answer (until the client gives up or the server closes). */
  | 'hang'
  /** A 200 whose JSON body stops halfway (Content-Length matches the cut body). */
  | 'truncated'
  /** One kline row of the page is malformed (wrong field count, a non-number, or unaligned). */
  | 'malformed'
  /** Some kline rows of the page are sent twice. */
  | 'duplicate'
  /** The kline rows of the page are not in time order. */
  | 'outOfOrder'
  /** Minutes in `ranges` are missing from REST and archive answers, as in an outage. */
  | 'missing'
  /** The still-open kline is appended to the page even when the request's range excludes it. */
  | 'openLast'
  /** An archive zip whose bytes do not match its .CHECKSUM. */
  | 'corruptArchive'
  /** Fewer kline rows than asked (at most `rows`, default 100), as a proxy or mirror may send. */
  | 'shortPage'
  /** A 429 (or `status` 418) with `Retry-After: retryAfter` (default 1 s), as in a 429 storm. */
  | 'rateLimit'
  /** WebSocket: a minute's final kline event (`k.x` true) is never sent. */
  | 'wsDropFinal'
  /** WebSocket: a minute's final kline event is sent `delayMs` (default 10 000) after its close. */
  | 'wsLateFinal'
  /** WebSocket: a minute's final kline event is sent twice. */
  | 'wsDuplicateFinal'
  /** WebSocket: a minute's final kline event carries a close price that REST does not. */
  | 'wsWrongFinal'
  /** WebSocket: the connection is cut (TCP destroyed, no close frame) at a minute's close. */
  | 'wsCut'
  /** WebSocket: from a minute's close on, the connection sends nothing, not even a ping. */
  | 'wsSilent';

export const FAULT_KINDS: readonly FaultKind[] = [
  'http5xx',
  'reset',
  'hang',
  'truncated',
  'malformed',
  'duplicate',
  'outOfOrder',
  'missing',
  'openLast',
  'corruptArchive',
  'shortPage',
  'rateLimit',
  'wsDropFinal',
  'wsLateFinal',
  'wsDuplicateFinal',
  'wsWrongFinal',
  'wsCut',
  'wsSilent',
];

/** The faults of the WebSocket streams (matched on every stream path unless `path` is given). */
export const WS_FAULT_KINDS: readonly FaultKind[] = FAULT_KINDS.filter((k) => k.startsWith('ws'));

export interface FaultSpec {
  kind: FaultKind;
  /** Path prefix the fault applies to; default: /api/v3/klines (archive paths for corruptArchive). */
  path?: string;
  /** Only requests for this symbol. */
  symbol?: string;
  /** Chance that a matching request is hit (default 1). */
  probability?: number;
  /** Maximum number of hits (default unlimited). */
  count?: number;
  /** Matching requests to let through before the fault starts (default 0). */
  after?: number;
  /** For `http5xx`: the status (default 503). */
  status?: number;
  /** For `rateLimit`: the Retry-After in seconds (default 1). */
  retryAfter?: number;
  /** For `shortPage`: the most rows a page carries (default 100). */
  rows?: number;
  /** For `missing`: half-open [start, end) open-time ranges (ms). */
  ranges?: Array<[number, number]>;
  /** For `wsLateFinal`: how long after the minute's close the final is sent (ms). */
  delayMs?: number;
}

interface Armed {
  spec: FaultSpec;
  seen: number;
  hits: number;
}

export class FaultPlan {
  private armed: Armed[] = [];
  private rand: () => number;

  constructor(seed: number) {
    this.rand = mulberry32(seed ^ 0x5eed);
  }

  set(faults: readonly FaultSpec[]): void {
    this.armed = faults.map((spec) => ({ spec, seen: 0, hits: 0 }));
  }

  /** Faults of the given kinds that fire for this request (each draw advances the generator). */
  draw(path: string, symbol: string | undefined, kinds: readonly FaultKind[]): FaultSpec[] {
    const out: FaultSpec[] = [];
    for (const a of this.armed) {
      const s = a.spec;
      if (!kinds.includes(s.kind) || s.kind === 'missing') continue;
      const prefix =
        s.path ??
        (s.kind === 'corruptArchive' ? '/data/' : s.kind.startsWith('ws') ? '/' : '/api/v3/klines');
      if (!path.startsWith(prefix)) continue;
      if (s.symbol !== undefined && s.symbol !== symbol) continue;
      a.seen++;
      if (a.seen <= (s.after ?? 0)) continue;
      if (a.hits >= (s.count ?? Infinity)) continue;
      if ((s.probability ?? 1) < 1 && this.rand() >= (s.probability ?? 1)) continue;
      a.hits++;
      out.push(s);
    }
    return out;
  }

  /** Whether minute `t` of `symbol` is removed by a `missing` fault. */
  isMissing(symbol: string, t: number): boolean {
    for (const a of this.armed) {
      const s = a.spec;
      if (s.kind !== 'missing' || (s.symbol !== undefined && s.symbol !== symbol)) continue;
      if (s.ranges?.some(([lo, hi]) => t >= lo && t < hi)) return true;
    }
    return false;
  }

  hasMissing(): boolean {
    return this.armed.some((a) => a.spec.kind === 'missing');
  }

  /** A uniform draw from the plan's generator (for choosing which row to damage). */
  next(): number {
    return this.rand();
  }
}

/** Parses a CLI fault flag: `kind[:key=value,...]`, e.g. `http5xx:probability=0.1,count=5`. */
export function parseFaultFlag(text: string): FaultSpec {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new ThreadxError(
      'BAD_INPUT',
      `unknown fault ${JSON.stringify(kind)}: expected one of ${FAULT_KINDS.join(', ')}`,
    );
  }
  const spec: FaultSpec = { kind: kind as FaultKind };
  for (const part of rest.split(',').filter(Boolean)) {
    const [k, v] = part.split('=', 2);
    switch (k) {
      case 'path':
        spec.path = v;
        break;
      case 'symbol':
        spec.symbol = v;
        break;
      case 'probability':
      case 'count':
      case 'after':
      case 'status':
      case 'rows':
      case 'retryAfter':
      case 'delayMs':
        spec[k] = Number(v);
        break;
      case 'range': {
        const [a, b] = v.split('..').map((x) => (/^\d+$/.test(x) ? Number(x) : Date.parse(x)));
        spec.ranges = [...(spec.ranges ?? []), [a, b]];
        break;
      }
      default:
        throw new ThreadxError(
          'BAD_INPUT',
          `unknown fault option ${JSON.stringify(k)} in ${JSON.stringify(text)}`,
        );
    }
  }
  return spec;
}
