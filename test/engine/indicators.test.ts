import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  DEFAULT_PARAMS,
  INDICATOR_NAMES,
  IndicatorParamsError,
  OUTPUT_NAMES,
  atr,
  bbands,
  computeIndicator,
  ema,
  indicatorSpecSchema,
  lookback,
  macd,
  paramsKey,
  parseIndicatorParams,
  rsi,
  sma,
  type IndicatorName,
} from '../../daemon/engine/indicators.ts';
import { syntheticOhlc } from '../helpers/synth.ts';

// ---------------------------------------------------------------------------------------------
// Golden vectors generated with TA-Lib (scripts/gen-golden-indicators.mjs).
// ---------------------------------------------------------------------------------------------

interface GoldenCase {
  name: IndicatorName;
  params: Record<string, number>;
  begIndex: number;
  outputs: Record<string, (number | null)[]>;
  talibUnstableRows?: number[];
}
interface Golden {
  id: string;
  length: number;
  inputSha256: string;
  input:
    | { kind: 'klines'; high: number[]; low: number[]; close: number[] }
    | { kind: 'synthetic'; seed: number; count: number };
  /** Sampled row indices the outputs refer to; null when every row is stored. */
  rows: number[] | null;
  cases: GoldenCase[];
}

const TOLERANCE = 1e-9;

function loadGolden(file: string): {
  golden: Golden;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
} {
  const golden = JSON.parse(
    readFileSync(new URL(`../fixtures/indicators/${file}`, import.meta.url), 'utf8'),
  ) as Golden;
  const input = golden.input;
  const d =
    input.kind === 'klines'
      ? {
          high: Float64Array.from(input.high),
          low: Float64Array.from(input.low),
          close: Float64Array.from(input.close),
        }
      : syntheticOhlc(input.count, input.seed);
  return { golden, ...d };
}

