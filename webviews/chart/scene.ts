/**
 * What the chart page adds to the Vega-Lite spec of `spec.ts` when it draws: each panel's y domain
 * over the candles in view (`viewDomains`), and the parts of the crosshair Vega-Lite cannot
 * express, added to the compiled Vega spec (`withCrosshair`). No DOM here, so it is tested under
 * Node (test/extension/chart-render.test.ts).
 */
import type { Interval } from '../../schemas/intervals.ts';

/** One candle's row: its drawing coordinates, OHLCV and indicator outputs as columns. */
export type Row = Record<string, number | null | string>;

/** A panel's y domain: a signal set from the rows in view (or fixed, as RSI's 0-100). */
export interface DomainSpec {
  signal: string;
  /** The row columns it spans. */
  fields: string[];
  fixed?: [number, number];
  /** Room above and below, as a share of the span. */
  pad?: number;
  /** Whether 0 is always in it (a histogram drawn from 0). */
  zero?: boolean;
}

/** A panel with a horizontal crosshair rule: its Vega-Lite view name, its tag's text for `value`. */
export interface CrossPanel {
  view: string;
  value: string;
}

/** What the page needs besides the Vega-Lite spec, carried in its `usermeta`. */
export interface ChartMeta {
  domains: DomainSpec[];
  /** Whether the spec draws gaps or outages (then the page sends the `gaps` data). */
  gaps: boolean;
  crosshair: {
    panels: CrossPanel[];
    /** The bottom panel, which carries the time axis and its tag. */
    timeView: string;
    /** A Vega expression printing the open time `t` for the time tag. */
    time: string;
    rule: string;
    tag: string;
    tagText: string;
    font: string;
  };
}

/** The time tag's text: the candle's open time at the timeframe's precision. */
export function timeTagExpr(interval: Interval): string {
  if (interval === '1M') return "utcFormat(t, '%b %Y')";
  if (interval === '1w' || interval === '3d' || interval === '1d')
    return "utcFormat(t, '%a %d %b %Y')";
  return "utcFormat(t, '%a %d %b %Y  %H:%M')";
}

/**
 * Each panel's y domain over the rows in the window [from, to): the lowest and highest value of
 * its columns, with room above and below. A panel with no value in view gets [0, 1].
 */
export function viewDomains(
  rows: Row[],
  window: [number, number],
  domains: DomainSpec[],
): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const d of domains) {
    if (d.fixed) {
      out[d.signal] = d.fixed;
      continue;
    }
    let lo = d.zero ? 0 : Infinity;
    let hi = d.zero ? 0 : -Infinity;
    for (const r of rows) {
      if ((r.x1 as number) <= window[0] || (r.x0 as number) >= window[1]) continue;
      for (const f of d.fields) {
        const v = r[f];
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
      out[d.signal] = [0, 1];
      continue;
    }
    const span = hi - lo || Math.abs(hi) * 0.01 || 1;
    const pad = span * (d.pad ?? 0);
    out[d.signal] = [
      d.zero && lo === 0 ? 0 : lo - (hi === lo ? span : pad),
      d.zero && hi === 0 ? 0 : hi + (hi === lo ? span : pad),
    ];
  }
  return out;
}

type VgMark = Record<string, unknown> & { name?: string; marks?: VgMark[] };

/**
 * Adds to the compiled Vega spec what Vega-Lite cannot say: a `cross` signal holding the panel
 * under the pointer and the pointer's height in it, and in each panel a horizontal rule at that
 * height with the value there in a tag on the panel's price axis; and in the bottom panel a tag on
 * the time axis with the open time of the candle the vertical rule snapped to.
 */
