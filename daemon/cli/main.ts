import { type ExitCode, toThreadxError } from '../../schemas/errors.ts';
import { PRODUCT_VERSION } from '../version.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { parseSymbol, parseUtcDate } from '../../schemas/common.ts';
import {
  type Interval,
  DERIVED_INTERVALS,
  IntervalSchema,
  parseIntervals,
} from '../../schemas/intervals.ts';
import { datasetIntegrity, integrityText } from '../../schemas/registry.ts';
import {
  checkDerived,
  exportRange,
  importFiles,
  loadConfig,
  openBank,
  releaseBankLocks,
  type Bank,
  validateFile,
} from '../app/bank.ts';
import type { BankMode, JoinIngest, JoinRepair } from '../app/command.ts';
import { table, iso, Progress } from './format.ts';
import { EXIT, UsageError, type CliCommand, type CommandContext } from './context.ts';
import { COMMANDS } from './commands.ts';
import { commandHelp } from './help.ts';
import { ThreadxError } from '../../schemas/errors.ts';

const COMMON: ParseArgsConfig['options'] = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

export const usage = (
  commands: readonly CliCommand[] = COMMANDS,
): string => `threadx: a local bank of Binance OHLCV data (1m truth, exact resampling)

Usage: threadx <command> [options]

Commands:
  import <files...>        import Binance 1m kline archives (.zip/.csv/.json), checksums verified
  resample --symbol S      derive timeframes from 1m (--intervals 1h,4h,1d; default: all)
  list                     the datasets in the bank
  verify                   recompute every checksum and re-validate every file
  export                   --symbol S --interval I [--start ISO] [--end ISO] --out F.csv
  validate <file>          check a kline file against the data contract
  check --symbol S         re-derive stored timeframes from 1m and list differences
${commands.map((c) => `  ${c.usage.padEnd(24)} ${c.summary}`).join('\n')}

Options: --data-dir DIR (default ./data or threadx.toml [data] root), --config FILE, --json
"threadx <command> --help" lists a command's options.
Exit codes: 0 ok, 1 problems found, 2 bad input, 3 storage or network error, 130 interrupted.`;

/** What the entry point wires in from the daemon's side (`cli/bin.ts`). */
export interface MainHooks {
  /** Runs an ingest in the daemon serving the bank (`ingest --join`). */
  joinIngest?: JoinIngest;
  /** Runs a repair in the daemon serving the bank (`repair --join`). */
  joinRepair?: JoinRepair;
}

