/**
 * PROD's weighted router as a background process of the local target:
 *   node --import tsx driver/router/routerMain.ts <repo>/.mlops/stacks/prod/router.json
 * detached (own process group, outlives the CLI), loopback only, log in .mlops/logs/router-prod.log, recorded in
 * .mlops/services/router-prod.json before it is spawned (host/serviceProcess.ts). The state file holds its upstreams (blue, green) and weights; the router
 * rewrites it when the weights change, so a restarted router comes back with the split it had. A recorded pid
 * is trusted only while its command line still names this repository's state file. The admin API (weights) is
 * on a second loopback listener; its URL and token are in the router's 0600 admin file (routerAdminFile.ts).
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Progress } from "../../core/ports.js";
import { RouterClient } from "../../router/routerClient.js";
import { adminFileFor, removeAdminFile } from "../../router/routerAdminFile.js";
import { readRouterStateFile, writeRouterStateFile } from "../../router/routerStateFile.js";
import { waitForHttp } from "../../host/httpProbe.js";
import { readJsonFile } from "../../host/jsonFile.js";
import type { LocalPaths } from "./localPaths.js";
import { claimPort, serviceRunning, startService, stopService, type ProcessRef } from "../../host/serviceProcess.js";

export const ROUTER_MAIN = fileURLToPath(new URL("../../router/routerMain.ts", import.meta.url));

/** .mlops/services/router-prod.json: written before the router is spawned (pid 0 until it is). */
export interface RouterProcessRecord extends ProcessRef {
  pid: number;
  port: number;
  url: string;
  stateFile: string;
  logFile: string;
  startedAt: string;
}

export const readRouterRecord = (paths: LocalPaths): Promise<RouterProcessRecord | undefined> => readJsonFile<RouterProcessRecord>(paths.routerService);

/** Whether the recorded router runs: any process carrying its start token (older records: the pid, by its state file). */
export const routerRunning = (rec: RouterProcessRecord | undefined): rec is RouterProcessRecord => !!rec && serviceRunning(rec, rec.stateFile);

export const routerUrl = (port: number): string => `http://127.0.0.1:${port}`;

/** An admin client of the router a record describes (URL and token from its admin file, read per call). */
export const routerClientOf = (rec: Pick<RouterProcessRecord, "url" | "stateFile">, timeoutMs?: number): RouterClient =>
  RouterClient.fromAdminFile(rec.url, adminFileFor(rec.stateFile), timeoutMs);

export interface RunningRouterProcess {
  record: RouterProcessRecord;
  client: RouterClient;
  /** false when a running router was reused */
  started: boolean;
}

/**
 * The router on `port` in front of `upstreams`, started if it is not running. A new router keeps the weights
 * of the state file when its upstreams are the same, else starts with no traffic anywhere (0/0).
 */
export async function ensureRouter(o: {
  paths: LocalPaths;
  port: number;
  upstreams: Record<string, string>;
  /** largest request body the router forwards (scoring.maxRequestBytes); its default when absent */
  maxRequestBytes?: number;
  progress: Progress;
}): Promise<RunningRouterProcess> {
  const { paths, port, upstreams } = o;
  const url = routerUrl(port);
  const client = routerClientOf({ url, stateFile: paths.routerStateFile });
  const answers = (): Promise<boolean> =>
    client.state().then(
      () => true,
      () => false,
    );
  const rec = await readRouterRecord(paths);
  if (routerRunning(rec)) {
    const same =
      rec.port === port &&
      (await readRouterStateFile(rec.stateFile).then(
        (s) => JSON.stringify(s.upstreams) === JSON.stringify(upstreams) && s.maxRequestBytes === o.maxRequestBytes,
        () => false,
      ));
    if (same && (await answers())) return { record: rec, client, started: false };
    o.progress.info(`restarting prod's router (pid ${rec.pid}): its port, upstreams or request limit differ from mlops.yaml, or its admin API does not answer`);
    await stopService(rec, rec.stateFile);
  }
  await claimPort({ port, key: "prod", stateDir: paths.stateDir, progress: o.progress });
  const stateFile = paths.routerStateFile;
  const existing = await readRouterStateFile(stateFile).catch(() => undefined);
  const keep = existing && JSON.stringify(existing.upstreams) === JSON.stringify(upstreams);
  const weights = keep ? existing.weights : Object.fromEntries(Object.keys(upstreams).map((k) => [k, 0]));
  await mkdir(path.dirname(stateFile), { recursive: true });
  await writeRouterStateFile(stateFile, { host: "127.0.0.1", port, upstreams, weights, ...(o.maxRequestBytes ? { maxRequestBytes: o.maxRequestBytes } : {}) });
  // a stale admin file (a router killed with SIGKILL) must not be mistaken for the new router's
  await removeAdminFile(adminFileFor(stateFile));
  const logFile = path.join(paths.logs, "router-prod.log");
  // tsx registers the TypeScript loader in the router process (the CLI itself runs through it too)
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const record: RouterProcessRecord = await startService({
    recordFile: paths.routerService,
    stateDir: paths.stateDir,
    service: "router-prod",
    port,
    command: process.execPath,
    args: ["--import", tsx, ROUTER_MAIN, stateFile],
    cwd: paths.repoRoot,
    env: { ...process.env },
    logFile,
    extra: { url, stateFile },
  });
  try {
    await waitForHttp({
      url,
      probe: answers,
      what: `prod's router on 127.0.0.1:${port}`,
      timeoutMs: 30_000,
      pid: record.pid,
      logFile,
      progress: o.progress,
    });
  } catch (e) {
    await stopService(record, stateFile);
    throw e;
  }
  return { record, client, started: true };
}

/** Stops the router if it runs; one line, or undefined when it was not running. */
export async function stopRouter(paths: LocalPaths): Promise<string | undefined> {
  const rec = await readRouterRecord(paths);
  if (!routerRunning(rec)) return undefined;
  await stopService(rec, rec.stateFile);
  return `stopped prod's router (pid ${rec.pid}, port ${rec.port})`;
}
