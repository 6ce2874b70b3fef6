import { type ExitCode, USAGE_HINT, sentence, toThreadxError } from '../../schemas/errors.ts';
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
import { integrityText } from '../../schemas/registry.ts';
import {
  checkDerived,
  exportFunding,
  importFiles,
  loadConfig,
  openBank,
  releaseBankLocks,
  type Bank,
  validateFile,
  listBank,
} from '../app/bank.ts';
import type { BankMode, JoinIngest, JoinRepair } from '../app/command.ts';
import {
  EXPORT_FORMATS,
  type ExportFormat,
  exportFile,
  exportMessages,
  formatOfPath,
} from '../app/export-file.ts';
import { missingMinutes } from '../app/coverage.ts';
import { parseIndicatorArgs } from '../app/indicators.ts';
import { table, iso, Progress } from './format.ts';
import { EXIT, UsageError, type CliCommand, type CommandContext } from './context.ts';
import { COMMANDS } from './commands.ts';
import { commandHelp, shortSummary } from './help.ts';
import { SERIES_OPTIONS, bankKey, seriesFlags } from './series.ts';
import { parseSeriesKey } from '../../schemas/markets.ts';
import { ThreadxError } from '../../schemas/errors.ts';

const COMMON: ParseArgsConfig['options'] = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

/** The bank's own commands, run by `run` below; the others come in `commands`. */
const BUILTIN = ['import', 'resample', 'list', 'verify', 'export', 'validate', 'check'];

export const usage = (commands: readonly CliCommand[] = COMMANDS): string => {
  const order = ['ingest', 'import', 'list', 'verify', 'repair', 'check', 'resample', 'export'];
  const names = [...BUILTIN, ...commands.map((c) => c.name)].sort(
    (a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99),
  );
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const summary = (n: string): string =>
    shortSummary(n) ?? commands.find((c) => c.name === n)?.summary ?? '';
  return `threadx: a local bank of Binance OHLCV data (1m truth, exact resampling)

Usage: threadx <command> [options]

Commands:
${names.map((n) => `  ${n.padEnd(width)}${summary(n)}`).join('\n')}

Options: --data-dir DIR (default ./data or threadx.toml [data] root), --config FILE, --json
"threadx <command> --help" lists a command's options.
Exit codes: 0 ok, 1 problems found, 2 bad input, 3 storage or network error, 130 interrupted.`;
};

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
    const known = BUILTIN.includes(cmd) || commands.some((c) => c.name === cmd);
    return reportError(cmd, e, json, known);
  } finally {
    // A command that wrote releases the bank's lock (an exit hook does it on any other exit).
    await releaseBankLocks();
  }
}

/**
 * The CLI adapter of the one error model: prints the error (a line of JSON with `--json`) and
 * returns its exit code from the table in `schemas/errors.ts`.
 */
function reportError(cmd: string, e: unknown, json: boolean, known: boolean): ExitCode {
  const out = cliError(cmd, e, json, known);
  (out.stream === 'stdout' ? process.stdout : process.stderr).write(`${out.text}\n`);
  return out.exit;
}

/** node:util's parseArgs errors, as one sentence that names the option. */
function parseArgsMessage(e: Error & { code?: string }): string {
  const name = /'(-[^' ]+)/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `There is no option ${name ?? 'like that'}.`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return name ? `The option ${name} needs a value.` : `${e.message.split('.')[0]}.`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const arg = /'([^']*)'/.exec(e.message)?.[1];
      return `Unexpected argument ${JSON.stringify(arg ?? '')}: this command takes options only.`;
    }
    default:
      return e.message.split('\n')[0];
  }
}

