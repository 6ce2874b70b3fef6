import { ThreadxError } from '../../schemas/errors.ts';
import { parseArgs } from 'node:util';
import { parseFaultFlag, type FaultSpec } from './faults.ts';
import { startReplayServer, type ReplayOptions } from './server.ts';

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
    },
    strict: true,
  });
  const opts: ReplayOptions = {};
  if (values.port !== undefined) opts.port = num('--port', values.port);
  if (values.now !== undefined) {
    const t = /^\d+$/.test(values.now) ? Number(values.now) : Date.parse(values.now);
    if (!Number.isFinite(t))
      throw new ThreadxError(
        'BAD_INPUT',
        `The option --now must be an ISO time or ms since 1970, not ${JSON.stringify(values.now)}.`,
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
        `The option --latency must be "80" or "50-100", not ${JSON.stringify(values.latency)}.`,
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
  console.log(`  stream   ${server.wsUrl}/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m`);
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
      `The option ${flag} must be a number of at least 0, not ${JSON.stringify(v)}.`,
    );
  return n;
}
