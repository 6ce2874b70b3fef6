/**
 * The Model Context Protocol face of the bank: a thin adapter over the application layer, as the
 * JSON-RPC method table is. Each tool validates its input with the protocol's field schemas, calls
 * one use case and lays the answer out for an agent (CSV for candles and indicators, JSON for the
 * rest). Errors take the one error model's JSON-RPC form (`toRpcError`): the same code, message,
 * `data.reason` and `data.hint` a JSON-RPC client gets.
 *
 * Invariant: reads take no lock. The bank is opened to read (as `threadx list` does) and opened
 * again when `registry.json` changed on disk, so answers follow another process's writes. The one
 * tool that writes, `ingest`, is refused unless the server was started with `--allow-writes`, and
 * then runs in the daemon that holds the bank (the way `threadx ingest --join` does).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../../schemas/config.ts';
import { ThreadxError, sentence } from '../../schemas/errors.ts';
import { type Interval, INTERVALS, intervalMs } from '../../schemas/intervals.ts';
import { IngestParamsSchema, toParamIssues } from '../../schemas/protocol.ts';
import type { JoinIngest } from '../app/command.ts';
import { coverage } from '../app/coverage.ts';
import { candlesCsv } from '../app/export-file.ts';
import { readIndicators } from '../app/indicators.ts';
import { planIngestUseCase } from '../app/ingest.ts';
import { openAppState } from '../app/open.ts';
import { readExact } from '../app/read.ts';
import { listRegistry } from '../app/registry.ts';
import { type AppLogger, Services } from '../app/services.ts';
import { invalidParams, toRpcError } from '../rpc/errors.ts';
import { PRODUCT_VERSION } from '../version.ts';
import {
  ROW_CAP,
  TOOLS,
  type ToolInput,
  type ToolName,
  inputJsonSchema,
  isToolName,
} from './tools.ts';

export interface McpOptions {
  dataDir: string;
  config: Config;
  configFile?: string | null;
  /** `ingest` runs only when true (`threadx mcp --allow-writes`). */
  allowWrites: boolean;
  /** Runs an ingest in the daemon that holds the bank; null when none serves it. */
  joinIngest: JoinIngest;
  /** Where the server's own messages go (stderr: stdout belongs to the protocol). */
  log: (text: string) => void;
}

export const mcpMessages = {
  instructions:
    "ThreadX Data is a local bank of Binance OHLCV candles: 1m klines downloaded from Binance, every other interval derived exactly (it equals Binance's own candle), indicators identical to TA-Lib. Start with list_datasets or coverage; read with get_candles and get_indicators; plan_ingest shows what a download would fetch.",
  inputHint: (tool: string) =>
    `Call ${tool} with arguments that match its input schema (tools/list); times are UTC ISO-8601 such as "2024-01-31" or "2024-01-31T12:00Z", or ms since the epoch.`,
  tooManyRows: (rows: number, symbol: string, interval: string, limit: number) =>
    `The range holds ${rows} ${interval} candles of ${symbol}, more than the ${limit} rows this answer may carry; nothing was cut.`,
  tooManyRowsHint: (symbol: string, interval: string, coarser: string | undefined) =>
    `Narrow start/end${coarser ? `, ask a coarser interval (${coarser})` : ''}, raise limit (at most ${ROW_CAP.max}), or write a file with "threadx export --symbol ${symbol} --interval ${interval} --out ${symbol}-${interval}.parquet" (or .csv, .xlsx).`,
  readOnly: () => 'ingest writes the bank, and this server was started read-only.',
  readOnlyHint: () =>
    'Start the server with "threadx mcp --allow-writes" to let agents download, or run "threadx ingest" yourself.',
  noDaemon: (dataDir: string) =>
    `No ThreadX daemon serves ${dataDir}: ingest writes only through the daemon that holds the bank.`,
  noDaemonHint: (dataDir: string) =>
    `Open the folder in VS Code with ThreadX Data, or run "threadx serve --socket ${path.join(dataDir, 'threadx.sock')} --data-dir ${dataDir}", then call ingest again.`,
  noBank: (dataDir: string) => `There is no bank at ${dataDir} (the folder does not exist).`,
  noBankHint: () =>
    'Start the server with --data-dir naming the bank\'s folder, or fill a bank first with "threadx ingest".',
  unknownTool: (name: string) =>
    `There is no tool ${JSON.stringify(name)}; the tools are ${Object.keys(TOOLS).join(', ')}.`,
  unknownResource: (uri: string) => `There is no resource ${uri}; list them with resources/list.`,
} as const;

