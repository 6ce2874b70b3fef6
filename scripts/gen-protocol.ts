/**
 * Generates the protocol's artifacts for clients that do not read TypeScript, from
 * `schemas/protocol.ts` alone:
 *
 * - `schemas/json/<method>.json`: one JSON Schema document per message (`/` → `.`, `$/` → `$.`),
 *   with the params (and result) under `$defs`, and the method's kind, direction, progress and
 *   error codes under `x-threadx`; plus `schemas/json/index.json` listing them with the error codes.
 * - `docs/protocol.md`: every message with its direction, its doc comment, its params and result,
 *   its errors and an example exchange (the examples are validated against the schemas here).
 *
 * `node --import tsx scripts/gen-protocol.ts` writes the files; `--check` only compares, and
 * `test/rpc/generated.test.ts` fails when they are stale.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { z } from 'zod';
import * as prettier from 'prettier';
import { ErrorCodes, METHODS, PROTOCOL_VERSION } from '../schemas/protocol.ts';
import { EXAMPLES } from './protocol-examples.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROTOCOL_TS = path.join(ROOT, 'schemas', 'protocol.ts');
const ERRORS_TS = path.join(ROOT, 'schemas', 'errors.ts');
const JSON_DIR = path.join(ROOT, 'schemas', 'json');
const DOC = path.join(ROOT, 'docs', 'protocol.md');

type JsonSchema = Record<string, unknown>;

export function fileNameOf(method: string): string {
  return `${method.replaceAll('/', '.')}.json`;
}

/** Doc comments of the declarations, by method name, read from the source. */
export function docComments(source: string): Map<string, string> {
  const sf = ts.createSourceFile('protocol.ts', source, ts.ScriptTarget.ES2022, true);
  const out = new Map<string, string>();
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st)) continue;
    for (const decl of st.declarationList.declarations) {
      const init = decl.initializer;
      if (!init || !ts.isCallExpression(init)) continue;
      const arg = init.arguments[0];
      if (!arg || !ts.isObjectLiteralExpression(arg)) continue;
      const methodProp = arg.properties.find(
        (p) => ts.isPropertyAssignment(p) && p.name.getText(sf) === 'method',
      ) as ts.PropertyAssignment | undefined;
      if (!methodProp || !ts.isStringLiteral(methodProp.initializer)) continue;
      const docs = ts.getJSDocCommentsAndTags(decl).filter(ts.isJSDoc);
      const text = docs
        .map((d) =>
          typeof d.comment === 'string' ? d.comment : (ts.getTextOfJSDocComment(d.comment) ?? ''),
        )
        .join('\n')
        .replace(/\s*\n\s*/g, ' ')
        .trim();
      out.set(methodProp.initializer.text, text);
    }
  }
  return out;
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const s = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as JsonSchema;
  delete s.$schema;
  return s;
}

const CODE_NAMES = new Map<number, string>(Object.entries(ErrorCodes).map(([k, v]) => [v, k]));

/** Every generated file, by absolute path, with its content. */
export async function generate(): Promise<Map<string, string>> {
  const docs = docComments(await fsp.readFile(PROTOCOL_TS, 'utf8'));
  const files = new Map<string, string>();
  const index: JsonSchema[] = [];
  for (const [method, decl] of Object.entries(METHODS)) {
    const doc = docs.get(method);
    if (!doc) throw new Error(`${method} has no doc comment in schemas/protocol.ts`);
    const defs: JsonSchema = { params: toSchema(decl.params, 'input') };
    if (decl.kind === 'request') defs.result = toSchema(decl.result, 'output');
    const meta = {
      kind: decl.kind,
      method,
      direction: decl.direction,
      ...(decl.kind === 'request' ? { progress: decl.progress, errors: [...decl.errors] } : {}),
    };
    const doc_: JsonSchema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: method,
      description: doc,
      'x-threadx': { ...meta, protocolVersion: PROTOCOL_VERSION },
      $defs: defs,
    };
    files.set(path.join(JSON_DIR, fileNameOf(method)), `${JSON.stringify(doc_, null, 2)}\n`);
    index.push({ ...meta, file: fileNameOf(method) });
  }
  files.set(
    path.join(JSON_DIR, 'index.json'),
    `${JSON.stringify({ protocolVersion: PROTOCOL_VERSION, errorCodes: ErrorCodes, messages: index }, null, 2)}\n`,
  );
  // Formatted as the repository formats Markdown, so `prettier --check` and this agree.
  const options = (await prettier.resolveConfig(DOC)) ?? {};
  files.set(DOC, await prettier.format(markdown(docs), { ...options, filepath: DOC }));
  return files;
}

