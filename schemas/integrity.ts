/**
 * How an integrity state reads for a person, written once for the CLI, the tree and the webviews.
 * No zod here: webview bundles import this module.
 */

/** A dataset's or file's integrity state (`IntegritySchema` in registry.ts validates it). */
export interface IntegrityState {
  state: 'verified' | 'not-verified' | 'changed' | 'corrupt' | 'missing';
  at?: number;
  since?: number;
  reason?: string;
  file?: string;
}

/** "verified <time>", "not verified", "changed since <time>", "corrupt: <reason>". */
export function integrityText(i: IntegrityState, time: (t: number) => string): string {
  switch (i.state) {
    case 'verified':
      return `verified ${time(i.at ?? 0)}`;
    case 'not-verified':
      return 'not verified';
    case 'changed':
      return i.since !== undefined ? `changed since ${time(i.since)}` : 'changed';
    case 'corrupt':
      return `corrupt: ${i.reason ?? 'the file is damaged'}`;
    case 'missing':
      return `corrupt: ${i.reason ?? 'the file is missing'}`;
  }
}
