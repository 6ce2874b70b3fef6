/** The webview side of the channel: typed `postMessage`, message listener and state. */
import type { HostMessage, ViewMessage } from './messages.ts';

interface VsCodeApi<S> {
  postMessage(message: ViewMessage): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

let api: VsCodeApi<unknown> | undefined;

export function vscodeApi<S>(): VsCodeApi<S> {
  api ??= acquireVsCodeApi<unknown>();
  return api as VsCodeApi<S>;
}

export function onHostMessage(handler: (m: HostMessage) => void): void {
  window.addEventListener('message', (e: MessageEvent<HostMessage>) => handler(e.data));
}

type Attrs = Record<string, string | number | boolean | undefined | EventListener>;

/** A tiny element builder: `h('button', { id: 'go', onclick: f }, 'Go')`. */
export function h<K extends string>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'className') el.className = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

export function utcMinute(t: number | null | undefined): string {
  if (t == null || !Number.isFinite(t)) return '—';
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