/** What the CLI prints for an error, where, and the exit code (pure; tested code by code). */
export function cliError(
  cmd: string,
  e: unknown,
  json: boolean,
  /** False when `cmd` is not a command: the generic hint then stays the global help. */
  known = true,
): { exit: ExitCode; stream: 'stdout' | 'stderr'; text: string } {
  const err = toThreadxError(e);
  const message = sentence(err.message.split('\n')[0]);
  // The generic usage hint names the command's own help; a hint the message already gives is
  // not given twice.
  const given =
    err.hint === USAGE_HINT && known ? `Run "threadx ${cmd} --help" for its options.` : err.hint;
  const hint = given && !message.includes(given.replace(/\.$/, '')) ? sentence(given) : undefined;
  if (json) {
    const error = {
      code: err.code,
      message,
      ...(hint ? { hint } : {}),
      ...(Object.keys(err.details).length ? { details: err.details } : {}),
    };
    return { exit: err.kind.exit, stream: 'stdout', text: JSON.stringify({ ok: false, error }) };
  }
  const text = `threadx ${cmd}: ${message}${hint ? ` ${hint}` : ''}`;
  return { exit: err.kind.exit, stream: 'stderr', text };
}

/** Commands that only read the bank: they never create one. */
const READ_ONLY = new Set(['list', 'verify', 'check', 'export', 'coverage']);
/** Commands that need a bank to exist, whether they read or write it. */
const NEED_BANK = new Set([...READ_ONLY, 'repair', 'resample']);

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
        if (NEED_BANK.has(cmd)) await checkBankExists(dataDir);
        return noted(
          await openBank(dataDir, config, {
            mode,
            command: `threadx ${cmd}`,
            canJoin: cmd === 'ingest' || cmd === 'repair',
            onWatch: (text) => process.stderr.write(`threadx ${cmd}: ${text}\n`),
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
  if (extra?.raw) {
    try {
      return await extra.raw(args);
    } catch (e) {
      const err = e as Error & { code?: string };
      if (err.code?.startsWith('ERR_PARSE_ARGS_')) throw new UsageError(parseArgsMessage(err));
      throw e;
    }
  }
  const options: ParseArgsConfig['options'] = {
    ...COMMON,
    symbol: { type: 'string' },
    interval: { type: 'string' },
    intervals: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    out: { type: 'string' },
    ...(cmd === 'export'
      ? {
          format: { type: 'string' },
          indicators: { type: 'string' },
          params: { type: 'string' },
        }
      : {}),
    ...SERIES_OPTIONS,
    ...(extra?.options ?? {}),
  };
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(parseArgsMessage(e as Error & { code?: string }));
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
      return cmdList(ctx, values);
    case 'verify':
      return cmdVerify(ctx, values);
    case 'export':
      return cmdExport(ctx, values);
    case 'validate':
      return cmdValidate(ctx, positionals, values);
    case 'check':
      return cmdCheck(ctx, values);
    default:
      throw new UsageError(`There is no command ${JSON.stringify(cmd)}.`);
  }
}

function need(values: Record<string, unknown>, key: string): string {
  const v = values[key];
  if (typeof v !== 'string' || v.length === 0)
    throw new UsageError(`The option --${key} is required.`);
  return v;
}

async function cmdImport(
  ctx: CommandContext,
  files: string[],
  values: Record<string, unknown>,
): Promise<number> {
  if (files.length === 0) throw new UsageError('Name at least one file to import.');
  if (values.interval !== undefined && values.interval !== '1m')
    throw new UsageError(
      `Import stores 1m klines only (the interval is detected from each file's timestamps), so --interval ${String(values.interval)} cannot be imported.`,
      `Import the 1m files and derive ${String(values.interval)} with --intervals ${String(values.interval)}.`,
    );
  // A path that is not a file is a typo: refused before the bank is touched, like validate's.
  const absent: string[] = [];
  for (const f of files) if (!(await fsp.stat(f).catch(() => undefined))?.isFile()) absent.push(f);
  if (absent.length)
    throw new ThreadxError(
      'BAD_FILE',
      `There is no file ${absent.map((f) => JSON.stringify(f)).join(', ')}; nothing was imported.`,
      'Check the paths, then run the command again.',
      { files: absent },
    );
  const flags = seriesFlags(values);
  const bank = await ctx.openBank();
  const intervals = values.intervals ? parseIntervals(values.intervals as string) : [];
  const progress = new Progress(!ctx.json);
  const summary = await importFiles(bank, files, {
    ...(values.market !== undefined ? { market: flags.market } : {}),
    ...(values.kind !== undefined ? { kind: flags.kind } : {}),
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
  const symbol = bankKey(values, need(values, 'symbol'));
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

async function cmdList(ctx: CommandContext, values: Record<string, unknown>): Promise<number> {
  const flags = seriesFlags(values);
  const bank = await ctx.openBank('read');
  // Each file is looked at on disk: "verified" means verified, and unchanged since. With --market
  // or --kind, only that market's (and kind's) datasets.
  const list = (await listBank(bank)).filter(
    ({ entry }) =>
      !flags.given ||
      ((entry.market ?? 'spot') === flags.market &&
        (values.kind === undefined || (entry.klineKind ?? 'klines') === flags.kind)),
  );
  // Minutes missing inside each 1m span, by class (`threadx coverage` tells them per day).
  const registry = bank.registry();
  const missing = (d: (typeof list)[number]['entry']): [number, number] | null => {
    if (d.interval !== '1m' || d.kind === 'indicator') return null;
    const m = missingMinutes(d, registry.confirmedEmpty[d.symbol] ?? []);
    return [m.outage, m.failed];
  };
  if (ctx.json) {
    // One line of JSON, written in pieces: 200,000 datasets make a string of hundreds of MB.
    const parts: string[] = [];
    for (const { entry, integrity } of list) {
      const { files, pending, ...d } = entry;
      const m = missing(entry);
      parts.push(
        JSON.stringify({
          ...d,
          ...(m ? { outageMinutes: m[0], failedMinutes: m[1] } : {}),
          files: files.length,
          pending: pending?.length ?? 0,
          integrity,
        }),
      );
    }
    ctx.out(`{"ok":true,"datasets":[${parts.join(',')}]}`);
    return EXIT.ok;
  }
  if (list.length === 0) {
    ctx.out(
      flags.given
        ? `The bank at ${ctx.dataDir} holds no ${flags.market} ${values.kind === undefined ? '' : `${flags.kind} `}datasets.`
        : `The bank at ${ctx.dataDir} is empty. Import files with "threadx import" or download with "threadx ingest".`,
    );
    return EXIT.ok;
  }
  ctx.out(
    table(
      [
        'dataset',
        'market',
        'kind',
        'rows',
        'first',
        'last',
        'gaps',
        'filled',
        'outage',
        'failed',
        'files',
        'pending',
        'integrity',
      ],
      list.map(({ entry: d, integrity }) => [
        d.id,
        d.market ?? 'spot',
        d.klineKind ?? 'klines',
        d.rows,
        iso(d.first),
        iso(d.last),
        d.gaps.filter((g) => !g.filled).length,
        d.filledCount,
        ...(missing(d) ?? ['-', '-']),
        d.files.length,
        d.pending?.length ?? 0,
        integrityText(integrity, iso),
      ]),
    ),
  );
  return EXIT.ok;
}

async function cmdVerify(ctx: CommandContext, values: Record<string, unknown>): Promise<number> {
  const flags = seriesFlags(values);
  // Verify records each file's finding in the registry: it writes, so it holds the bank's lock.
  // While another writer (the extension's daemon) holds it, verify still checks every file and
  // reports, but records nothing: the daemon's registry stays its own. On a bank that cannot be
  // written (a read-only mount), it does the same.
  let bank: Bank;
  let record = true;
  try {
    bank = await ctx.openBank('write');
  } catch (e) {
    if (!(e instanceof ThreadxError)) throw e;
    const readOnly = e.code === 'STORAGE' && e.details.readOnly === true;
    if (e.code !== 'LOCKED' && !readOnly) throw e;
    bank = await ctx.openBank('read');
    record = false;
    ctx.err(
      readOnly
        ? `threadx verify: The bank at ${ctx.dataDir} cannot be written (${String(e.details.errno)}); checking without recording the findings ("threadx verify" records them where the bank is writable).`
        : `threadx verify: ${e.message} Checking without recording the findings; the extension's Verify (or "threadx verify" once that process has stopped) records them.`,
    );
  }
  const progress = new Progress(!ctx.json);
  // With --market (and --kind), the datasets of that series only.
  const only = flags.given
    ? [
        ...new Set(
          Object.values(bank.registry().datasets)
            .filter(
              (d) =>
                (d.market ?? 'spot') === flags.market &&
                (values.kind === undefined || (d.klineKind ?? 'klines') === flags.kind),
            )
            .map((d) => d.symbol),
        ),
      ]
    : undefined;
  const issues = await bank.verify({
    ...(only ? { symbols: only } : {}),
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
      if (symbols.length) ctx.out(`Fix: threadx repair ${symbols.map(repairArgs).join(' ')}`);
    }
  }
  return bad.length ? EXIT.problems : EXIT.ok;
}

/** The repair options naming a series by its bank key: `--symbol S [--market M --kind K]`. */
function repairArgs(key: string): string {
  const s = parseSeriesKey(key);
  if (!s || s.market === 'spot') return `--symbol ${key}`;
  return `--symbol ${s.symbol} --market ${s.market}${s.kind === 'klines' ? '' : ` --kind ${s.kind}`}`;
}

async function cmdExport(ctx: CommandContext, values: Record<string, unknown>): Promise<number> {
  const flags = seriesFlags(values);
  if (flags.funding && flags.market !== 'spot') {
    const symbol = parseSymbol(need(values, 'symbol'));
    const out = path.resolve(need(values, 'out'));
    const bank = await ctx.openBank('read');
    const n = await exportFunding(bank, { market: flags.market, symbol, out });
    if (ctx.json) ctx.out(JSON.stringify({ ok: true, rows: n, out }));
    else ctx.out(`wrote ${n} funding event(s) of ${symbol} (${flags.market}) to ${out}`);
    return EXIT.ok;
  }
  const symbol = bankKey(values, need(values, 'symbol'));
  const interval = IntervalSchema.parse(need(values, 'interval'));
  const out = path.resolve(need(values, 'out'));
  const format = exportFormat(values.format, out);
  const start = values.start ? parseUtcDate(values.start as string) : -Infinity;
  const end = values.end ? parseUtcDate(values.end as string) : Infinity;
  if (values.params !== undefined && values.indicators === undefined)
    throw new UsageError('The option --params goes with --indicators.');
  const indicators =
    typeof values.indicators === 'string'
      ? parseIndicatorArgs(values.indicators, (values.params as string | undefined) ?? '')
      : undefined;
  const bank = await ctx.openBank('read');
  const r = await exportFile(bank, {
    symbol,
    interval,
    start,
    end,
    out,
    format,
    ...(indicators ? { indicators } : {}),
  });
  if (ctx.json) ctx.out(JSON.stringify({ ok: true, rows: r.rows, out, format, bytes: r.bytes }));
  else ctx.out(`wrote ${r.rows} ${interval} candle(s) of ${symbol} to ${out} (${format})`);
  return EXIT.ok;
}

/** `--format`, or the format the --out file's extension names; they must agree. */
function exportFormat(given: unknown, out: string): ExportFormat {
  const byName = formatOfPath(out);
  if (given === undefined) {
    if (!byName)
      throw new UsageError(
        `The output file ${out} does not end with .csv, .xlsx or .parquet.`,
        'Name the file with one of those extensions, or give --format.',
      );
    return byName;
  }
  const f = String(given).toLowerCase();
  if (!(EXPORT_FORMATS as readonly string[]).includes(f))
    throw new UsageError(exportMessages.badFormat(String(given)));
  if (byName !== f) throw new UsageError(exportMessages.extension(f as ExportFormat));
  return f as ExportFormat;
}

async function cmdValidate(
  ctx: CommandContext,
  files: string[],
  values: Record<string, unknown> = {},
): Promise<number> {
  if (files.length === 0) throw new UsageError('Name the file to validate.');
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
  const symbol = bankKey(values, need(values, 'symbol'));
  const bank = await ctx.openBank('read');
  if (!bank.get(symbol, '1m'))
    throw new ThreadxError(
      'NOT_FOUND',
      `The bank holds no 1m data for ${symbol}, so there is nothing to check.`,
      'Run "threadx list" to see what the bank holds.',
      { symbol },
    );
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