/** Runs `threadx` with `argv`; `commands` are the commands beyond the bank's own. */
export async function main(
  argv: string[],
  commands: readonly CliCommand[] = COMMANDS,
  hooks: MainHooks = {},
): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${usage(commands)}\n`);
    return cmd ? EXIT.ok : EXIT.usage;
  }
  if (cmd === '--version') {
    process.stdout.write(`${PRODUCT_VERSION}\n`);
    return EXIT.ok;
  }
  const help = (rest.includes('--help') || rest.includes('-h')) && commandHelp(cmd);
  if (help) {
    process.stdout.write(`${help}\n`);
    return EXIT.ok;
  }
  const json = rest.includes('--json');
  // A reader that goes away (`threadx verify | head`) ends our output, not the command: the rest
  // of the output is dropped and the exit code still says how the command went.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  try {
    return await run(cmd, rest, commands, hooks);
  } catch (e) {
    return reportError(cmd, e, json);
  } finally {
    // A command that wrote releases the bank's lock (an exit hook does it on any other exit).
    await releaseBankLocks();
  }
}

/**
 * The CLI adapter of the one error model: prints the error (a line of JSON with `--json`) and
 * returns its exit code from the table in `schemas/errors.ts`.
 */
function reportError(cmd: string, e: unknown, json: boolean): ExitCode {
  const out = cliError(cmd, e, json);
  (out.stream === 'stdout' ? process.stdout : process.stderr).write(`${out.text}\n`);
  return out.exit;
}

/** What the CLI prints for an error, where, and the exit code (pure; tested code by code). */
export function cliError(
  cmd: string,
  e: unknown,
  json: boolean,
): { exit: ExitCode; stream: 'stdout' | 'stderr'; text: string } {
  const err = toThreadxError(e);
  const message = err.message.split('\n')[0];
  if (json) {
    const error = {
      code: err.code,
      message,
      ...(err.hint ? { hint: err.hint } : {}),
      ...(Object.keys(err.details).length ? { details: err.details } : {}),
    };
    return { exit: err.kind.exit, stream: 'stdout', text: JSON.stringify({ ok: false, error }) };
  }
  const text = `threadx ${cmd}: ${message}${err.hint ? ` ${err.hint}` : ''}`;
  return { exit: err.kind.exit, stream: 'stderr', text };
}

/** Commands that only read the bank: they never create one. */
const READ_ONLY = new Set(['list', 'verify', 'check', 'export']);

/** Refuses a data directory that is a file (before anything tries to create folders in it). */
async function checkDataDir(dataDir: string): Promise<void> {
  const stat = await fsp.stat(dataDir).catch(() => undefined);
  if (stat && !stat.isDirectory())
    throw new ThreadxError(
      'BAD_INPUT',
      `The data directory ${dataDir} is a file, not a folder.`,
      'Give --data-dir (or [data] root in threadx.toml) the folder of a bank, or a new folder.',
      { dataDir },
    );
}

/**
 * For read-only commands: refuses a folder that holds no bank (no registry.json), so a mistyped
 * --data-dir never reads as an empty, healthy bank, and no bank is created by reading.
 */
async function checkBankExists(dataDir: string): Promise<void> {
  const stat = await fsp.stat(dataDir).catch(() => undefined);
  const registry = await fsp.stat(path.join(dataDir, 'registry.json')).catch(() => undefined);
  if (!registry?.isFile())
    throw new ThreadxError(
      'NO_BANK',
      `There is no bank at ${dataDir} (${stat ? 'no registry.json in it' : 'the folder does not exist'}).`,
      'Check --data-dir, or fill a bank first with "threadx ingest" or "threadx import".',
      { dataDir },
    );
}

async function context(
  cmd: string,
  values: Record<string, unknown>,
  hooks: MainHooks,
): Promise<CommandContext> {
  const { config } = await loadConfig(process.cwd(), values.config as string | undefined);
  const dataDir = path.resolve((values['data-dir'] as string | undefined) ?? config.data.root);
  await checkDataDir(dataDir);
  let writer: Promise<Bank> | null = null;
  return {
    config,
    dataDir,
    json: Boolean(values.json),
    // One writer per bank: a command that writes holds the bank's lock for its whole run, or
    // refuses, naming the holder. Reading takes no lock.
    openBank: (mode: BankMode = 'write') => {
      const noted = (bank: Bank): Bank => {
        for (const n of bank.recoveryNotes) process.stderr.write(`threadx ${cmd}: ${n}\n`);
        return bank;
      };
      const open = async (): Promise<Bank> => {
        if (READ_ONLY.has(cmd)) await checkBankExists(dataDir);
        return noted(
          await openBank(dataDir, config, {
            mode,
            command: `threadx ${cmd}`,
            canJoin: cmd === 'ingest' || cmd === 'repair',
          }),
        );
      };
      if (mode === 'read') return open();
      return (writer ??= open());
    },
    ...(hooks.joinIngest ? { joinIngest: hooks.joinIngest } : {}),
    ...(hooks.joinRepair ? { joinRepair: hooks.joinRepair } : {}),
    out: (text: string) => {
      // A reader that went away (EPIPE) ends the output, not the command.
      if (!process.stdout.destroyed && process.stdout.writable) process.stdout.write(`${text}\n`);
    },
    err: (text: string) => process.stderr.write(`${text}\n`),
  };
}

async function run(
  cmd: string,
  args: string[],
  commands: readonly CliCommand[],
  hooks: MainHooks,
): Promise<number> {
  const extra = commands.find((c) => c.name === cmd);
  if (extra?.raw) return extra.raw(args);
  const options: ParseArgsConfig['options'] = {
    ...COMMON,
    symbol: { type: 'string' },
    interval: { type: 'string' },
    intervals: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    out: { type: 'string' },
    ...(extra?.options ?? {}),
  };
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${usage(commands)}\n`);
    return EXIT.ok;
  }
  const ctx = await context(cmd, values, hooks);
  if (extra) return extra.run(ctx, values, positionals);
  switch (cmd) {
    case 'import':
      return cmdImport(ctx, positionals, values);
    case 'resample':
      return cmdResample(ctx, values);
    case 'list':
      return cmdList(ctx);
    case 'verify':
      return cmdVerify(ctx);
    case 'export':
      return cmdExport(ctx, values);
    case 'validate':
      return cmdValidate(ctx, positionals, values);
    case 'check':
      return cmdCheck(ctx, values);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}; run "threadx --help"`);
  }
}

function need(values: Record<string, unknown>, key: string): string {
  const v = values[key];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${key} is required`);
  return v;
}