const RESOURCE_PREFIX = 'threadx://dataset/';

/** The bank opened to read, opened again when `registry.json` changed on disk. */
class BankReader {
  private current: { id: string; svc: Services } | null = null;
  private opening: Promise<Services> | null = null;

  constructor(private readonly opts: McpOptions) {}

  async services(): Promise<Services> {
    const file = path.join(this.opts.dataDir, 'registry.json');
    const st = await fsp.stat(file).catch(() => null);
    // A folder without a registry is a bank nothing was written to yet (plan_ingest works on it).
    const folder = st ? null : await fsp.stat(this.opts.dataDir).catch(() => null);
    if (!st?.isFile() && !folder?.isDirectory())
      throw new ThreadxError(
        'NO_BANK',
        mcpMessages.noBank(this.opts.dataDir),
        mcpMessages.noBankHint(),
        { dataDir: this.opts.dataDir },
      );
    const id = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'empty';
    if (this.current?.id === id) return this.current.svc;
    this.opening ??= this.open(id).finally(() => (this.opening = null));
    return this.opening;
  }

  private async open(id: string): Promise<Services> {
    const logger: AppLogger = {
      log: (level, message) => {
        if (level !== 'debug') this.opts.log(message);
      },
      info: (m) => this.opts.log(m),
      warn: (m) => this.opts.log(m),
      error: (m) => this.opts.log(m),
    };
    const state = await openAppState({
      dataDir: this.opts.dataDir,
      config: this.opts.config,
      configFile: this.opts.configFile ?? null,
      logger,
      broadcastChanged: () => undefined,
    });
    for (const n of state.bank.recoveryNotes) this.opts.log(n);
    const svc = new Services(state);
    this.current = { id, svc };
    return svc;
  }
}

const json = (value: unknown): CallToolResult => ({
  content: [{ type: 'text', text: JSON.stringify(value, null, 1) }],
  structuredContent: value as Record<string, unknown>,
});
const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });
const iso = (t: number): string => new Date(t).toISOString();

/** The refusal of a range with more rows than the answer may carry. */
function tooMany(rows: number, symbol: string, interval: Interval, limit: number): ThreadxError {
  const coarser = INTERVALS.slice(INTERVALS.indexOf(interval) + 1).find(
    (iv) => (rows * intervalMs(interval)) / intervalMs(iv) <= limit,
  );
  return new ThreadxError(
    'INVALID_RANGE',
    mcpMessages.tooManyRows(rows, symbol, interval, limit),
    mcpMessages.tooManyRowsHint(symbol, interval, coarser),
    { rows, limit, symbol, interval },
  );
}

/** An ingest tool's input as the protocol's `ingest/run` params (`top` is USDC pairs). */
function ingestParams(p: ToolInput<'ingest'>) {
  const { top, ...rest } = p;
  return { ...rest, ...(top !== undefined ? { top: { n: top, quote: 'USDC' } } : {}) };
}

