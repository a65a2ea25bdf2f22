/**
 * The one way the tool starts a background service (the MLflow server, an inference server, PROD's router):
 *   1. a record is written atomically with a fresh start token (pid 0: "starting"), BEFORE anything is spawned;
 *   2. the service is spawned detached, in its own process group, with MLOPS_SERVICE=<state dir>#<service> and
 *      MLOPS_SERVICE_TOKEN=<token> in its environment (its children inherit both);
 *   3. the record is rewritten with the pid and process group at once.
 * A crash at any point leaves either nothing or a record naming the token every process of that start carries,
 * so `down`, health checks and the port guard find the whole service (leader and children, even when the leader
 * died) and never touch a process that does not carry it. A recycled pid is never signalled.
 */
import { randomUUID } from "node:crypto";
import { EnvironmentError } from "../core/errors.js";
import type { Progress } from "../core/ports.js";
import { readJsonFile, removeFile, writeJsonAtomic } from "./jsonFile.js";
import { isPortFree, waitPortFree } from "./portProbe.js";
import { envOf, hasProc, listenersOn, membersOfGroup, processesWithEnv, processGroupOf } from "./procScan.js";
import { isOurProcess, isPidRunning, spawnDetached, stopProcessGroup } from "./processes.js";

export const SERVICE_ENV = "MLOPS_SERVICE";
export const TOKEN_ENV = "MLOPS_SERVICE_TOKEN";

/** What identifies one start of a service. Records written by older drivers have no token (then: pid + marker). */
export interface ProcessRef {
  pid: number;
  pgid?: number;
  token?: string;
}

export interface ServiceProcessRecord extends ProcessRef {
  /** "mlflow", "inference-int", "inference-prod-blue", "router-prod" */
  service: string;
  pgid: number;
  token: string;
  port: number;
  command: string;
  args: string[];
  logFile: string;
  startedAt: string;
}

/** The value of MLOPS_SERVICE for `service` of the repository whose state lives in `stateDir`. */
export const serviceId = (stateDir: string, service: string): string => `${stateDir}#${service}`;
const ownedBy = (stateDir: string) => (v: string) => v.startsWith(`${stateDir}#`);

export interface StartServiceOptions<X> {
  recordFile: string;
  stateDir: string;
  service: string;
  port: number;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** fields the caller keeps in the same record (model version, url...) */
  extra: X;
}

/** Records, then starts, a service (see the header). Does not wait for it to be ready. */
export async function startService<X extends object>(o: StartServiceOptions<X>): Promise<ServiceProcessRecord & X> {
  const intent = {
    ...o.extra,
    service: o.service,
    token: randomUUID(),
    pid: 0,
    pgid: 0,
    port: o.port,
    command: o.command,
    args: o.args,
    logFile: o.logFile,
    startedAt: new Date().toISOString(),
  };
  await writeJsonAtomic(o.recordFile, intent);
  const env = { ...o.env, [SERVICE_ENV]: serviceId(o.stateDir, o.service), [TOKEN_ENV]: intent.token };
  const p = spawnDetached(o.command, o.args, { cwd: o.cwd, env, logFile: o.logFile });
  const rec = { ...intent, pid: p.pid, pgid: p.pid };
  await writeJsonAtomic(o.recordFile, rec);
  return rec;
}

/** Live pids of that start of the service: every process carrying its token (older records: the leader, by `marker`). */
export function serviceMembers(ref: ProcessRef | undefined, marker: string): number[] {
  if (!ref) return [];
  if (ref.token && hasProc()) return processesWithEnv(TOKEN_ENV, ref.token).filter(isPidRunning);
  return ref.pid > 0 && isOurProcess(ref.pid, marker) ? [ref.pid] : [];
}

/** Whether any process of that start runs: its leader (one read of /proc), else any process carrying its token. */
export function serviceRunning(ref: ProcessRef | undefined, marker: string): boolean {
  if (ref?.token && ref.pid > 0 && isPidRunning(ref.pid) && envOf(ref.pid, TOKEN_ENV) === ref.token) return true;
  return serviceMembers(ref, marker).length > 0;
}

/**
 * SIGTERM to each process group of `pids` whose every member carries MLOPS_SERVICE (a service's own group: the
 * leader and children, even when the leader is gone), to the other pids one by one (a process that shares a group
 * with something else, e.g. the CLI's own), SIGKILL after the grace; resolves when all are gone.
 */
async function stopPids(pids: number[], graceMs: number): Promise<void> {
  const own = processGroupOf(process.pid) ?? process.pid;
  const groups = new Set<number>();
  const single: number[] = [];
  for (const p of pids) {
    const g = processGroupOf(p);
    const whole = g !== undefined && g !== own && membersOfGroup(g).every((m) => !isPidRunning(m) || envOf(m, SERVICE_ENV) !== undefined);
    if (whole) groups.add(g);
    else single.push(p);
  }
  await Promise.all([...groups].map((g) => stopProcessGroup(g, graceMs)));
  await Promise.all(single.filter(isPidRunning).map((p) => stopPid(p, graceMs)));
}

