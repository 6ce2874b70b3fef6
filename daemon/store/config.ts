import { ThreadxError } from '../../schemas/errors.ts';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { type Config, ConfigSchema } from '../../schemas/config.ts';

export class ConfigError extends ThreadxError {
  override readonly name = 'ConfigError';
  constructor(message: string) {
    super('CONFIG', message);
  }
}

/**
 * Loads `threadx.toml` (or the original ThreadX's `paths.toml`) from `dir`, falling back to
 * defaults when neither exists. Unknown keys and wrong types are errors naming the key.
 */
export async function loadConfig(
  dir = process.cwd(),
  explicit?: string,
): Promise<{ config: Config; file: string | null }> {
  const candidates = explicit
    ? [explicit]
    : [path.join(dir, 'threadx.toml'), path.join(dir, 'paths.toml')];
  for (const file of candidates) {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (e) {
      if (!explicit && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ConfigError(`cannot read config ${file}: ${(e as Error).message}`);
    }
    return { config: parseConfigText(text, file), file };
  }
  return { config: ConfigSchema.parse({}), file: null };
}

export function parseConfigText(text: string, file = 'threadx.toml'): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (e) {
    throw new ConfigError(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const msgs = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`${file}: ${msgs.join('; ')}`);
  }
  const cfg = parsed.data;
  if (!path.isAbsolute(cfg.data.root))
    cfg.data.root = path.resolve(path.dirname(path.resolve(file)), cfg.data.root);
  return cfg;
}
