import { PRODUCT_VERSION } from '../version.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { parseSymbol, parseUtcDate } from '../../schemas/common.ts';
import {
  type Interval,
  DERIVED_INTERVALS,
  IntervalSchema,
  parseIntervals,
} from '../../schemas/intervals.ts';
import { Bank } from '../store/bank.ts';
import { type BankLock, acquireBankLock, lockedError } from '../store/lock.ts';
import { findDaemon } from '../rpc/lifecycle.ts';
import { isThreadxError } from '../../schemas/errors.ts';
import { loadConfig } from '../store/config.ts';
import { readKlineFile } from '../store/importer.ts';
import { exportCsv } from '../store/export.ts';
import { validateCandles } from '../engine/validate.ts';
import { detectGaps } from '../engine/gaps.ts';
import { importFiles } from '../jobs/import.ts';
import { table, iso, Progress } from './format.ts';
import { EXIT, UsageError, COMMANDS, type CommandContext } from './context.ts';

const COMMON: ParseArgsConfig['options'] = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

const usage =
  (): string => `threadx: a local bank of Binance OHLCV data (1m truth, exact resampling)

Usage: threadx <command> [options]

Commands:
  import <files...>        import Binance 1m kline archives (.zip/.csv/.json), checksums verified
  resample --symbol S      derive timeframes from 1m (--intervals 1h,4h,1d; default: all)
  list                     the datasets in the bank
  verify                   recompute every checksum and re-validate every file
  export                   --symbol S --interval I [--start ISO] [--end ISO] --out F.csv
  validate <file>          check a kline file against the data contract
  check --symbol S         re-derive stored timeframes from 1m and list differences
${COMMANDS.map((c) => `  ${c.usage.padEnd(24)} ${c.summary}`).join('\n')}

Options: --data-dir DIR (default ./data or threadx.toml [data] root), --config FILE, --json
Exit codes: 0 ok, 1 problems found, 2 bad input, 3 storage or network error.`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${usage()}\n`);
    return cmd ? EXIT.ok : EXIT.usage;
  }
  if (cmd === '--version') {
    process.stdout.write(`${PRODUCT_VERSION}\n`);
    return EXIT.ok;
  }
  const json = rest.includes('--json');
  // A reader that goes away (`threadx verify | head`) ends our output, not the command: the rest
  // of the output is dropped and the exit code still says how the command went.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  try {
    return await run(cmd, rest);
  } catch (e) {
    const err = e as Error & { code?: string };
    const code = isThreadxError(e)
      ? e.kind.exit
      : e instanceof UsageError || isBadInput(err)
        ? EXIT.usage
        : EXIT.failure;
    if (json)
      process.stdout.write(
        `${JSON.stringify({ ok: false, error: { code: err.code ?? err.name, message: oneLine(err) } })}\n`,
      );
    else process.stderr.write(`threadx ${cmd}: ${oneLine(err)}\n`);
    return code === EXIT.failure ? EXIT.storage : code;
  } finally {
    // A command that wrote releases the bank's lock (an exit hook does it on any other exit).
    for (const l of heldLocks.splice(0)) await l.release();
  }
}

const heldLocks: BankLock[] = [];

function isBadInput(e: Error & { code?: string }): boolean {
  return (
    e.name === 'ZodError' ||
    e.name === 'ImportError' ||
    e.name === 'ConfigError' ||
    e.name === 'DataContractError' ||
    e.name === 'NotFoundError' ||
    e.code === 'INVALID_SYMBOL' ||
    /^(invalid|naive|unknown)/.test(e.message)
  );
}

function oneLine(e: Error): string {
  if (e.name === 'ZodError') {
    try {
      const issues = JSON.parse(e.message) as { message: string }[];
      return issues.map((i) => i.message).join('; ');
    } catch {
      /* fall through */
    }
  }
  if (isThreadxError(e)) return e.text.split('\n')[0];
  return e.message.split('\n')[0];
}

async function context(cmd: string, values: Record<string, unknown>): Promise<CommandContext> {
  const { config } = await loadConfig(process.cwd(), values.config as string | undefined);
  const dataDir = path.resolve((values['data-dir'] as string | undefined) ?? config.data.root);
  const maxGapFillMinutes = Math.round(config.data.processing.max_gap_fill_hours * 60);
  let writer: Promise<Bank> | null = null;
  return {
    config,
    dataDir,
    json: Boolean(values.json),
    // One writer per bank: a command that writes holds the bank's lock for its whole run, or
    // refuses, naming the holder. Reading needs no lock.
    openBank: (mode = 'write') => {
      const noted = (bank: Bank): Bank => {
        for (const n of bank.recoveryNotes) process.stderr.write(`threadx ${cmd}: ${n}\n`);
        return bank;
      };
      if (mode === 'read') return Bank.open(dataDir, { maxGapFillMinutes }).then(noted);
      return (writer ??= (async () => {
        const got = await acquireBankLock(dataDir, `threadx ${cmd}`);
        if (!got.acquired) {
          const daemon = got.owner ? await findDaemon(dataDir) : null;
          throw lockedError(dataDir, got.owner, daemon !== null);
        }
        heldLocks.push(got.lock);
        return noted(await Bank.open(dataDir, { maxGapFillMinutes, lock: got.lock }));
      })());
    },
    out: (text: string) => {
      if (!process.stdout.destroyed && process.stdout.writable) process.stdout.write(`${text}\n`);
    },
    err: (text: string) => process.stderr.write(`${text}\n`),
  };
}

async function run(cmd: string, args: string[]): Promise<number> {
  const extra = COMMANDS.find((c) => c.name === cmd);
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
    process.stdout.write(`${usage()}\n`);
    return EXIT.ok;
  }
  const ctx = await context(cmd, values);
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
      return cmdValidate(ctx, positionals);
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
        datasets: list.map(({ files: _f, ...d }) => ({ ...d, files: _f.length })),
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
      ['dataset', 'rows', 'first', 'last', 'gaps', 'filled', 'files'],
      list.map((d) => [
        d.id,
        d.rows,
        iso(d.first),
        iso(d.last),
        d.gaps.filter((g) => !g.filled).length,
        d.filledCount,
        d.files.length,
      ]),
    ),
  );
  return EXIT.ok;
}

async function cmdVerify(ctx: CommandContext): Promise<number> {
  const bank = await ctx.openBank('read');
  const progress = new Progress(!ctx.json);
  const issues = await bank.verify({
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
    if (bad.length)
      ctx.out(
        table(
          ['status', 'path', 'detail'],
          bad.map((i) => [i.status, i.path, i.detail ?? '']),
        ),
      );
  }
  return bad.length ? EXIT.problems : EXIT.ok;
}

async function cmdExport(ctx: CommandContext, values: Record<string, unknown>): Promise<number> {
  const symbol = parseSymbol(need(values, 'symbol'));
  const interval = IntervalSchema.parse(need(values, 'interval'));
  const out = path.resolve(need(values, 'out'));
  const start = values.start ? parseUtcDate(values.start as string) : -Infinity;
  const end = values.end ? parseUtcDate(values.end as string) : Infinity;
  if (start >= end) throw new UsageError('--start must be before --end');
  const bank = await ctx.openBank('read');
  const c = await bank.read(symbol, interval, start, end);
  await fsp.mkdir(path.dirname(out), { recursive: true });
  const n = await exportCsv(c, out);
  if (ctx.json) ctx.out(JSON.stringify({ ok: true, rows: n, out }));
  else ctx.out(`wrote ${n} ${interval} candle(s) of ${symbol} to ${out}`);
  return EXIT.ok;
}

async function cmdValidate(ctx: CommandContext, files: string[]): Promise<number> {
  if (files.length === 0) throw new UsageError('validate needs a file');
  let bad = 0;
  const results = [];
  for (const file of files) {
    const kf = await readKlineFile(file);
    const interval = kf.interval ?? '1m';
    const r = validateCandles(kf.candles, interval);
    const gaps = detectGaps(kf.candles, interval === '1m' ? 60_000 : undefined);
    if (!r.ok) bad++;
    results.push({
      file,
      interval,
      checksum: kf.checksum,
      ...r,
      gaps: interval === '1m' ? gaps : [],
    });
    if (!ctx.json) {
      ctx.out(
        `${path.basename(file)}: ${r.rows} rows, ${interval}, checksum ${kf.checksum}, ${r.ok ? 'valid' : `${r.total} violation(s)`}${interval === '1m' ? `, ${gaps.length} gap(s)` : ''}`,
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
  const intervals = values.intervals
    ? parseIntervals(values.intervals as string)
    : bank
        .list()
        .filter((d) => d.symbol === symbol && d.interval !== '1m' && d.kind === 'candles')
        .map((d) => d.interval);
  let bad = 0;
  const results = [];
  for (const iv of intervals) {
    const r = await bank.checkConsistency(symbol, iv);
    if (r.total) bad++;
    results.push({ interval: iv, ...r });
    if (!ctx.json)
      ctx.out(
        `${symbol}/${iv}: ${r.total === 0 ? 'consistent with 1m' : `${r.total} difference(s), first at ${iso(r.diffs[0].openTime)} (${r.diffs[0].column})`}`,
      );
  }
  if (ctx.json) ctx.out(JSON.stringify({ ok: bad === 0, results }));
  return bad ? EXIT.problems : EXIT.ok;
}