/** The tools' implementations: input validated, one use case called, the answer laid out. */
function handlers(reader: BankReader, opts: McpOptions) {
  const signal = new AbortController().signal;
  return {
    async list_datasets(p: ToolInput<'list_datasets'>) {
      const svc = await reader.services();
      const filter = {
        ...(p.symbol ? { symbol: p.symbol } : {}),
        ...(p.interval ? { interval: p.interval } : {}),
        ...(p.kind ? { kind: p.kind } : {}),
      };
      const { datasets } = await listRegistry(svc, { filter, details: false });
      return json({
        dataDir: opts.dataDir,
        datasets: datasets.map((d) => ({
          ...d,
          firstIso: d.first === null ? null : iso(d.first),
          lastIso: d.last === null ? null : iso(d.last),
        })),
      });
    },
    async get_candles(p: ToolInput<'get_candles'>) {
      const svc = await reader.services();
      const c = await readExact(
        svc.state.bank,
        p.symbol,
        p.interval,
        p.start ?? -Infinity,
        p.end ?? Infinity,
      );
      if (c.length > p.limit) throw tooMany(c.length, p.symbol, p.interval, p.limit);
      return text(candlesCsv(c));
    },
    async get_indicators(p: ToolInput<'get_indicators'>) {
      const svc = await reader.services();
      const [s] = await readIndicators(svc.state.bank, [p.symbol], {
        symbols: [p.symbol],
        intervals: [p.interval],
        indicators: p.indicators,
        start: p.start,
        end: p.end,
        maxPoints: p.limit + 1,
        exact: true,
      } as Parameters<typeof readIndicators>[2]);
      if (s.openTime.length > p.limit) {
        // At least limit + 1 rows: count them all for the message.
        const c = await readExact(
          svc.state.bank,
          p.symbol,
          p.interval,
          p.start ?? -Infinity,
          p.end ?? Infinity,
        );
        throw tooMany(c.length, p.symbol, p.interval, p.limit);
      }
      const cols: [string, (number | null)[]][] = [];
      for (const ind of s.indicators)
        for (const [name, values] of Object.entries(ind.outputs))
          cols.push([`${ind.key}.${name}`, values]);
      let out = `timestamp,${cols.map(([n]) => n).join(',')}\n`;
      for (let i = 0; i < s.openTime.length; i++)
        out += `${iso(s.openTime[i])},${cols.map(([, v]) => v[i] ?? '').join(',')}\n`;
      return text(out);
    },
    async coverage(p: ToolInput<'coverage'>) {
      return json(await coverage(await reader.services(), p.symbol, p.interval));
    },
    async plan_ingest(p: ToolInput<'plan_ingest'>) {
      const params = IngestParamsSchema.parse({ ...ingestParams(p), dryRun: true });
      return json(await planIngestUseCase(await reader.services(), params, { signal }));
    },
    async ingest(p: ToolInput<'ingest'>) {
      if (!opts.allowWrites)
        throw new ThreadxError('BAD_REQUEST', mcpMessages.readOnly(), mcpMessages.readOnlyHint());
      // Checked here too, so a bad request is answered without reaching for a daemon.
      const params = ingestParams(p);
      IngestParamsSchema.parse(params);
      const joined = await opts.joinIngest(opts.dataDir, params);
      if (!joined)
        throw new ThreadxError(
          'DAEMON_UNAVAILABLE',
          mcpMessages.noDaemon(opts.dataDir),
          mcpMessages.noDaemonHint(opts.dataDir),
          { dataDir: opts.dataDir },
        );
      return json({ daemonPid: joined.pid, ...joined.result });
    },
  } satisfies { [N in ToolName]: (p: ToolInput<N>) => Promise<CallToolResult> };
}

/** The error model's JSON-RPC form, as an MCP error; the message carries the hint too. */
function toMcpError(e: unknown, tool: string): McpError {
  const err =
    (e as { name?: unknown } | null)?.name === 'ZodError'
      ? withHint(invalidParams(tool, toParamIssues(e as never)), mcpMessages.inputHint(tool))
      : e;
  const rpc = toRpcError(err, tool);
  const message = rpc.data.hint
    ? `${sentence(rpc.message)} ${sentence(rpc.data.hint)}`
    : sentence(rpc.message);
  return new McpError(rpc.code, message, rpc.data);
}

