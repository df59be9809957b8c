/**
 * Reads CPU time and memory of a process tree from Linux `/proc`.
 *
 * A tree, not a single PID, because Dante forks worker processes and its
 * cost is the sum of them. Every reader returns `undefined` instead of
 * throwing when `/proc` is missing (not Linux) or the process is gone, so the
 * benchmark degrades to "n/a" rather than failing.
 *
 * @module
 */

/**
 * Clock ticks per second of `utime`/`stime` in `/proc/PID/stat`.
 * `sysconf(_SC_CLK_TCK)` is not reachable from Deno; it is 100 on every
 * mainstream Linux build.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

/** One sample of a process tree. */
export interface TreeSample {
  /** PIDs in the tree, the root first. */
  pids: number[];
  /** User + system CPU seconds consumed so far by the tree. */
  cpuSeconds: number;
  /** Resident set size of the tree, KiB (shared pages counted per process). */
  rssKib: number;
  /** Proportional set size of the tree, KiB; `undefined` without smaps_rollup. */
  pssKib: number | undefined;
  /** When the sample was taken, `performance.now()` milliseconds. */
  atMs: number;
}

/** Parsed fields of `/proc/PID/stat` that the benchmark uses. */
export interface ProcStat {
  /** Parent PID. */
  ppid: number;
  /** User + system CPU ticks. */
  cpuTicks: number;
  /** Start time in ticks since boot, to tell a reused PID from the original. */
  startTicks: number;
}

/**
 * Parses `/proc/PID/stat`, or returns `undefined` if the process is gone.
 *
 * The command name (field 2) may contain spaces and parentheses, so fields
 * are counted from the last `)`.
 */
export function readProcStat(pid: number | "self"): ProcStat | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime 15, starttime 22.
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const start = Number(fields[19]);
  if (![ppid, utime, stime, start].every(Number.isFinite)) return undefined;
  return { ppid, cpuTicks: utime + stime, startTicks: start };
}

/** Returns the PID and all descendants of `root` (root first). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  try {
    for (const entry of Deno.readDirSync("/proc")) {
      const pid = Number(entry.name);
      if (!Number.isInteger(pid)) continue;
      const stat = readProcStat(pid);
      if (stat === undefined) continue;
      const list = children.get(stat.ppid);
      if (list) list.push(pid);
      else children.set(stat.ppid, [pid]);
    }
  } catch {
    return [root];
  }
  const out = [root];
  // Bounded by the number of processes on the machine: each PID is visited once.
  for (let i = 0; i < out.length; i++) {
    const pid = out[i];
    if (pid === undefined) break;
    for (const child of children.get(pid) ?? []) out.push(child);
  }
  return out;
}

function _readKib(path: string, key: string): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    if (line.startsWith(key)) {
      const value = Number(line.slice(key.length).trim().split(/\s+/)[0]);
      return Number.isFinite(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * Samples CPU and memory of the tree rooted at `root`.
 * Returns `undefined` if the root process cannot be read.
 */
export function sampleTree(root: number): TreeSample | undefined {
  const rootStat = readProcStat(root);
  if (rootStat === undefined) return undefined;
  const pids = processTree(root);
  let ticks = 0;
  let rss = 0;
  let pss: number | undefined = 0;
  for (const pid of pids) {
    const stat = pid === root ? rootStat : readProcStat(pid);
    if (stat === undefined) continue;
    ticks += stat.cpuTicks;
    rss += _readKib(`/proc/${pid}/status`, "VmRSS:") ?? 0;
    const p = _readKib(`/proc/${pid}/smaps_rollup`, "Pss:");
    pss = p === undefined || pss === undefined ? undefined : pss + p;
  }
  return {
    pids,
    cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND,
    rssKib: rss,
    pssKib: pss,
    atMs: performance.now(),
  };
}

/** CPU seconds used by the calling process so far, or `undefined`. */
export function selfCpuSeconds(): number | undefined {
  const stat = readProcStat("self");
  return stat === undefined
    ? undefined
    : stat.cpuTicks / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds the machine's processes have used so far, all cores (user,
 * nice and system time from the first line of `/proc/stat`), or `undefined`.
 * Interrupt and softirq time is left out: loopback networking runs there and
 * is charged to no process, so it would look like a stranger's load.
 */
export function machineBusySeconds(): number | undefined {
  let line: string | undefined;
  try {
    line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
  } catch {
    return undefined;
  }
  // cpu user nice system idle iowait irq softirq steal ...
  const ticks = (line ?? "").trim().split(/\s+/).slice(1, 4).map(Number);
  if (ticks.length < 3 || !ticks.every(Number.isFinite)) return undefined;
  return ticks.reduce((a, b) => a + b, 0) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU use between two samples as a percentage of one core
 * (200 = both cores of a 2-core machine busy).
 */
export function cpuPercent(
  before: { cpuSeconds: number; atMs: number } | undefined,
  after: { cpuSeconds: number; atMs: number } | undefined,
): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  const wall = (after.atMs - before.atMs) / 1000;
  if (wall <= 0) return undefined;
  return (100 * (after.cpuSeconds - before.cpuSeconds)) / wall;
}
