/** The watch status bar item's text and tooltip from `watch/status` (no vscode: tested in Node). */
import type { WatchStatusResult } from '../schemas/protocol.ts';

export interface WatchView {
  /** Hidden when nothing is watched. */
  visible: boolean;
  text: string;
  tooltip: string;
  error: boolean;
}

const hhmm = (t: number): string => new Date(t).toISOString().slice(11, 16);

/** "Lag" as a person reads it: seconds under two minutes, then minutes. */
export function lagText(ms: number): string {
  if (ms < 120_000) return `${Math.max(0, Math.round(ms / 1000))} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function watchView(s: WatchStatusResult): WatchView {
  const n = s.symbols.length;
  const names = s.symbols.slice(0, 10).join(', ') + (n > 10 ? ` and ${n - 10} more` : '');
  if (s.state === 'failed')
    return {
      visible: true,
      text: `$(error) Watch`,
      tooltip: `The watch of ${names} stopped: ${s.error ?? 'unknown error'}`,
      error: true,
    };
  if (n === 0 || s.state === 'idle' || s.state === 'stopped')
    return { visible: false, text: '', tooltip: '', error: false };
  if (s.state === 'catching-up')
    return {
      visible: true,
      text: `$(sync~spin) Watch ${n}: catching up`,
      tooltip: `Catching up ${names} before following the stream`,
      error: false,
    };
  const last = s.lastStored === null ? '-' : hhmm(s.lastStored);
  const lag = s.lagMs === null ? '' : ` · lag ${lagText(s.lagMs)}`;
  const down = s.connected < s.connections;
  return {
    visible: true,
    text: `$(${down ? 'debug-disconnect' : 'pulse'}) Watch ${n} · ${last}${lag}`,
    tooltip: [
      `Watching ${names}`,
      `every symbol stored up to ${last} UTC${lag}`,
      `stream ${s.connected}/${s.connections} connected${down ? ' (reconnecting; missed minutes are fetched by REST)' : ''}`,
      `${s.stored} minute(s) stored, ${s.backfilled} by REST, ${s.corrected} corrected; REST weight ${s.restWeight}`,
    ].join('\n'),
    error: false,
  };
}

/** The symbols typed in the prompt: comma- or space-separated, upper-cased, de-duplicated. */
export function parseWatchSymbols(text: string): { symbols: string[] } | { error: string } {
  const symbols = [
    ...new Set(
      text
        .split(/[\s,]+/)
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean),
    ),
  ];
  if (symbols.length === 0) return { error: 'Name at least one symbol, e.g. BTCUSDC, ETHUSDC.' };
  const bad = symbols.find((s) => !/^[A-Z0-9]{2,20}$/.test(s));
  if (bad) return { error: `${bad} is not a symbol: 2 to 20 letters or digits, such as BTCUSDC.` };
  return { symbols };
}