export function withCrosshair(vg: Record<string, unknown>): Record<string, unknown> {
  const meta = (vg.usermeta as ChartMeta | undefined)?.crosshair;
  if (!meta) return vg;
  const marks = (vg.marks ?? []) as VgMark[];
  const group = (view: string): VgMark | undefined => marks.find((m) => m.name === `${view}_group`);
  const heightOf = (g: VgMark): string =>
    String(
      ((g.encode as Record<string, Record<string, { signal?: string }>>).update.height ?? {})
        .signal ?? '0',
    );
  const names = meta.panels.map((p) => `'${p.view}_group'`).join(', ');
  const signals = (vg.signals ?? []) as Record<string, unknown>[];
  signals.push(
    {
      name: 'cross',
      value: null,
      on: [
        {
          events: 'pointermove',
          update: `isTuple(group()) && indexof([${names}], group().mark.name) >= 0 ? { g: group().mark.name, y: y(group()) } : null`,
        },
        { events: 'pointerout', update: 'null' },
      ],
    },
    {
      name: 'cross_t',
      update: "length(data('hover_store')) ? data('hover_store')[0].values[0] : null",
    },
  );
  vg.signals = signals;
  const tagFont = { font: { value: meta.font }, fontSize: { value: 11 } };
  for (const p of meta.panels) {
    const g = group(p.view);
    if (!g) continue;
    const h = heightOf(g);
    const on = `cross && cross.g === '${p.view}_group' && cross.y >= 0 && cross.y <= ${h}`;
    const value = `invert('${p.view}_y', cross.y)`;
    const text = `(${on}) ? ${p.value.replaceAll('value', value)} : ''`;
    g.marks = [
      ...(g.marks ?? []),
      {
        name: `${p.view}_hcross`,
        type: 'rule',
        interactive: false,
        aria: false,
        zindex: 2,
        encode: {
          update: {
            x: { value: 0 },
            x2: { field: { group: 'width' } },
            y: { signal: `(${on}) ? cross.y : 0` },
            opacity: { signal: `(${on}) ? 1 : 0` },
            stroke: { value: meta.rule },
            strokeDash: { value: [4, 3] },
            strokeWidth: { value: 1 },
          },
        },
      },
      ...tag(`${p.view}_ytag`, {
        x: { field: { group: 'width' } },
        y: { signal: `(${on}) ? cross.y : 0` },
        text,
        align: 'left',
      }),
    ];
  }
  const bottom = group(meta.timeView);
  if (bottom) {
    const h = heightOf(bottom);
    const on = 'isValid(cross_t)';
    bottom.marks = [
      ...(bottom.marks ?? []),
      ...tag('time_tag', {
        x: { scale: 'x', signal: `${on} ? cross_t : xmin` },
        y: { signal: `${h} + 10` },
        text: `${on} ? ${meta.time.replaceAll('(t,', '(cross_t,')} : ''`,
        align: 'center',
      }),
    ];
  }
  return vg;

  /** A tag: the text on a filled box, drawn over the axis (empty text: nothing shown). */
  function tag(
    name: string,
    at: { x: Record<string, unknown>; y: Record<string, unknown>; text: string; align: string },
  ): VgMark[] {
    const w = `length(${at.text}) * 6.4 + 10`;
    const x0 = at.align === 'center' ? { ...at.x, offset: { signal: `-(${w}) / 2` } } : { ...at.x };
    return [
      {
        name: `${name}_box`,
        type: 'rect',
        interactive: false,
        aria: false,
        zindex: 3,
        encode: {
          update: {
            x: x0,
            width: { signal: w },
            yc: at.y,
            height: { value: 17 },
            fill: { value: meta!.tag },
            opacity: { signal: `length(${at.text}) ? 1 : 0` },
          },
        },
      },
      {
        name,
        type: 'text',
        interactive: false,
        zindex: 4,
        encode: {
          update: {
            x: at.align === 'center' ? at.x : { ...at.x, offset: 5 },
            y: at.y,
            align: { value: at.align },
            baseline: { value: 'middle' },
            text: { signal: at.text },
            fill: { value: meta!.tagText },
            ...tagFont,
          },
        },
      },
    ];
  }
}