async function stopPid(pid: number, graceMs: number): Promise<void> {
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  };
  send("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isPidRunning(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isPidRunning(pid)) send("SIGKILL");
  const hard = Date.now() + 5_000;
  while (isPidRunning(pid) && Date.now() < hard) await new Promise((r) => setTimeout(r, 50));
}

/** Stops every process of that start (the whole group, even when the leader is gone). True if one ran. */
export async function stopService(ref: ProcessRef | undefined, marker: string, graceMs = 10_000): Promise<boolean> {
  const pids = serviceMembers(ref, marker);
  if (pids.length === 0) return false;
  if (ref?.token) await stopPids(pids, graceMs);
  else await stopProcessGroup(ref!.pid, graceMs); // a record of an older driver: its leader's group
  return true;
}

/** Reads a service record file (written by startService or an older driver). */
export const readServiceRecord = <T extends ProcessRef>(file: string): Promise<T | undefined> => readJsonFile<T>(file);

/** Stops the service a record file names and removes the record. True if a process was stopped. */
export async function stopRecordedService(file: string, marker: string): Promise<boolean> {
  const rec = await readServiceRecord<ProcessRef>(file);
  const stopped = await stopService(rec, marker);
  await removeFile(file);
  return stopped;
}

/** Every process of this repository's services still running (any start, recorded or not), by service name. */
export function leftoverServices(stateDir: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const pid of processesWithEnv(SERVICE_ENV, ownedBy(stateDir)).filter(isPidRunning)) {
    const name = envOf(pid, SERVICE_ENV)!.slice(stateDir.length + 1);
    out.set(name, [...(out.get(name) ?? []), pid]);
  }
  return out;
}

/** Stops every leftover process of this repository's services; one line per service stopped. */
export async function stopLeftoverServices(stateDir: string, graceMs = 10_000): Promise<string[]> {
  const lines: string[] = [];
  for (const [name, pids] of leftoverServices(stateDir)) {
    await stopPids(pids, graceMs);
    lines.push(`stopped ${name} (pid ${pids.join(", ")}), left running without a record`);
  }
  return lines;
}

/**
 * Stops every process still running of `service` of this repository that is not a detached service (a job the CLI
 * ran, like training, left running by a CLI that was killed): each pid on its own, never the group it shares.
 * Returns the pids stopped.
 */
export async function stopServiceProcesses(stateDir: string, service: string, graceMs = 10_000): Promise<number[]> {
  const pids = processesWithEnv(SERVICE_ENV, serviceId(stateDir, service)).filter((p) => p !== process.pid && isPidRunning(p));
  await Promise.all(pids.map((p) => stopPid(p, graceMs)));
  return pids;
}

/** "port 5601 (int) is in use by another process; ..." */
export const portInUse = (port: number, key: string): EnvironmentError =>
  new EnvironmentError(`port ${port} (${key}) is in use by another process; stop it or set local.ports.${key} in mlops.yaml`);

export type PortHolder = { kind: "free" } | { kind: "ours"; service: string; pids: number[] } | { kind: "stranger"; pids: number[] };

/** Who holds `port`: nobody, a service of this repository (its MLOPS_SERVICE), or anyone else. */
export async function portHolder(port: number, stateDir: string): Promise<PortHolder> {
  if (await isPortFree(port)) return { kind: "free" };
  const pids = listenersOn(port);
  const ours = pids.filter((p) => ownedBy(stateDir)(envOf(p, SERVICE_ENV) ?? ""));
  if (pids.length > 0 && ours.length === pids.length) {
    return { kind: "ours", service: envOf(ours[0]!, SERVICE_ENV)!.slice(stateDir.length + 1), pids: ours };
  }
  return { kind: "stranger", pids };
}

/**
 * Makes `port` free for a service of this repository: free already, or held by one of this repository's own
 * services left behind (a crash, a config change): that one is stopped, whole group. Anyone else's process is
 * refused with one line naming the port and the mlops.yaml key.
 */
export async function claimPort(o: { port: number; key: string; stateDir: string; progress: Progress }): Promise<void> {
  const holder = await portHolder(o.port, o.stateDir);
  if (holder.kind === "free") return;
  if (holder.kind === "stranger") {
    // a listener that just closed (a server we stopped a moment ago) frees the port within seconds
    if (holder.pids.length === 0 && (await waitPortFree(o.port, 15_000))) return;
    throw portInUse(o.port, o.key);
  }
  o.progress.info(`stopping ${holder.service} (pid ${holder.pids.join(", ")}), left on port ${o.port} by an earlier run of mlops`);
  await stopPids(holder.pids, 10_000);
  if (!(await waitPortFree(o.port, 15_000))) throw portInUse(o.port, o.key);
}
