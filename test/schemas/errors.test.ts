/**
 * The one error model: every code of `ERRORS` through both adapters (the JSON-RPC mapping and
 * the CLI exit code), the protocol's error codes against the table, and each error class of the
 * product onto its code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import {
  ERRORS,
  EXIT,
  ErrorCodes as TableCodes,
  ThreadxError,
  type ErrorCodeName,
  errorFromReport,
  toThreadxError,
} from '../../schemas/errors.ts';
import { ErrorCodes } from '../../schemas/protocol.ts';
import { toRpcError } from '../../daemon/rpc/errors.ts';
import { ResponseError } from '../../daemon/rpc/client.ts';
import { cliError, usage } from '../../daemon/cli/main.ts';
import { UsageError } from '../../daemon/cli/context.ts';
import { IngestError } from '../../daemon/jobs/ingest.ts';
import { IndicatorArgsError } from '../../daemon/jobs/indicators.ts';
import { UnknownGroupError } from '../../daemon/jobs/universe.ts';
import { KlineParseError, parseKlineCsv } from '../../daemon/engine/parse.ts';
import { IndicatorParamsError, parseIndicatorParams } from '../../daemon/engine/indicators.ts';
import { ImportError } from '../../daemon/store/importer.ts';
import { DataContractError, NotFoundError } from '../../daemon/store/bank.ts';
import { ParquetFormatError } from '../../daemon/store/parquet.ts';
import { ConfigError } from '../../daemon/store/config.ts';
import { RegistryError } from '../../daemon/store/registry.ts';
import { CancelledError, RateLimitError, SourceError } from '../../daemon/sources/errors.ts';
import { FramingError } from '../../daemon/rpc/framing.ts';
import { parseUtcDate } from '../../schemas/common.ts';

const CODES = Object.keys(ERRORS) as ErrorCodeName[];
const USER_RPC = new Set<number>([
  ErrorCodes.InvalidParams,
  ErrorCodes.InvalidSymbol,
  ErrorCodes.NotFound,
  ErrorCodes.ParseError,
  ErrorCodes.InvalidRequest,
  ErrorCodes.MethodNotFound,
  ErrorCodes.ServerNotInitialized,
  ErrorCodes.Unauthorized,
]);

test('errors: the protocol declares the same error codes as the table (one source)', () => {
  assert.equal(ErrorCodes, TableCodes);
  const declared = new Set<number>(Object.values(ErrorCodes));
  const used = new Set<number>(CODES.map((c) => ERRORS[c].rpc));
  for (const c of CODES) assert.ok(declared.has(ERRORS[c].rpc), `${c}: rpc code not declared`);
  for (const [name, n] of Object.entries(ErrorCodes))
    assert.ok(used.has(n), `ErrorCodes.${name} is reached by no code of the table`);
});

test('errors: every code through the JSON-RPC adapter and the CLI adapter', () => {
  for (const code of CODES) {
    const e = new ThreadxError(code, `it failed (${code})`, 'Run "threadx list".', { file: 'f' });
    const rpc = toRpcError(e, 'm');
    assert.equal(rpc.code, ERRORS[code].rpc, code);
    assert.equal(rpc.data.reason, code, code);
    assert.equal(rpc.data.hint, 'Run "threadx list".', code);
    assert.deepEqual(rpc.data.details, { file: 'f' }, code);
    if (code !== 'INTERNAL' && code !== 'CANCELLED') assert.equal(rpc.message, e.message);

    const human = cliError('x', e, false);
    assert.equal(human.exit, ERRORS[code].exit, code);
    assert.equal(human.stream, 'stderr');
    assert.equal(human.text.split('\n').length, 1, `${code}: one line`);
    assert.match(human.text, /Run "threadx list"\./);
    const json = cliError('x', e, true);
    assert.equal(json.exit, ERRORS[code].exit);
    assert.deepEqual(JSON.parse(json.text), {
      ok: false,
      error: {
        code,
        message: `It failed (${code}).`,
        hint: 'Run "threadx list".',
        details: { file: 'f' },
      },
    });

    // The client turns the wire form back into the same code.
    const back = new ResponseError(rpc.code, rpc.message, rpc.data);
    assert.equal(back.code, code);
    assert.equal(back.rpcCode, ERRORS[code].rpc);
    assert.ok(back instanceof ThreadxError);

    // User errors: exit 2 and an invalid-params-like JSON-RPC code; the rest: not exit 2.
    if (ERRORS[code].user) {
      assert.equal(ERRORS[code].exit, EXIT.usage, code);
      assert.ok(USER_RPC.has(ERRORS[code].rpc), `${code}: a user error answers as bad input`);
    } else {
      assert.notEqual(ERRORS[code].exit, EXIT.usage, code);
    }
  }
});

test('errors: values that are not ThreadxError map by kind, never by message text', () => {
  const zod = z.object({ n: z.number() }).safeParse({ n: 'x' });
  assert.ok(!zod.success);
  const zrpc = toRpcError(zod.error, 'm');
  assert.equal(zrpc.code, ErrorCodes.InvalidParams);
  assert.equal(zrpc.data.reason, 'INVALID_PARAMS');
  assert.deepEqual(zrpc.data.issues?.[0]?.path, ['n']);
  assert.equal(cliError('x', zod.error, false).exit, EXIT.usage);

  const abort = new DOMException('stop', 'AbortError');
  assert.equal(toRpcError(abort).code, ErrorCodes.RequestCancelled);
  assert.equal(cliError('x', abort, false).exit, EXIT.interrupted);

  const disk = Object.assign(new Error('no space'), { code: 'ENOSPC' });
  assert.equal(toRpcError(disk).code, ErrorCodes.StorageError);
  assert.equal(cliError('x', disk, false).exit, EXIT.storage);

  // A message that reads like bad input is still a bug when nothing says otherwise.
  const bug = new Error('invalid something');
  assert.equal(toRpcError(bug).code, ErrorCodes.InternalError);
  assert.equal(toRpcError(bug).data.reason, 'INTERNAL');
  assert.equal(cliError('x', bug, false).exit, EXIT.storage);

  assert.equal(errorFromReport('NOT_FOUND', 'gone').code, 'NOT_FOUND');
  assert.equal(errorFromReport('SOMETHING_ELSE', 'x').code, 'INTERNAL');
});

/** Every error class of the product, with the code it must carry. */
function samples(): [ThreadxError | unknown, ErrorCodeName][] {
  return [
    [new UsageError('--symbol is required'), 'BAD_INPUT'],
    [new IngestError('INVALID_RANGE', 'the window is empty'), 'INVALID_RANGE'],
    [new IndicatorArgsError('unknown indicator "foo"'), 'INVALID_INDICATOR'],
    [new UnknownGroupError('nope', ['majors']), 'UNKNOWN_GROUP'],
    [catching(() => parseKlineCsv('1,2,3\n', 'f.csv')), 'BAD_FILE'],
    [new KlineParseError('bad', 3), 'BAD_FILE'],
    [catching(() => parseIndicatorParams('sma', { period: 0 } as never)), 'INVALID_INDICATOR'],
    [new ImportError('not a kline file'), 'BAD_FILE'],
    [new DataContractError('high < low'), 'DATA_CONTRACT'],
    [new NotFoundError('no BTCUSDC/1h'), 'NOT_FOUND'],
    [new ParquetFormatError('not parquet'), 'PARQUET'],
    [new ConfigError('bad key'), 'CONFIG'],
    [new RegistryError('bad registry'), 'REGISTRY'],
    [new SourceError('INVALID_SYMBOL', 'no such symbol', false), 'INVALID_SYMBOL'],
    [new RateLimitError(429, 2000), 'RATE_LIMITED'],
    [new CancelledError(), 'CANCELLED'],
    [new FramingError('BAD_HEADER', 'garbage'), 'PARSE_ERROR'],
    [catching(() => parseUtcDate('2024-02-30')), 'INVALID_DATE'],
    [catching(() => parseUtcDate('2024-02-03T10:00')), 'INVALID_DATE'],
  ];
}

