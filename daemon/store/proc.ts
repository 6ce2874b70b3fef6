/**
 * Who a process is, beyond its pid, from the process table (`/proc` on Linux). A pid is reused
 * once its process is gone, and means another process in another pid namespace or after a reboot,
 * so the bank's lock records with it the kernel's boot id, the pid namespace, the process's start
 * time and its command line. Where there is no `/proc` (macOS, Windows), every reader returns
 * null and the lock falls back to the pid alone.
 */
import { readFileSync, readlinkSync } from 'node:fs';

/** What identifies this process beyond its pid (each field absent where `/proc` does not tell). */
export interface ProcessIdentity {
  /** `/proc/sys/kernel/random/boot_id`: a new value at every boot of the kernel. */
  bootId?: string;
  /** `readlink /proc/self/ns/pid`, e.g. `pid:[4026531836]`: the pid namespace pids belong to. */
  pidNs?: string;
  /** Field 22 of `/proc/PID/stat`: when the process started, in clock ticks since boot. */
  startTicks?: number;
  /** `/proc/PID/cmdline`, its arguments joined by spaces. */
  cmdline?: string;
}

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Field 22 of `/proc/PID/stat` (after the command name, which may hold spaces and parens). */
export function processStartTicks(pid: number | 'self'): number | null {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // `rest` starts at field 3 (state): field 22 is at index 19.
  const ticks = Number(rest[19]);
  return Number.isSafeInteger(ticks) ? ticks : null;
}

/** The command line of `pid`, or null when it cannot be read (gone, or no `/proc`). */
export function processCmdline(pid: number | 'self'): string | null {
  const raw = read(`/proc/${pid}/cmdline`);
  return raw === null ? null : raw.replace(/\0+$/, '').split('\0').join(' ');
}

/**
 * When `pid` started, in ms since the epoch by this host's clock: the boot time (`btime` of
 * `/proc/stat`, whole seconds) plus its start ticks (USER_HZ is 100 on Linux). Good to a second.
 */
export function processStartMs(pid: number): number | null {
  const ticks = processStartTicks(pid);
  const btime = /^btime (\d+)$/m.exec(read('/proc/stat') ?? '');
  if (ticks === null || !btime) return null;
  return Number(btime[1]) * 1000 + ticks * 10;
}

let mine: ProcessIdentity | null = null;

/** This process's identity (read once; none of it changes while the process runs). */
export function selfIdentity(): ProcessIdentity {
  if (mine) return mine;
  const bootId = read('/proc/sys/kernel/random/boot_id')?.trim();
  let pidNs: string | undefined;
  try {
    pidNs = readlinkSync('/proc/self/ns/pid');
  } catch {
    pidNs = undefined;
  }
  const startTicks = processStartTicks('self');
  const cmdline = processCmdline('self');
  mine = {
    ...(bootId ? { bootId } : {}),
    ...(pidNs ? { pidNs } : {}),
    ...(startTicks !== null ? { startTicks } : {}),
    ...(cmdline !== null ? { cmdline } : {}),
  };
  return mine;
}