function sha256(cols: Float64Array[]): string {
  const h = createHash('sha256');
  for (const c of cols) h.update(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
  return h.digest('hex');
}

/** Population sigma of x[end-period+1..end] by the corrected two-pass formula. */
function twoPassSigma(x: Float64Array, end: number, period: number): number {
  let s = 0;
  for (let j = end - period + 1; j <= end; j++) s += x[j];
  const mean = s / period;
  let sd = 0;
  let sd2 = 0;
  for (let j = end - period + 1; j <= end; j++) {
    sd += x[j] - mean;
    sd2 += (x[j] - mean) ** 2;
  }
  return Math.sqrt(Math.max(0, sd2 - (sd * sd) / period) / period);
}

/**
 * What "correct" means for sigma at high prices: within 1e-9 relative, or within 16 ulps of the
 * price (the bands are rounded to the price's ulp anyway, ~1.5e-11 at 1e5).
 */
function sigmaTolerance(ref: number, price: number): number {
  return 1e-9 * ref + 16 * Number.EPSILON * Math.abs(price);
}

/** Relative error of `got` against `want`, 0 when bit-identical. */
function relErr(got: number, want: number): number {
  if (got === want) return 0;
  return Math.abs(got - want) / Math.abs(want);
}

/** Asserts that a[from..] is non-empty and every value equals `want` exactly. */
function assertAll(a: Float64Array, from: number, want: number, what: string): void {
  assert.ok(a.length > from, `${what}: too short`);
  for (let i = from; i < a.length; i++) {
    if (a[i] !== want) assert.fail(`${what}[${i}] = ${a[i]}, expected ${want}`);
  }
}

for (const file of ['btc-usdt-1m.json', 'eth-usdt-1h.json', 'synthetic-1e5.json']) {
  describe(`golden vectors: ${file}`, () => {
    const { golden, high, low, close } = loadGolden(file);

    test('input is the one the vectors were generated from', () => {
      assert.equal(close.length, golden.length);
      assert.equal(sha256([high, low, close]), golden.inputSha256);
    });

    for (const c of golden.cases) {
      test(`${paramsKey(c.name, c.params)} matches TA-Lib to ${TOLERANCE} with identical NaN positions`, () => {
        const lb = lookback(c.name, c.params);
        assert.equal(c.begIndex, lb, 'lookback() equals TA-Lib begIndex');
        const out = computeIndicator(c.name, c.params, { high, low, close }) as unknown as Record<
          string,
          Float64Array
        >;
        assert.deepEqual(Object.keys(out).sort(), Object.keys(c.outputs).sort());
        const unstable = new Set(c.talibUnstableRows ?? []);
        const rows = golden.rows ?? Array.from({ length: golden.length }, (_, i) => i);
        let compared = 0;
        for (const [key, want] of Object.entries(c.outputs)) {
          const got = out[key];
          assert.equal(got.length, golden.length);
          // NaN exactly before the lookback, defined from it on, over the full series.
          for (let i = 0; i < got.length; i++) {
            if (Number.isNaN(got[i]) !== i < lb)
              assert.fail(`${key}[${i}] = ${got[i]}, lookback ${lb}`);
          }
          rows.forEach((row, s) => {
            const w = want[s];
            if (w === null) {
              assert.ok(Number.isNaN(got[row]), `${key}[${row}] should be NaN, got ${got[row]}`);
              return;
            }
            if (unstable.has(row) && key !== 'middle') return; // checked against two-pass below
            const e = relErr(got[row], w);
            if (!(e <= TOLERANCE)) {
              assert.fail(`${key}[${row}]: ours ${got[row]}, TA-Lib ${w}, relative error ${e}`);
            }
            compared++;
          });
        }
        assert.ok(compared > 0.9 * rows.length, `compared ${compared} values`);
      });

      if (c.name === 'bbands' && c.talibUnstableRows && c.talibUnstableRows.length > 0) {
        test(`${paramsKey(c.name, c.params)}: where TA-Lib's sigma cancels, ours matches a two-pass sigma`, () => {
          const { period, k } = c.params;
          const b = bbands(close, period, k);
          const rows = golden.rows ?? Array.from({ length: golden.length }, (_, i) => i);
          for (const row of c.talibUnstableRows ?? []) {
            const ref = twoPassSigma(close, row, period);
            const s = rows.indexOf(row);
            const talibSigma =
              ((c.outputs.upper[s] as number) - (c.outputs.middle[s] as number)) / k;
            const oursSigma = (b.upper[row] - b.middle[row]) / k;
            assert.ok(
              Math.abs(oursSigma - ref) <= sigmaTolerance(ref, b.middle[row]),
              `row ${row}: ours ${oursSigma}, two-pass ${ref}`,
            );
            assert.ok(
              Math.abs(talibSigma - ref) > Math.abs(oursSigma - ref),
              `row ${row}: TA-Lib ${talibSigma} should be further from ${ref} than ours ${oursSigma}`,
            );
          }
        });
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Bollinger sigma at prices near 1e5 against a two-pass reference.
// ---------------------------------------------------------------------------------------------

describe('bbands numerical stability', () => {
  /** Deterministic LCG in [0, 1). */
  function lcg(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296;
    };
  }

  test('sigma matches a two-pass reference for a near-flat series at 1e5', () => {
    const r = lcg(7);
    const n = 20_000;
    const x = new Float64Array(n);
    // Cent-level noise on 100000: variance ~1e-4 against x^2 ~1e10, 14 digits of cancellation.
    for (let i = 0; i < n; i++) x[i] = 100_000 + Math.round((r() - 0.5) * 6) / 100;
    const period = 20;
    const b = bbands(x, period, 1);
    let worstOurs = 0;
    let worstNaive = 0;
    for (let i = period - 1; i < n; i++) {
      const ref = twoPassSigma(x, i, period);
      // Our sigma, without the rounding of adding it to the middle band.
      const ours = b.upper[i] - b.middle[i];
      worstOurs = Math.max(worstOurs, Math.abs(ours - ref));
      let s = 0;
      let s2 = 0;
      for (let j = i - period + 1; j <= i; j++) {
        s += x[j];
        s2 += x[j] * x[j];
      }
      const naive = Math.sqrt(Math.max(0, s2 / period - (s / period) ** 2));
      worstNaive = Math.max(worstNaive, Math.abs(naive - ref));
    }
    // Ours is within a few price ulps (~1.5e-11 each); the naive formula is off by ~1e-3.
    assert.ok(worstOurs <= sigmaTolerance(0, 100_000), `ours off by ${worstOurs}`);
    assert.ok(worstNaive > 1e3 * worstOurs, `naive off by ${worstNaive}: test data too easy`);
  });

  test('no drift across a million rows, or after a volatile stretch turns calm', () => {
    const r = lcg(11);
    const n = 1_000_000;
    const x = new Float64Array(n);
    let p = 100_000;
    for (let i = 0; i < n; i++) {
      // Wild for the first half (1% moves), then almost still (cent noise around the last price).
      if (i < n / 2) p *= 1 + (r() - 0.5) * 0.02;
      x[i] = i < n / 2 ? p : Math.round(p * 100) / 100 + Math.round((r() - 0.5) * 4) / 100;
    }
    const period = 50;
    const b = bbands(x, period, 2);
    for (const i of [period - 1, 1000, n / 2 - 1, n / 2 + period, n / 2 + 100_000, n - 1]) {
      const ref = twoPassSigma(x, i, period);
      const ours = (b.upper[i] - b.middle[i]) / 2;
      assert.ok(
        Math.abs(ours - ref) <= sigmaTolerance(ref, b.middle[i]),
        `row ${i}: ours ${ours}, two-pass ${ref}`,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Parameters.
// ---------------------------------------------------------------------------------------------

function paramsError(f: () => unknown): IndicatorParamsError {
  try {
    f();
  } catch (err) {
    assert.ok(
      err instanceof IndicatorParamsError,
      `expected IndicatorParamsError, got ${String(err)}`,
    );
    return err;
  }
  assert.fail('expected an IndicatorParamsError');
}

describe('parameters', () => {
  test('defaults', () => {
    assert.deepEqual(DEFAULT_PARAMS, {
      sma: { period: 20 },
      ema: { period: 20 },
      rsi: { period: 14 },
      macd: { fast: 12, slow: 26, signal: 9 },
      bbands: { period: 20, k: 2 },
      atr: { period: 14 },
    });
    for (const name of INDICATOR_NAMES) {
      assert.deepEqual(parseIndicatorParams(name, {}), DEFAULT_PARAMS[name]);
      assert.deepEqual(parseIndicatorParams(name, undefined), DEFAULT_PARAMS[name]);
    }
    assert.deepEqual(parseIndicatorParams('macd', { signal: 5 }), {
      fast: 12,
      slow: 26,
      signal: 5,
    });
  });

  test('periods must be integers in 1..10000, and the error names the parameter', () => {
    for (const bad of [0, -3, 2.5, 10_001, NaN, Infinity]) {
      const e = paramsError(() => parseIndicatorParams('rsi', { period: bad }));
      assert.equal(e.issues.length, 1);
      assert.equal(e.issues[0].param, 'period');
      assert.match(e.message, /^invalid rsi parameters: period must be/);
    }
    assert.match(
      paramsError(() => parseIndicatorParams('sma', { period: 0 })).message,
      /period must be at least 1/,
    );
    assert.match(
      paramsError(() => parseIndicatorParams('ema', { period: 10_001 })).message,
      /period must be at most 10000/,
    );
    assert.match(
      paramsError(() => parseIndicatorParams('atr', { period: 1.5 })).message,
      /period must be an integer/,
    );
    assert.match(
      paramsError(() => parseIndicatorParams('sma', { period: '20' as unknown as number })).message,
      /period must be a number/,
    );
    assert.deepEqual(parseIndicatorParams('sma', { period: 1 }), { period: 1 });
    assert.deepEqual(parseIndicatorParams('sma', { period: 10_000 }), { period: 10_000 });
  });

  test('macd: every period checked, and fast must be below slow', () => {
    const e = paramsError(() => parseIndicatorParams('macd', { fast: 26, slow: 12 }));
    assert.deepEqual(e.issues, [
      { param: 'fast', message: 'fast (26) must be less than slow (12)' },
    ]);
    paramsError(() => parseIndicatorParams('macd', { fast: 12, slow: 12 }));
    const s = paramsError(() => parseIndicatorParams('macd', { signal: 0 }));
    assert.equal(s.issues[0].param, 'signal');
    const both = paramsError(() => parseIndicatorParams('macd', { fast: 0.5, slow: 20_000 }));
    assert.deepEqual(
      both.issues.map((i) => i.param),
      ['fast', 'slow'],
    );
  });

  test('bbands k must be finite and positive', () => {
    for (const bad of [0, -1, Infinity, NaN]) {
      const e = paramsError(() => parseIndicatorParams('bbands', { k: bad }));
      assert.equal(e.issues[0].param, 'k');
      assert.match(e.message, /k must be/);
    }
    assert.deepEqual(parseIndicatorParams('bbands', { k: 0.5 }), { period: 20, k: 0.5 });
  });

  test('unknown parameters, non-object parameters and unknown indicators are rejected', () => {
    const e = paramsError(() => parseIndicatorParams('rsi', { perod: 14 } as never));
    assert.match(e.message, /unknown rsi parameter 'perod' \(expected period\)/);
    assert.match(
      paramsError(() => parseIndicatorParams('rsi', 14 as never)).message,
      /must be an object/,
    );
    const u = paramsError(() => parseIndicatorParams('vwap' as IndicatorName, {}));
    assert.equal(u.issues[0].param, 'name');
    assert.match(u.message, /unknown indicator 'vwap'/);
    assert.throws(
      () => computeIndicator('rsi', { period: 0 }, { close: new Float64Array(10) }),
      IndicatorParamsError,
    );
  });

  test('lookback follows the TA-Lib table', () => {
    assert.equal(lookback('sma', {}), 19);
    assert.equal(lookback('ema', { period: 50 }), 49);
    assert.equal(lookback('rsi', {}), 14);
    assert.equal(lookback('macd', {}), 33);
    assert.equal(lookback('macd', { fast: 5, slow: 35, signal: 5 }), 38);
    assert.equal(lookback('bbands', {}), 19);
    assert.equal(lookback('atr', { period: 7 }), 7);
  });

  test('paramsKey is stable, defaulted and file-name safe', () => {
    assert.equal(paramsKey('rsi', { period: 14 }), 'rsi-14');
    assert.equal(paramsKey('rsi', {}), 'rsi-14');
    assert.equal(paramsKey('macd', {}), 'macd-12-26-9');
    assert.equal(paramsKey('macd', { signal: 9, slow: 26, fast: 12 }), 'macd-12-26-9');
    assert.equal(paramsKey('bbands', {}), 'bbands-20-2');
    assert.equal(paramsKey('bbands', { period: 10, k: 1.5 }), 'bbands-10-1.5');
    assert.equal(paramsKey('bbands', { k: 2.0 }), paramsKey('bbands', { k: 2 }));
    assert.equal(paramsKey('bbands', { k: 1e-7 }), 'bbands-20-1em7');
    assert.equal(paramsKey('atr', {}), 'atr-14');
    for (const name of INDICATOR_NAMES) assert.match(paramsKey(name, {}), /^[a-z]+(-[0-9a-z.]+)+$/);
    assert.throws(() => paramsKey('sma', { period: -1 }), IndicatorParamsError);
  });

  test('indicatorSpecSchema fills defaults per indicator', () => {
    assert.deepEqual(indicatorSpecSchema.parse({ name: 'macd' }), {
      name: 'macd',
      params: { fast: 12, slow: 26, signal: 9 },
    });
    assert.deepEqual(indicatorSpecSchema.parse({ name: 'bbands', params: { k: 3 } }), {
      name: 'bbands',
      params: { period: 20, k: 3 },
    });
    assert.equal(
      indicatorSpecSchema.safeParse({ name: 'rsi', params: { period: 0 } }).success,
      false,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Output buffers.
// ---------------------------------------------------------------------------------------------

describe('output buffers', () => {
  const a = syntheticOhlc(3_000, 1);
  const b = syntheticOhlc(3_000, 2);

  test('caller buffers are filled in place, garbage and stale values overwritten', () => {
    for (const name of INDICATOR_NAMES) {
      const bufs: Record<string, Float64Array> = {};
      for (const key of OUTPUT_NAMES[name])
        bufs[key as string] = new Float64Array(3_000).fill(12345);
      const first = computeIndicator(name, {}, a, bufs as never) as unknown as Record<
        string,
        Float64Array
      >;
      for (const key of OUTPUT_NAMES[name]) assert.equal(first[key as string], bufs[key as string]);
      // Reuse the same buffers for another series: results equal a fresh computation.
      const second = computeIndicator(name, {}, b, bufs as never) as unknown as Record<
        string,
        Float64Array
      >;
      const fresh = computeIndicator(name, {}, b) as unknown as Record<string, Float64Array>;
      for (const key of OUTPUT_NAMES[name]) {
        assert.equal(second[key as string], bufs[key as string]);
        assert.deepEqual(second[key as string], fresh[key as string], `${name}.${String(key)}`);
        assert.ok(!second[key as string].includes(12345), 'stale values left behind');
      }
    }
  });

  test('a partial set of buffers is accepted; the rest are allocated', () => {
    const signal = new Float64Array(3_000);
    const m = macd(a.close, 12, 26, 9, { signal });
    assert.equal(m.signal, signal);
    assert.equal(m.macd.length, 3_000);
    assert.notEqual(m.macd, signal);
  });

  test('wrong lengths and buffers that alias an input are rejected', () => {
    assert.throws(
      () => sma(a.close, 20, new Float64Array(10)),
      /sma output buffer has length 10, expected 3000/,
    );
    assert.throws(() => rsi(a.close, 14, a.close), /overlaps an input/);
    const shared = new Float64Array(6_000);
    const x = shared.subarray(0, 3_000);
    x.set(a.close);
    assert.throws(() => ema(x, 20, shared.subarray(1_500, 4_500)), /overlaps an input/);
    assert.doesNotThrow(() => ema(x, 20, shared.subarray(3_000)));
    const out = new Float64Array(3_000);
    assert.throws(() => bbands(a.close, 20, 2, { middle: out, upper: out }), /overlaps/);
    assert.throws(() => atr(a.high, a.low.subarray(1), a.close, 14), /equal length/);
    assert.throws(() => computeIndicator('atr', {}, { close: a.close }), /needs high and low/);
  });
});

// ---------------------------------------------------------------------------------------------
// Edge cases.
// ---------------------------------------------------------------------------------------------

describe('edge cases', () => {
  const d = syntheticOhlc(200, 3);

  test('series no longer than the lookback are all NaN; one more row defines exactly one value', () => {
    for (const name of INDICATOR_NAMES) {
      const lb = lookback(name, {});
      for (const n of [0, 1, lb]) {
        const s = {
          high: d.high.subarray(0, n),
          low: d.low.subarray(0, n),
          close: d.close.subarray(0, n),
        };
        for (const v of Object.values(
          computeIndicator(name, {}, s) as unknown as Record<string, Float64Array>,
        )) {
          assert.equal(v.length, n);
          assert.ok(v.every(Number.isNaN), `${name} on ${n} rows`);
        }
      }
      const s = {
        high: d.high.subarray(0, lb + 1),
        low: d.low.subarray(0, lb + 1),
        close: d.close.subarray(0, lb + 1),
      };
      for (const v of Object.values(
        computeIndicator(name, {}, s) as unknown as Record<string, Float64Array>,
      )) {
        assert.equal(v.filter((x) => !Number.isNaN(x)).length, 1, name);
        assert.ok(!Number.isNaN(v[lb]), `${name} defined at its lookback`);
      }
    }
  });

  test('constant series: averages equal the price, zero-width bands, RSI 0, ATR 0, MACD 0', () => {
    const n = 500;
    // A price whose multiples are exact, so that even TA-Lib's running sums return it unchanged.
    const p = 104_321.375;
    const c = new Float64Array(n).fill(p);
    assertAll(sma(c, 20), 19, p, 'sma');
    assertAll(ema(c, 20), 19, p, 'ema');
    const b = bbands(c, 20, 2);
    assertAll(b.upper, 19, p, 'upper band');
    assertAll(b.lower, 19, p, 'lower band');
    assertAll(rsi(c, 14), 14, 0, 'RSI is 0 when gain + loss = 0');
    assertAll(atr(c, c, c, 14), 14, 0, 'atr');
    const m = macd(c, 12, 26, 9);
    assertAll(m.macd, 33, 0, 'macd');
    assertAll(m.signal, 33, 0, 'signal');
    assertAll(m.hist, 33, 0, 'hist');
  });

  test('RSI: 0 while flat, 100 on only gains, 0 on only losses, exact on a hand example', () => {
    const flatThenUp = Float64Array.from([5, 5, 5, 5, 6]);
    assert.deepEqual(Array.from(rsi(flatThenUp, 3)), [NaN, NaN, NaN, 0, 100]);
    const up = Float64Array.from({ length: 30 }, (_, i) => 100 + i);
    assertAll(rsi(up, 14), 14, 100, 'rsi of a rising series');
    const down = Float64Array.from({ length: 30 }, (_, i) => 100 - i);
    assertAll(rsi(down, 14), 14, 0, 'rsi of a falling series');
    // Changes +2, -1, +1, then -2: seed gain 3/3, loss 1/3 -> 75; next gain 2/3, loss 4/3... /3.
    const x = Float64Array.from([10, 12, 11, 12, 10]);
    const r = rsi(x, 3);
    assert.equal(r[3], 75);
    const gain = (1 * 2 + 0) / 3;
    const loss = ((1 / 3) * 2 + 2) / 3;
    assert.equal(r[4], 100 * (gain / (gain + loss)));
  });

  test('hand-checked small cases', () => {
    const x = Float64Array.from([1, 2, 3, 4, 5, 6]);
    assert.deepEqual(Array.from(sma(x, 3)), [NaN, NaN, 2, 3, 4, 5]);
    // EMA(3): k = 0.5, seeded with the mean of 1, 2, 3.
    assert.deepEqual(Array.from(ema(x, 3)), [NaN, NaN, 2, 3, 4, 5]);
    const b = bbands(Float64Array.from([2, 4, 4, 4, 5, 5, 7, 9]), 8, 1);
    assert.equal(b.middle[7], 5);
    assert.equal(b.upper[7], 7); // population sigma 2
    assert.equal(b.lower[7], 3);
    // ATR(2): TR[1] = max(3-1, |2-3|, |2-1|) = 2, TR[2] = max(1, |2-4|, |2-3|) = 2, TR[3] = 4.
    const h = Float64Array.from([3, 3, 4, 6]);
    const l = Float64Array.from([1, 1, 3, 2]);
    const c = Float64Array.from([2, 2, 3, 5]);
    assert.deepEqual(Array.from(atr(h, l, c, 2)), [NaN, NaN, 2, 3]);
    // Period 1 (below TA-Lib's minimum of 2) is the identity for the averages.
    assert.deepEqual(Array.from(sma(x, 1)), Array.from(x));
    assert.deepEqual(Array.from(ema(x, 1)), Array.from(x));
  });

  test('MACD seeds the fast EMA on the window ending at slow-1, not at fast-1', () => {
    const c = d.close;
    const m = macd(c, 3, 6, 2);
    // Fast EMA(3) seeded on bars 3..5, slow EMA(6) on bars 0..5, both from bar 5.
    let fast = (c[3] + c[4] + c[5]) / 3;
    let slow = (c[0] + c[1] + c[2] + c[3] + c[4] + c[5]) / 6;
    const line5 = fast - slow;
    fast = (c[6] - fast) * 0.5 + fast;
    slow = (c[6] - slow) * (2 / 7) + slow;
    const line6 = fast - slow;
    assert.equal(lookback('macd', { fast: 3, slow: 6, signal: 2 }), 6);
    assert.ok(Number.isNaN(m.macd[5]), 'macd undefined before the lookback');
    assert.equal(m.macd[6], line6);
    assert.equal(m.signal[6], (line5 + line6) / 2);
    assert.equal(m.hist[6], line6 - (line5 + line6) / 2);
  });

  test('low-level functions reject bad arguments', () => {
    assert.throws(() => sma(d.close, 0), /sma period must be an integer between 1 and 10000/);
    assert.throws(() => macd(d.close, 26, 12, 9), /fast \(26\) must be less than slow \(12\)/);
    assert.throws(() => bbands(d.close, 20, 0), /bbands k must be/);
  });
});

test('every indicator has its declared outputs', () => {
  const d = syntheticOhlc(100, 5);
  for (const name of INDICATOR_NAMES) {
    const out = computeIndicator(name, {}, d);
    assert.deepEqual(Object.keys(out).sort(), [...OUTPUT_NAMES[name]].map(String).sort());
  }
});
