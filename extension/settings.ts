/**
 * The `threadx.*` settings: reading them with their defaults, mapping them onto the daemon's
 * configuration (`threadx.toml` keys) and telling which changes need a daemon restart.
 *
 * No `vscode` here: the settings arrive through a getter, so this is tested under plain Node.
 */
import { defaultConfig } from '../schemas/config.ts';
import path from 'node:path';
import { stringify } from 'smol-toml';
import { INTERVALS, type Interval } from '../schemas/intervals.ts';

export const SECTION = 'threadx';

export interface Settings {
  /** Empty: the workspace's `data` folder, else the extension's global storage. */
  dataDirectory: string;
  apiBaseUrl: string;
  archiveUrl: string;
  wsUrl: string;
  marketCapUrl: string;
  concurrency: number;
  maxGapFillHours: number;
  defaultIntervals: Interval[];
  groups: Record<string, string[]>;
  indicatorsAfterIngest: string[];
}

/** The defaults are the daemon configuration's (`schemas/config.ts`), declared there once. */
const CONFIG_DEFAULTS = defaultConfig();
export const DEFAULT_SETTINGS: Settings = {
  dataDirectory: '',
  apiBaseUrl: CONFIG_DEFAULTS.data.api.base_url,
  archiveUrl: CONFIG_DEFAULTS.data.api.archive_url,
  wsUrl: CONFIG_DEFAULTS.data.api.ws_url,
  marketCapUrl: CONFIG_DEFAULTS.data.api.market_cap_url ?? '',
  concurrency: CONFIG_DEFAULTS.data.api.concurrency,
  maxGapFillHours: CONFIG_DEFAULTS.data.processing.max_gap_fill_hours,
  defaultIntervals: [...CONFIG_DEFAULTS.data.processing.default_intervals],
  groups: { ...CONFIG_DEFAULTS.groups },
  indicatorsAfterIngest: [...CONFIG_DEFAULTS.indicators.after_ingest],
};

export type SettingKey = keyof Settings;

/**
 * Settings the daemon reads when it starts: changing one only takes effect after a restart.
 * `defaultIntervals` is not among them, since the extension sends intervals with each request.
 */
export const RESTART_KEYS: readonly SettingKey[] = [
  'dataDirectory',
  'apiBaseUrl',
  'archiveUrl',
  'wsUrl',
  'marketCapUrl',
  'concurrency',
  'maxGapFillHours',
  'groups',
  'indicatorsAfterIngest',
];

