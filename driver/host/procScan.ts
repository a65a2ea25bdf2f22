/**
 * What /proc (Linux) says about the processes of this user: each one's process group, the environment it was
 * started with, and which of them listen on a TCP port. Every function answers "unknown" (undefined / an empty
 * list) where /proc is missing or a process is not readable, never throws.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export const hasProc = (): boolean => {
  try {
    readdirSync("/proc/self/fd");
    return true;
  } catch {
    return false;
  }
};

/** All numeric entries of /proc (pids), empty without /proc. */
export function allPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}

/** The process group of `pid` (field 5 of /proc/<pid>/stat; comm may hold spaces and parentheses). */
export function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // after "comm": state ppid pgrp ...
    const pgrp = Number(fields[2]);
    return Number.isInteger(pgrp) ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, ms) a process has used so far, all its threads; undefined when unreadable. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // after "comm": state(0) ... utime(11) stime(12), in clock ticks (100 per second on Linux)
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** The value of `name` in the environment `pid` was started with (children inherit it), if readable. */
export function envOf(pid: number, name: string): string | undefined {
  try {
    const prefix = `${name}=`;
    for (const entry of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
      if (entry.startsWith(prefix)) return entry.slice(prefix.length);
    }
  } catch {
    /* gone, or another user's */
  }
  return undefined;
}

/** Pids whose process group is `pgid`. */
export function membersOfGroup(pgid: number): number[] {
  return allPids().filter((p) => processGroupOf(p) === pgid);
}

/** Pids whose environment has `name=value` (or, with a function, a value it accepts). */
export function processesWithEnv(name: string, value: string | ((v: string) => boolean)): number[] {
  const ok = typeof value === "string" ? (v: string) => v === value : value;
  return allPids().filter((p) => {
    const v = envOf(p, name);
    return v !== undefined && ok(v);
  });
}

/** Socket inodes listening on `port` (any address, IPv4 and IPv6), from /proc/net/tcp{,6}. */
function listeningInodes(port: number): Set<string> {
  const out = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f.length < 10 || f[3] !== "0A") continue;
      if (f[1]!.split(":")[1] === hexPort) out.add(f[9]!);
    }
  }
  out.delete("0");
  return out;
}

/** Pids (of this user: others' fds are not readable) holding a socket that listens on `port`. */
export function listenersOn(port: number): number[] {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  const pids: number[] = [];
  for (const pid of allPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) {
          pids.push(pid);
          break;
        }
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return pids;
}