async function cmdImport(
  ctx: CommandContext,
  files: string[],
  values: Record<string, unknown>,
): Promise<number> {
  if (files.length === 0) throw new UsageError('import needs at least one file');
  if (values.interval !== undefined && values.interval !== '1m')
    throw new UsageError(
      `import stores 1m klines only (the interval is detected from each file's timestamps); --interval ${String(values.interval)} cannot be imported: import the 1m files and derive ${String(values.interval)} with --intervals`,
    );
  const bank = await ctx.openBank();
  const intervals = values.intervals ? parseIntervals(values.intervals as string) : [];
  const progress = new Progress(!ctx.json);
  const summary = await importFiles(bank, files, {
    symbol: values.symbol as string | undefined,
    intervals,
    onFile: (item, i, n) => progress.update(`importing ${i + 1}/${n} ${path.basename(item.file)}`),
  });
  progress.done();
  const failed = summary.items.filter((i) => !i.ok);
  if (ctx.json) {
    ctx.out(JSON.stringify({ ok: failed.length === 0, ...summary }));
  } else {
    ctx.out(
      table(
        ['file', 'symbol', 'rows', 'checksum', 'written', 'unchanged', 'status'],
        summary.items.map((i) => [
          path.basename(i.file),
          i.symbol ?? '-',
          i.rows,
          i.checksum,
          i.written,
          i.unchanged,
          i.ok ? 'ok' : `error: ${i.error}`,
        ]),
      ),
    );
    for (const [s, d] of Object.entries(summary.derived))
      ctx.out(`${s}: derived ${d.map((x) => `${x.interval} (${x.rows})`).join(', ')}`);
  }
  // A file refused for what it is (not 1m, not spot) is bad input: exit 2.
  if (failed.some((i) => i.code)) return EXIT.usage;
  return failed.length ? EXIT.problems : EXIT.ok;
}

async function cmdResample(ctx: CommandContext, values: Record<string, unknown>): Promise<number> {
  const symbol = parseSymbol(need(values, 'symbol'));
  const intervals: Interval[] = values.intervals
    ? parseIntervals(values.intervals as string)
    : [...DERIVED_INTERVALS];
  const bank = await ctx.openBank();
  const res = await bank.derive(symbol, intervals);
  if (ctx.json) ctx.out(JSON.stringify({ ok: true, symbol, results: res }));
  else
    ctx.out(
      table(
        ['interval', 'rows', 'written'],
        res.map((r) => [r.interval, r.rows, r.written ? 'yes' : 'unchanged']),
      ),
    );
  return EXIT.ok;
}

async function cmdList(ctx: CommandContext): Promise<number> {
  const bank = await ctx.openBank('read');
  const list = bank.list();
  if (ctx.json) {
    ctx.out(
      JSON.stringify({
        ok: true,
        datasets: list.map(({ files: _f, pending, ...d }) => ({
          ...d,
          files: _f.length,
          pending: pending?.length ?? 0,
          integrity: datasetIntegrity(_f),
        })),
      }),
    );
    return EXIT.ok;
  }
  if (list.length === 0) {
    ctx.out(
      `The bank at ${ctx.dataDir} is empty. Import files with "threadx import" or download with "threadx ingest".`,
    );
    return EXIT.ok;
  }
  ctx.out(
    table(
      ['dataset', 'rows', 'first', 'last', 'gaps', 'filled', 'files', 'pending', 'integrity'],
      list.map((d) => [
        d.id,
        d.rows,
        iso(d.first),
        iso(d.last),
        d.gaps.filter((g) => !g.filled).length,
        d.filledCount,
        d.files.length,
        d.pending?.length ?? 0,
        integrityText(datasetIntegrity(d.files), iso),
      ]),
    ),
  );
  return EXIT.ok;
}

