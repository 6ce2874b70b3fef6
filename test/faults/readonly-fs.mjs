/**
 * A read-only mount for one folder, in a child process: preloaded with `node --import`, it makes
 * every call that would change something under `THREADX_READONLY_DIR` fail with EROFS, as the
 * kernel does on a read-only mount (root included, whom a chmod would not stop). Creating a folder
 * that exists fails with EEXIST first, as mkdir(2) does there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { syncBuiltinESMExports } from 'node:module';

const ROOT = path.resolve(process.env.THREADX_READONLY_DIR ?? '/nonexistent');
const under = (p) => {
  if (typeof p !== 'string' && !(p instanceof URL) && !Buffer.isBuffer(p)) return false;
  const abs = path.resolve(p instanceof URL ? p.pathname : p.toString());
  return abs === ROOT || abs.startsWith(ROOT + path.sep);
};
const erofs = (syscall, p) => {
  const e = new Error(`EROFS: read-only file system, ${syscall} '${p}'`);
  return Object.assign(e, { code: 'EROFS', errno: -30, syscall, path: String(p) });
};
const eexist = (p) =>
  Object.assign(new Error(`EEXIST: file already exists, mkdir '${p}'`), {
    code: 'EEXIST',
    errno: -17,
    syscall: 'mkdir',
    path: String(p),
  });
const writes = (flags) =>
  flags !== undefined &&
  flags !== null &&
  !(typeof flags === 'string' && /^rs?$/.test(flags)) &&
  !(typeof flags === 'number' && (flags & 3) === 0);
/** The error a call would get, or null when it changes nothing under ROOT. */
function refuse(name, args) {
  const [a, b] = args;
  switch (name) {
    case 'open':
    case 'createWriteStream':
      if (name === 'open' && !writes(b)) return null;
      if (name === 'createWriteStream' && b && typeof b === 'object' && b.flags === 'r')
        return null;
      return under(a) ? erofs('open', a) : null;
    case 'rename':
    case 'copyFile':
    case 'cp':
    case 'link':
    case 'symlink':
      return under(b) || (name === 'rename' && under(a)) ? erofs(name, under(b) ? b : a) : null;
    case 'mkdir':
      if (!under(a)) return null;
      if (!fs.existsSync(a)) return erofs('mkdir', a);
      // `mkdir -p` of a folder that exists succeeds without writing anything.
      return b && typeof b === 'object' && b.recursive ? null : eexist(a);
    default:
      return under(a) ? erofs(name, a) : null;
  }
}
const NAMES = [
  'open',
  'writeFile',
  'appendFile',
  'mkdir',
  'mkdtemp',
  'rename',
  'rm',
  'rmdir',
  'unlink',
  'utimes',
  'lutimes',
  'chmod',
  'lchmod',
  'chown',
  'lchown',
  'truncate',
  'copyFile',
  'cp',
  'link',
  'symlink',
];
for (const name of NAMES) {
  const cb = fs[name];
  if (typeof cb === 'function') {
    fs[name] = function (...args) {
      const err = refuse(name, args);
      if (!err) return cb.apply(this, args);
      const done = args.findLast((x) => typeof x === 'function');
      process.nextTick(() => done?.(err));
    };
  }
  const sync = fs[`${name}Sync`];
  if (typeof sync === 'function') {
    fs[`${name}Sync`] = function (...args) {
      const err = refuse(name, args);
      if (err) throw err;
      return sync.apply(this, args);
    };
  }
  const prom = fs.promises[name];
  if (typeof prom === 'function') {
    fs.promises[name] = function (...args) {
      const err = refuse(name, args);
      return err ? Promise.reject(err) : prom.apply(this, args);
    };
  }
}
const cws = fs.createWriteStream;
fs.createWriteStream = function (p, opts) {
  const err = refuse('createWriteStream', [p, opts]);
  if (err) throw err;
  return cws.call(this, p, opts);
};
syncBuiltinESMExports();
