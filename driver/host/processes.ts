/**
 * Background processes on this machine (tracking server, inference servers, router): started detached so they
 * outlive the CLI, logged to a file, stopped by process group (every process of it, not the leader alone). A recorded pid is only trusted while
 * /proc/<pid>/cmdline still names the program we started, so a recycled pid is never killed.
 */
import { spawn } from "node:child_process";
import { openSync, closeSync, readFileSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { hasProc, membersOfGroup } from "./procScan.js";

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

/** A zombie (exited, not yet reaped by its parent) still answers kill(0) but holds nothing. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}

/** True while any process (not a zombie) of process group `pgid` exists. */
export function isGroupAlive(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return hasProc() ? membersOfGroup(pgid).some((p) => !isZombie(p)) : true;
}

/** True while `pid` runs (not a zombie). */
export const isPidRunning = (pid: number): boolean => isPidAlive(pid) && !isZombie(pid);

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    try {
      process.kill(pgid, sig);
    } catch {
      /* gone */
    }
  }
}

/**
 * SIGTERM to the whole process group (leader and every child still in it, even when the leader is gone), SIGKILL
 * after `graceMs`. Resolves once no process of the group remains. Idempotent. The caller must know the group is
 * ours (a token in its environment, or the leader's command line).
 */
export async function stopProcessGroup(pgid: number, graceMs = 10_000): Promise<boolean> {
  if (!isPidAlive(pgid) && !isGroupAlive(pgid)) return false;
  signalGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  const alive = () => isPidRunning(pgid) || isGroupAlive(pgid);
  while (alive() && Date.now() < deadline) await sleep(100);
  if (alive()) {
    signalGroup(pgid, "SIGKILL");
    const hard = Date.now() + 5_000;
    while (alive() && Date.now() < hard) await sleep(50);
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