function withHint(e: ThreadxError, hint: string): ThreadxError {
  return new ThreadxError(e.code, e.message, hint, e.details);
}

/** The MCP server over the bank at `opts.dataDir`; connect it to a transport to serve. */
/** Each server's requests still being answered. */
const inFlight = new WeakMap<Server, Set<Promise<unknown>>>();

/** Resolves once every request `server` has begun is answered (a client that closes its end
 *  right after sending still gets every answer). */
export async function settled(server: Server): Promise<void> {
  const pending = inFlight.get(server);
  while (pending?.size) await Promise.allSettled([...pending]);
}

export function createMcpServer(opts: McpOptions): Server {
  const reader = new BankReader(opts);
  const tools = handlers(reader, opts);
  const server = new Server(
    { name: 'threadx', title: 'ThreadX Data', version: PRODUCT_VERSION },
    { capabilities: { tools: {}, resources: {} }, instructions: mcpMessages.instructions },
  );
  const pending = new Set<Promise<unknown>>();
  inFlight.set(server, pending);
  const tracked =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      const p = fn(...args);
      pending.add(p);
      void p.finally(() => pending.delete(p)).catch(() => undefined);
      return p;
    };

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: Object.entries(TOOLS).map(([name, t]) => ({
      name,
      title: t.title,
      description: t.description,
      inputSchema: inputJsonSchema(name as ToolName),
      annotations: { title: t.title, ...t.annotations },
    })),
  }));

  server.setRequestHandler(
    CallToolRequestSchema,
    tracked(async (req) => {
      const { name } = req.params;
      if (!isToolName(name))
        throw toMcpError(
          new ThreadxError(
            'METHOD_NOT_FOUND',
            mcpMessages.unknownTool(name),
            'List the tools with tools/list.',
          ),
          name,
        );
      try {
        const input = TOOLS[name].input.parse(req.params.arguments ?? {});
        return await (tools[name] as (p: unknown) => Promise<CallToolResult>)(input);
      } catch (e) {
        throw toMcpError(e, name);
      }
    }),
  );

  server.setRequestHandler(
    ListResourcesRequestSchema,
    tracked(async () => {
      try {
        const svc = await reader.services();
        const { datasets } = await listRegistry(svc, {
          filter: { kind: 'candles' },
          details: false,
        });
        return {
          resources: datasets.map((d) => ({
            uri: `${RESOURCE_PREFIX}${d.id}`,
            name: d.id,
            title: `${d.symbol} ${d.interval}`,
            mimeType: 'application/json',
            description: `${d.rows} ${d.interval} candles of ${d.symbol}${d.first !== null && d.last !== null ? ` from ${iso(d.first)} to ${iso(d.last)}` : ''}; ${d.gaps} gap(s), ${d.filled} filled.`,
          })),
        };
      } catch (e) {
        throw toMcpError(e, 'resources/list');
      }
    }),
  );

  server.setRequestHandler(
    ReadResourceRequestSchema,
    tracked(async (req) => {
      const { uri } = req.params;
      try {
        const id = uri.startsWith(RESOURCE_PREFIX) ? uri.slice(RESOURCE_PREFIX.length) : '';
        const svc = await reader.services();
        const summary = (await listRegistry(svc, { details: false })).datasets.find(
          (d) => d.id === id && d.kind === 'candles',
        );
        if (!summary)
          throw new ThreadxError(
            'NOT_FOUND',
            mcpMessages.unknownResource(uri),
            'List the resources with resources/list.',
          );
        const cov = await coverage(svc, summary.symbol, summary.interval);
        const body = { summary, coverage: cov.datasets[0], outages: cov.outages, notes: cov.notes };
        return {
          contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(body, null, 1) }],
        };
      } catch (e) {
        throw toMcpError(e, 'resources/read');
      }
    }),
  );

  return server;
}
