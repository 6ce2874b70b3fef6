import { ThreadxError } from '../../schemas/errors.ts';
import { parseArgs } from 'node:util';
import { parseFaultFlag, type FaultSpec } from './faults.ts';
import { startReplayServer, type ReplayOptions } from './server.ts';

const USAGE = `threadx replay [options]
  Starts the replay exchange (Binance spot REST + data.binance.vision archives) on 127.0.0.1.

  --port <n>            TCP port (default 0: a free port)
  --now <time>          server clock, frozen: ISO date or ms (default: the real clock)
  --weight-limit <n>    REQUEST_WEIGHT per window (default 6000)
  --window <s>          weight window in seconds (default 60)
  --latency <ms>        latency, fixed ("80") or jittered ("50-100")
  --seed <n>            seed for synthetic data, faults and jitter (default 1)
  --time-skew <s>       /api/v3/time runs this many seconds ahead of the Date header
  --kline-lag <s>       the klines lag the exchange's clock by this many seconds (its newest
                          kline is the open minute at now - lag, partial)
  --fault <spec>        repeatable: kind[:key=value,...], e.g.
                          http5xx:probability=0.1   reset:count=3   hang:count=1
                          truncated:probability=0.05   malformed:count=2
                          duplicate:count=1   outOfOrder:count=1   openLast
                          missing:symbol=BTCUSDT,range=2024-01-01T00:00Z..2024-01-01T02:00Z
                          corruptArchive:count=1
                        keys: path, symbol, probability, count, after, status, range
  --help                this text
`;

/** Entry point of `threadx replay`: starts the server, prints its URL, runs until killed. */
export async function replayMain(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      now: { type: 'string' },
      'weight-limit': { type: 'string' },
      window: { type: 'string' },
      latency: { type: 'string' },
      seed: { type: 'string' },
      'time-skew': { type: 'string' },
      'kline-lag': { type: 'string' },
      fault: { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const opts: ReplayOptions = {};
  if (values.port !== undefined) opts.port = num('--port', values.port);
  if (values.now !== undefined) {
    const t = /^\d+$/.test(values.now) ? Number(values.now) : Date.parse(values.now);
    if (!Number.isFinite(t))
      throw new ThreadxError(
        'BAD_INPUT',
        `--now: cannot read ${JSON.stringify(values.now)} as a time`,
      );
    opts.now = t;
  }
  if (values['weight-limit'] !== undefined)
    opts.weightLimit = num('--weight-limit', values['weight-limit']);
  if (values.window !== undefined) opts.windowMs = num('--window', values.window) * 1000;
  if (values.latency !== undefined) {
    const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(values.latency);
    if (!m)
      throw new ThreadxError(
        'BAD_INPUT',
        `--latency: expected "80" or "50-100", got ${JSON.stringify(values.latency)}`,
      );
    opts.latencyMs = m[2] === undefined ? Number(m[1]) : { min: Number(m[1]), max: Number(m[2]) };
  }
  if (values.seed !== undefined) opts.seed = num('--seed', values.seed);
  if (values['time-skew'] !== undefined)
    opts.timeSkewMs = num('--time-skew', values['time-skew']) * 1000;
  if (values['kline-lag'] !== undefined)
    opts.klineLagMs = num('--kline-lag', values['kline-lag']) * 1000;
  const faults: FaultSpec[] = (values.fault ?? []).map(parseFaultFlag);
  if (faults.length > 0) opts.faults = faults;
  const server = await startReplayServer(opts);
  console.log(`replay exchange listening on ${server.url}`);
  console.log(`  REST     ${server.url}/api/v3/klines?symbol=BTCUSDT&interval=1m`);
  console.log(
    `  archive  ${server.archiveUrl}/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2023-04.zip`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      void server.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function num(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new ThreadxError(
      'BAD_INPUT',
      `${flag}: expected a non-negative number, got ${JSON.stringify(v)}`,
    );
  return n;
}