// ---------------------------------------------------------------------------------------------
// Markdown.
// ---------------------------------------------------------------------------------------------

function typeOf(s: JsonSchema | undefined): string {
  if (!s) return 'any';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  const union = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (union) return union.map((u) => typeOf(u)).join(' \\| ');
  if (s.type === 'array') {
    if (Array.isArray(s.prefixItems))
      return `[${(s.prefixItems as JsonSchema[]).map(typeOf).join(', ')}]`;
    return `${typeOf(s.items as JsonSchema)}[]`;
  }
  if (s.type === 'object') {
    if (s.properties) return 'object';
    if (s.additionalProperties) return `{ [key]: ${typeOf(s.additionalProperties as JsonSchema)} }`;
    return 'object';
  }
  let t = String(s.type ?? 'any');
  const bounds: string[] = [];
  if (typeof s.minimum === 'number' && s.minimum > -9e15) bounds.push(`≥ ${s.minimum}`);
  if (typeof s.maximum === 'number' && s.maximum < 9e15) bounds.push(`≤ ${s.maximum}`);
  if (typeof s.pattern === 'string') bounds.push(`/${s.pattern}/`);
  if (bounds.length) t += ` (${bounds.join(', ')})`;
  return t;
}

/** The object a schema describes (looking through `T | null`). */
function objectOf(s: JsonSchema): JsonSchema | null {
  if (s.type === 'object' && s.properties) return s;
  const union = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  const obj = union?.find((u) => u.type === 'object' && u.properties);
  return obj ?? null;
}

function fieldsTable(s: JsonSchema): string {
  const obj = objectOf(s);
  if (!obj) return `\`${typeOf(s)}\`\n`;
  const required = new Set((obj.required as string[] | undefined) ?? []);
  const rows = Object.entries(obj.properties as Record<string, JsonSchema>).map(([k, v]) => {
    const dflt = v.default !== undefined ? `default \`${JSON.stringify(v.default)}\`` : '';
    const desc = typeof v.description === 'string' ? v.description : '';
    return `| \`${k}\` | \`${typeOf(v).replaceAll('`', '')}\` | ${required.has(k) && v.default === undefined ? 'yes' : ''} | ${[dflt, desc].filter(Boolean).join('. ')} |`;
  });
  if (rows.length === 0) return 'none\n';
  return ['| field | type | required | notes |', '| --- | --- | --- | --- |', ...rows, ''].join(
    '\n',
  );
}

