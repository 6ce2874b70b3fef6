import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { readFile } from 'node:fs/promises';
import { ConfigSchema } from '../../schemas/config.ts';
import {
  DEFAULT_SETTINGS,
  SECTION,
  daemonConfigToml,
  readSettings,
  resolveDataDir,
  restartKeysAffected,
} from '../../extension/settings.ts';

describe('settings', () => {
  it('falls back to the defaults for missing or mistyped values', () => {
    const values: Record<string, unknown> = {
      concurrency: 'eight',
      maxGapFillHours: 500,
      defaultIntervals: ['1h', 'bogus', '1d'],
      groups: { majors: ['btcusdc', ' ethusdc '], 'bad name': ['X'], worse: 'BTC' },
      indicatorsAfterIngest: 'rsi',
    };
    const s = readSettings((k) => values[k]);
    assert.equal(s.concurrency, DEFAULT_SETTINGS.concurrency);
    assert.equal(s.maxGapFillHours, 168, 'clamped');
    assert.deepEqual(s.defaultIntervals, ['1h', '1d']);
    assert.deepEqual(s.groups, { majors: ['BTCUSDC', 'ETHUSDC'] });
    assert.deepEqual(s.indicatorsAfterIngest, []);
  });

  it('resolves the data directory: setting, then workspace data, then global storage', () => {
    assert.equal(resolveDataDir('', '/ws', '/gs'), path.join('/ws', 'data'));
    assert.equal(resolveDataDir('', undefined, '/gs'), path.join('/gs', 'data'));
    assert.equal(resolveDataDir('bank', '/ws', '/gs'), path.resolve('/ws', 'bank'));
    assert.equal(resolveDataDir('/abs/bank', '/ws', '/gs'), path.normalize('/abs/bank'));
  });

  it('writes a configuration the daemon accepts, with only the explicit settings on top', () => {
    const given: Record<string, unknown> = {
      apiBaseUrl: 'http://127.0.0.1:9999',
      concurrency: 2,
      groups: { majors: ['BTCUSDC'] },
      indicatorsAfterIngest: ['rsi'],
    };
    const s = readSettings((k) => given[k]);
    const base = {
      data: { root: './elsewhere', api: { max_retries: 3 } },
      groups: { team: ['ETHUSDC'] },
    };
    const toml = daemonConfigToml(
      s,
      new Set(['apiBaseUrl', 'concurrency', 'groups', 'indicatorsAfterIngest']),
      base,
    );
    const cfg = ConfigSchema.parse(parse(toml));
    assert.equal(cfg.data.api.base_url, 'http://127.0.0.1:9999');
    assert.equal(cfg.data.api.concurrency, 2);
    assert.equal(cfg.data.api.max_retries, 3, 'the workspace file still applies');
    assert.equal(cfg.data.api.archive_url, 'https://data.binance.vision', 'not set: the default');
    assert.equal(cfg.data.root, './data', 'the data directory comes from the command line');
    assert.deepEqual(cfg.groups, { team: ['ETHUSDC'], majors: ['BTCUSDC'] });
    assert.deepEqual(cfg.indicators.after_ingest, ['rsi']);
    assert.equal(base.data.root, './elsewhere', 'the base is not modified');
  });

  it('an empty configuration is valid', () => {
    const toml = daemonConfigToml(DEFAULT_SETTINGS, new Set());
    assert.deepEqual(ConfigSchema.parse(parse(toml)), ConfigSchema.parse({}));
  });

  it('knows which changes need a daemon restart', () => {
    const changed = new Set(['threadx.apiBaseUrl', 'threadx.defaultIntervals']);
    assert.deepEqual(
      restartKeysAffected((k) => changed.has(k)),
      ['apiBaseUrl'],
    );
  });
});

describe('settings defaults, declared once', () => {
  it('package.json contributes.configuration defaults equal the config schema defaults', async () => {
    const pkg = JSON.parse(
      await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
    };
    const props = pkg.contributes.configuration.properties;
    const declared = Object.fromEntries(
      Object.entries(props).map(([k, v]) => [k.replace(`${SECTION}.`, ''), v.default]),
    );
    assert.deepEqual(declared, { ...DEFAULT_SETTINGS });
    const config = ConfigSchema.parse({});
    assert.equal(DEFAULT_SETTINGS.apiBaseUrl, config.data.api.base_url);
    assert.equal(DEFAULT_SETTINGS.concurrency, config.data.api.concurrency);
    assert.deepEqual(DEFAULT_SETTINGS.defaultIntervals, config.data.processing.default_intervals);
  });
});