/** The keys whose change (as reported by `affectsConfiguration`) needs a restart. */
export function restartKeysAffected(affects: (qualifiedKey: string) => boolean): SettingKey[] {
  return RESTART_KEYS.filter((k) => affects(`${SECTION}.${k}`));
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Reads every setting through `get` (VS Code's `WorkspaceConfiguration.get`), falling back to the
 * default for a missing or mistyped value, so a hand-edited settings.json cannot break startup.
 */
export function readSettings(get: (key: SettingKey) => unknown): Settings {
  const s: Settings = { ...DEFAULT_SETTINGS };
  const str = (
    k: 'dataDirectory' | 'apiBaseUrl' | 'archiveUrl' | 'wsUrl' | 'marketCapUrl',
  ): void => {
    const v = get(k);
    if (typeof v === 'string') s[k] = v.trim();
  };
  str('dataDirectory');
  str('apiBaseUrl');
  str('archiveUrl');
  str('wsUrl');
  str('marketCapUrl');
  const num = (k: 'concurrency' | 'maxGapFillHours', min: number, max: number): void => {
    const v = get(k);
    if (typeof v === 'number' && Number.isFinite(v)) s[k] = Math.min(max, Math.max(min, v));
  };
  num('concurrency', 1, 32);
  num('maxGapFillHours', 0, 168);
  if (s.concurrency !== Math.round(s.concurrency)) s.concurrency = Math.round(s.concurrency);
  const iv = get('defaultIntervals');
  if (isStringArray(iv)) {
    const known = iv.filter((i): i is Interval => (INTERVALS as readonly string[]).includes(i));
    if (known.length > 0) s.defaultIntervals = known;
  }
  const groups = get('groups');
  if (groups && typeof groups === 'object' && !Array.isArray(groups)) {
    s.groups = {};
    for (const [name, symbols] of Object.entries(groups as Record<string, unknown>)) {
      if (/^[A-Za-z0-9_-]{1,32}$/.test(name) && isStringArray(symbols)) {
        s.groups[name] = symbols.map((x) => x.trim().toUpperCase()).filter(Boolean);
      }
    }
  }
  const ind = get('indicatorsAfterIngest');
  if (isStringArray(ind)) s.indicatorsAfterIngest = ind;
  return s;
}

/**
 * Where the bank lives: the setting (relative paths against the workspace folder), else `data`
 * in the first workspace folder, else the extension's global storage.
 */
export function resolveDataDir(
  setting: string,
  workspaceFolder: string | undefined,
  globalStorage: string,
): string {
  if (setting) {
    const expanded = setting.replace(/^~(?=$|[/\\])/, process.env.HOME ?? '~');
    if (path.isAbsolute(expanded)) return path.normalize(expanded);
    return path.resolve(workspaceFolder ?? globalStorage, expanded);
  }
  if (workspaceFolder) return path.join(workspaceFolder, 'data');
  return path.join(globalStorage, 'data');
}

/**
 * The daemon configuration as `threadx.toml` text: a workspace `threadx.toml` (already parsed) as
 * the base, with every setting the user set explicitly on top. `explicit` lists those keys; the
 * others keep the base's value (or the daemon's default), so a team's checked-in file still
 * applies until someone overrides it in their settings.
 */
export function daemonConfigToml(
  settings: Settings,
  explicit: ReadonlySet<SettingKey>,
  base: Record<string, unknown> = {},
): string {
  const cfg = structuredClone(base) as {
    data?: { api?: Record<string, unknown>; processing?: Record<string, unknown> } & Record<
      string,
      unknown
    >;
    groups?: Record<string, string[]>;
    indicators?: Record<string, unknown>;
  } & Record<string, unknown>;
  // The data directory is given on the command line; a root here would only confuse.
  if (cfg.data) delete cfg.data.root;
  const data = (cfg.data ??= {});
  const api = (data.api ??= {});
  const processing = (data.processing ??= {});
  const set = (key: SettingKey, apply: () => void): void => {
    if (explicit.has(key)) apply();
  };
  set('apiBaseUrl', () => (api.base_url = settings.apiBaseUrl));
  set('archiveUrl', () => (api.archive_url = settings.archiveUrl));
  set('wsUrl', () => (api.ws_url = settings.wsUrl));
  set('marketCapUrl', () => {
    if (settings.marketCapUrl) api.market_cap_url = settings.marketCapUrl;
    else delete api.market_cap_url;
  });
  set('concurrency', () => (api.concurrency = settings.concurrency));
  set('maxGapFillHours', () => (processing.max_gap_fill_hours = settings.maxGapFillHours));
  set('defaultIntervals', () => (processing.default_intervals = settings.defaultIntervals));
  set('groups', () => (cfg.groups = { ...(cfg.groups ?? {}), ...settings.groups }));
  set('indicatorsAfterIngest', () => {
    cfg.indicators = { ...(cfg.indicators ?? {}), after_ingest: settings.indicatorsAfterIngest };
  });
  if (Object.keys(api).length === 0) delete data.api;
  if (Object.keys(processing).length === 0) delete data.processing;
  if (Object.keys(data).length === 0) delete cfg.data;
  return `# Written by the ThreadX Data extension from the threadx.* settings; edits are overwritten.\n${stringify(cfg)}\n`;
}
