/** Plain-text output helpers for the CLI: aligned tables and a TTY progress line. */

/**
 * An aligned table. Loops, not `Math.max(...column)`: a listing of 200,000 datasets would pass
 * 200,000 arguments and overflow the stack.
 */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h) => h.length);
  for (const r of cells)
    for (let i = 0; i < widths.length; i++) {
      const n = (r[i] ?? '').length;
      if (n > widths[i]) widths[i] = n;
    }
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(headers), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(line(r));
  return out.join('\n');
}

export function iso(t: number | null | undefined): string {
  if (t === null || t === undefined) return '-';
  return new Date(t).toISOString().replace(':00.000Z', 'Z');
}

/** A one-line progress display, drawn only when stderr is a terminal. */
export class Progress {
  private last = 0;
  private readonly enabled: boolean;
  constructor(enabled = true) {
    this.enabled = enabled && Boolean(process.stderr.isTTY);
  }
  update(text: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 80) return;
    this.last = now;
    process.stderr.write(`\r\x1b[2K${text.slice(0, (process.stderr.columns ?? 100) - 1)}`);
  }
  done(): void {
    if (this.enabled) process.stderr.write('\r\x1b[2K');
  }
}