async function cmdVerify(ctx: CommandContext): Promise<number> {
  // Verify records each file's finding in the registry: it writes, so it holds the bank's lock.
  // While another writer (the extension's daemon) holds it, verify still checks every file and
  // reports, but records nothing: the daemon's registry stays its own.
  let bank: Bank;
  let record = true;
  try {
    bank = await ctx.openBank('write');
  } catch (e) {
    if (!(e instanceof ThreadxError) || e.code !== 'LOCKED') throw e;
    bank = await ctx.openBank('read');
    record = false;
    ctx.err(
      `threadx verify: ${e.message} Checking without recording the findings; the extension's Verify (or "threadx verify" once that process has stopped) records them.`,
    );
  }
  const progress = new Progress(!ctx.json);
  const issues = await bank.verify({
    record,
    onProgress: (d, n) => progress.update(`verifying ${d}/${n}`),
  });
  progress.done();
  const bad = issues.filter((i) => i.status !== 'ok');
  if (ctx.json)
    ctx.out(JSON.stringify({ ok: bad.length === 0, checked: issues.length, issues: bad }));
  else {
    ctx.out(
      `${issues.length - issues.filter((i) => i.status === 'unregistered').length} file(s) checked, ${bad.length} problem(s)`,
    );
    if (bad.length) {
      ctx.out(
        table(
          ['status', 'path', 'detail'],
          bad.map((i) => [i.status, i.path, i.detail ?? '']),
        ),
      );
      const symbols = [
        ...new Set(bad.map((i) => i.dataset?.split('/')[0]).filter((x): x is string => !!x)),
      ];
      if (symbols.length)
        ctx.out(`Fix: threadx repair ${symbols.map((x) => `--symbol ${x}`).join(' ')}`);
    }
  }
  return bad.length ? EXIT.problems : EXIT.ok;
}

async function cmdExport(ctx: CommandContext, values: Record<string, unknown>): Promise<number> {
  const symbol = parseSymbol(need(values, 'symbol'));
  const interval = IntervalSchema.parse(need(values, 'interval'));
  const out = path.resolve(need(values, 'out'));
  const start = values.start ? parseUtcDate(values.start as string) : -Infinity;
  const end = values.end ? parseUtcDate(values.end as string) : Infinity;
  const bank = await ctx.openBank('read');
  const n = await exportRange(bank, { symbol, interval, start, end, out });
  if (ctx.json) ctx.out(JSON.stringify({ ok: true, rows: n, out }));
  else ctx.out(`wrote ${n} ${interval} candle(s) of ${symbol} to ${out}`);
  return EXIT.ok;
}

async function cmdValidate(
  ctx: CommandContext,
  files: string[],
  values: Record<string, unknown> = {},
): Promise<number> {
  if (files.length === 0) throw new UsageError('validate needs a file');
  const asked = values.interval ? IntervalSchema.parse(values.interval) : undefined;
  let bad = 0;
  const results = [];
  for (const file of files) {
    const v = await validateFile(file);
    const { interval, checksum, report: r, gaps } = v;
    // An interval asked for is checked against the timestamps, never silently ignored.
    if (asked && asked !== interval) {
      bad++;
      ctx.err(
        `${path.basename(file)}: --interval ${asked} was given, but its timestamps show ${interval} klines`,
      );
    }
    if (!r.ok) bad++;
    results.push({
      file,
      interval,
      namedInterval: v.namedInterval,
      market: v.market,
      checksum,
      ...r,
      gaps,
    });
    if (!ctx.json) {
      ctx.out(
        `${path.basename(file)}: ${r.rows} rows, ${interval} (detected from timestamps), ${v.market === 'futures' ? `futures (${v.marketReason})` : 'spot'}, checksum ${checksum}, ${r.ok ? 'valid' : `${r.total} violation(s)`}${interval === '1m' ? `, ${gaps.length} gap(s)` : ''}`,
      );
      if (!r.ok)
        ctx.out(
          table(
            ['kind', 'column', 'row', 'value', 'message'],
            r.violations.map((v) => [v.kind, v.column, v.row, String(v.value), v.message]),
          ),
        );
    }
  }
  if (ctx.json) ctx.out(JSON.stringify({ ok: bad === 0, results }));
  return bad ? EXIT.problems : EXIT.ok;
}

async function cmdCheck(ctx: CommandContext, values: Record<string, unknown>): Promise<number> {
  const symbol = parseSymbol(need(values, 'symbol'));
  const bank = await ctx.openBank('read');
  const checked = await checkDerived(
    bank,
    symbol,
    values.intervals ? parseIntervals(values.intervals as string) : undefined,
  );
  let bad = 0;
  const results = [];
  for (const r of checked) {
    const iv = r.interval;
    if (r.total) bad++;
    results.push(r);
    if (!ctx.json)
      ctx.out(
        `${symbol}/${iv}: ${r.total === 0 ? 'consistent with 1m' : `${r.total} difference(s), first at ${iso(r.diffs[0].openTime)} (${r.diffs[0].column})`}`,
      );
  }
  if (ctx.json) ctx.out(JSON.stringify({ ok: bad === 0, results }));
  return bad ? EXIT.problems : EXIT.ok;
}