test('errors: every error class is a ThreadxError with its code', () => {
  for (const [e, code] of samples()) {
    assert.ok(e instanceof ThreadxError, `${String(e)} is a ThreadxError`);
    assert.equal(e.code, code, String(e));
    assert.equal(toThreadxError(e), e);
  }
  const params = catching(() => parseIndicatorParams('sma', { period: 0 } as never));
  assert.ok(params instanceof IndicatorParamsError && params.issues.length > 0);
});

test('errors: user errors answer InvalidParams (or InvalidSymbol/NotFound) and exit 2', () => {
  const start = new IngestError(
    'INVALID_RANGE',
    'the window is empty: start 2030-01-01 is not before end 2024-01-01',
  );
  const rpc = toRpcError(start, 'ingest/run');
  assert.equal(rpc.code, ErrorCodes.InvalidParams);
  assert.equal(rpc.data.reason, 'INVALID_RANGE');
  assert.equal(cliError('ingest', start, false).exit, EXIT.usage);
  for (const e of [
    new IndicatorArgsError('x'),
    new KlineParseError('x', 1),
    new ImportError('x'),
    new UsageError('x'),
  ]) {
    assert.equal(toRpcError(e).code, ErrorCodes.InvalidParams, e.name);
    assert.equal(toRpcError(e).data.reason, e.code);
    assert.equal(cliError('x', e, false).exit, EXIT.usage, e.name);
  }
  const group = toRpcError(new UnknownGroupError('nope', []));
  assert.equal(group.code, ErrorCodes.NotFound);
  const bad = toRpcError(
    catching(() => parseIndicatorParams('sma', { period: 0 } as never)),
    'indicators/read',
  );
  assert.equal(bad.code, ErrorCodes.InvalidParams);
  assert.deepEqual(bad.data.issues?.[0]?.path.slice(0, 2), ['indicators', 'sma']);
});

test('errors: hints and messages that name a command name one that exists', () => {
  const commands = new Set(
    [...usage().matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]).concat(['--help']),
  );
  for (const [e] of samples()) {
    const err = e as ThreadxError;
    for (const m of `${err.message} ${err.hint ?? ''}`.matchAll(/"threadx ([a-z-]+)/g))
      assert.ok(commands.has(m[1]), `${err.name}: "threadx ${m[1]}" is not a command`);
  }
});

function catching(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}
