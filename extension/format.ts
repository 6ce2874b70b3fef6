/** Number, time and size formatting shared by the tree, the status bar and the messages. */

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** `2023-05-01 21:03` (UTC, minutes). */
export function utcMinute(t: number | null | undefined): string {
  if (t == null || !Number.isFinite(t)) return '—';
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

/** `2023-05-01` (UTC). */
export function utcDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** A message as a sentence: a capital letter first, a full stop last, no codicon syntax. */
export function sentence(text: string): string {
  const t = text.replace(/\$\([a-z-]+\)\s*/g, '').trim();
  if (!t) return t;
  const first = t[0].toUpperCase() + t.slice(1);
  return /[.!?)]$/.test(first) ? first : `${first}.`;
}
