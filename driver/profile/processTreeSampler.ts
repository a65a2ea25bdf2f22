/**
 * CPU and memory of a local process and all its descendants (azmlinfsrv runs gunicorn workers), sampled from
 * /proc: CPU from utime+stime of /proc/<pid>/stat, memory from VmRSS of /proc/<pid>/status, summed over the
 * tree. Linux only; elsewhere `readProcessTree` returns undefined and the profile has no resource figures.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { ResourceUsage } from "./profileTypes.js";

/** Kernel clock ticks per second as seen in /proc (USER_HZ, 100 on every mainstream Linux build). */
const USER_HZ = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, clock ticks */
  cpuTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may hold spaces and parentheses: the fields after it start past the last ')'.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    return { pid, ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

function readRssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface TreeSnapshot {
  at: number;
  /** pid -> cpu ticks */
  ticks: Map<number, number>;
  rssBytes: number;
}

/** One reading of the tree rooted at `rootPid`, or undefined when the process is gone or /proc is absent. */
export function readProcessTree(rootPid: number): TreeSnapshot | undefined {
  const root = readStat(rootPid);
  if (!root) return undefined;
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  const stats = new Map<number, ProcStat>([[rootPid, root]]);
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (!s) continue;
    stats.set(s.pid, s);
    const list = children.get(s.ppid) ?? [];
    list.push(s.pid);
    children.set(s.ppid, list);
  }
  const ticks = new Map<number, number>();
  let rssBytes = 0;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (ticks.has(pid)) continue;
    ticks.set(pid, stats.get(pid)?.cpuTicks ?? 0);
    rssBytes += readRssBytes(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return { at: performance.now(), ticks, rssBytes };
}

/** Cores used between two snapshots, counting only processes present in both. */
export function coresBetween(a: TreeSnapshot, b: TreeSnapshot): number {
  const seconds = (b.at - a.at) / 1000;
  if (seconds <= 0) return 0;
  let ticks = 0;
  for (const [pid, t] of b.ticks) {
    const before = a.ticks.get(pid);
    if (before !== undefined && t >= before) ticks += t - before;
  }
  return ticks / USER_HZ / seconds;
}

export interface ResourceSampler {
  /** Stops sampling and returns the figures since start (undefined when the process could not be read). */
  stop(): ResourceUsage | undefined;
}

/** Samples the tree every `intervalMs` until stopped. */
export function startResourceSampler(rootPid: number, intervalMs = 250): ResourceSampler {
  const first = readProcessTree(rootPid);
  let prev = first;
  let peakRss = first?.rssBytes ?? 0;
  let peakCores = 0;
  let samples = first ? 1 : 0;
  const take = (): void => {
    const snap = readProcessTree(rootPid);
    if (!snap) return;
    samples += 1;
    peakRss = Math.max(peakRss, snap.rssBytes);
    if (prev) peakCores = Math.max(peakCores, coresBetween(prev, snap));
    prev = snap;
  };
  const timer = setInterval(take, intervalMs);
  timer.unref();
  return {
    stop(): ResourceUsage | undefined {
      clearInterval(timer);
      take();
      if (!first || !prev || prev === first) return undefined;
      return { cpuCores: coresBetween(first, prev), cpuCoresPeak: peakCores, peakRssBytes: peakRss, samples };
    },
  };
}