function markdown(docs: Map<string, string>): string {
  const out: string[] = [];
  out.push(
    '# ThreadX Data protocol',
    '',
    '<!-- Generated by scripts/gen-protocol.ts from schemas/protocol.ts: do not edit by hand. -->',
    '',
    `Protocol version **${PROTOCOL_VERSION}**. JSON-RPC 2.0 over LSP base-protocol framing`,
    '(`Content-Length: N\\r\\n\\r\\n` then N bytes of UTF-8 JSON), on stdio, a Unix socket or a local',
    'port (see [daemon.md](daemon.md)). Batches are not supported. Times are ms since the Unix',
    'epoch (UTC); requests also accept UTC ISO-8601 strings (`2024-01-31`, `2024-01-31T12:00Z`).',
    'Ranges are half-open `[start, end)`.',
    '',
    'A connection starts with `initialize`; any other request before it is answered',
    '`ServerNotInitialized`. It ends with `shutdown` then `exit`. Long requests accept a',
    '`workDoneToken` and report `$/progress` (begin / report / end); any request can be cancelled',
    'with `$/cancelRequest`, and then answers `RequestCancelled`. JSON Schema for every message is',
    'in [`schemas/json/`](../schemas/json/).',
    '',
    '## Error codes',
    '',
    '| code | name | meaning |',
    '| --- | --- | --- |',
  );
  const codeDocs = errorCodeDocs();
  for (const [name, code] of Object.entries(ErrorCodes)) {
    out.push(`| ${code} | \`${name}\` | ${codeDocs.get(name) ?? ''} |`);
  }
  out.push(
    '',
    'Every error carries `data.reason`, a stable string (`NOT_FOUND`, `CHECKSUM_MISMATCH`, ...).',
    '`InvalidParams` carries `data.issues`: `[{ path, message }]`, one per problem, located by path',
    '(e.g. `["indicators", 0, "params", "fast"]`).',
    '',
    '## Messages',
    '',
    '| message | kind | direction |',
    '| --- | --- | --- |',
  );
  for (const [method, d] of Object.entries(METHODS)) {
    out.push(`| [\`${method}\`](#${anchor(method)}) | ${d.kind} | ${d.direction} |`);
  }
  out.push('');
  for (const [method, d] of Object.entries(METHODS)) {
    out.push(`### \`${method}\``, '');
    const bits = [`${d.kind}, ${d.direction}`];
    if (d.kind === 'request' && d.progress) bits.push('reports `$/progress`, cancellable');
    out.push(
      `*${bits.join('; ')}.* Schema: [\`schemas/json/${fileNameOf(method)}\`](../schemas/json/${fileNameOf(method)})`,
      '',
    );
    out.push(docs.get(method) ?? '', '');
    out.push('**Params**', '', fieldsTable(toSchema(d.params, 'input')));
    if (d.kind === 'request') {
      out.push('**Result**', '', fieldsTable(toSchema(d.result, 'output')));
      if (d.errors.length) {
        out.push(
          `**Errors** beyond the JSON-RPC ones: ${d.errors.map((c) => `${c} \`${CODE_NAMES.get(c)}\``).join(', ')}`,
          '',
        );
      }
    }
    const ex = EXAMPLES[method as keyof typeof EXAMPLES];
    out.push('**Example**', '', '```jsonc');
    if (d.kind === 'request') {
      out.push(
        `// → ${method}`,
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method,
          ...(ex.params === undefined ? {} : { params: ex.params }),
        }),
      );
      out.push(
        '// ←',
        JSON.stringify({ jsonrpc: '2.0', id: 1, result: (ex as { result: unknown }).result }),
      );
    } else {
      out.push(
        `// ${d.direction === 'client->daemon' ? '→' : '←'} ${method}`,
        JSON.stringify({
          jsonrpc: '2.0',
          method,
          ...(ex.params === undefined ? {} : { params: ex.params }),
        }),
      );
    }
    out.push('```', '');
  }
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

function anchor(method: string): string {
  return method.toLowerCase().replace(/[^a-z0-9 -]/g, '');
}

function errorCodeDocs(): Map<string, string> {
  // The doc comments of `ErrorCodes`' members.
  const source = ts.sys.readFile(ERRORS_TS) ?? '';
  const sf = ts.createSourceFile('p.ts', source, ts.ScriptTarget.ES2022, true);
  const out = new Map<string, string>();
  const visit = (node: ts.Node): void => {
    if (
      (ts.isPropertyAssignment(node) && ts.isNumericLiteral(node.initializer)) ||
      (ts.isPropertyAssignment(node) && ts.isPrefixUnaryExpression(node.initializer))
    ) {
      const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
      const text = docs
        .map((d) => (typeof d.comment === 'string' ? d.comment : ''))
        .join(' ')
        .replace(/\s+/g, ' ')
        .trim();
      out.set(node.name.getText(sf), text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Checks that each example matches its schemas (a stale example fails the generation). */
function checkExamples(): void {
  for (const [method, d] of Object.entries(METHODS)) {
    const ex = EXAMPLES[method as keyof typeof EXAMPLES] as
      { params?: unknown; result?: unknown } | undefined;
    if (!ex) throw new Error(`no example for ${method} in scripts/protocol-examples.ts`);
    const p = d.params.safeParse(ex.params);
    if (!p.success) throw new Error(`example params of ${method}: ${p.error.message}`);
    if (d.kind === 'request') {
      const r = d.result.safeParse(ex.result);
      if (!r.success) throw new Error(`example result of ${method}: ${r.error.message}`);
    }
  }
}

async function main(): Promise<number> {
  checkExamples();
  const files = await generate();
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [file, content] of files) {
    let old: string | null = null;
    try {
      old = await fsp.readFile(file, 'utf8');
    } catch {
      old = null;
    }
    if (old === content) continue;
    stale.push(path.relative(ROOT, file));
    if (!check) {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(file, content);
    }
  }
  if (check && stale.length) {
    process.stderr.write(
      `stale: ${stale.join(', ')}; run node --import tsx scripts/gen-protocol.ts\n`,
    );
    return 1;
  }
  process.stdout.write(
    check ? 'protocol artifacts are up to date\n' : `wrote ${stale.length} file(s)\n`,
  );
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}

export { checkExamples };
