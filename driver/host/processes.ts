/**
 * Background processes on this machine (tracking server, inference servers, router): started detached so they
 * outlive the CLI, logged to a file, stopped by process group. A recorded pid is only trusted while
 * /proc/<pid>/cmdline still names the program we started, so a recycled pid is never killed.
 */
import { spawn } from "node:child_process";
import { openSync, closeSync, readFileSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True when `pid` is alive and (where /proc exists) its command line contains `marker`. */
export function isOurProcess(pid: number, marker: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || !isPidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
  } catch {
    return process.platform !== "linux"; // no /proc: trust the pid
  }
}

export interface DetachedProcess {
  pid: number;
  logFile: string;
}

/** Starts `command` in its own process group, stdout+stderr appended to `logFile`, not waited for. */
export function spawnDetached(command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): DetachedProcess {
  mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, "a");
  try {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ["ignore", fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.on("error", () => undefined);
    child.unref();
    return { pid: child.pid, logFile: opts.logFile };
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM to the process group, SIGKILL after `graceMs`. Resolves once the leader is gone. Idempotent. */
export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<boolean> {
  if (!isPidAlive(pid)) return false;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isPidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isPidAlive(pid)) {
    signal("SIGKILL");
    while (isPidAlive(pid)) await sleep(50);
  }
  return true;
}

/** The last `lines` non-empty lines of a log file ("" if none). */
export async function logTail(file: string, lines = 5): Promise<string> {
  try {
    const text = await readFile(file, "utf8");
    return text
      .trimEnd()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .slice(-lines)
      .join("\n");
  } catch {
    return "";
  }
}
