/**
 * The background services of the local target on this machine, for `mlops status` and `mlops down`.
 * Reading status never starts anything; stopping is idempotent and only touches processes we recorded.
 */
import type { ReleaseConfig } from "../../config/releaseConfig.js";
import { STACKS, type StackName } from "../../core/release.js";
import { httpOk } from "../../host/httpProbe.js";
import { healthUri, INFERENCE_MARKER, inferenceRunning, scoringUri, stopInferenceServer } from "./inferenceServer.js";
import { writeJsonAtomic } from "../../host/jsonFile.js";
import { readDeployment } from "./localDeployment.js";
import { localPaths, type LocalPaths } from "./localPaths.js";
import { mlflowRunning, readMlflowRecord, stopMlflowServer } from "./mlflowServer.js";
import { stopLeftoverServices, stopRecordedService } from "../../host/serviceProcess.js";
import { readSlotServer, SLOTS, slotRunning } from "./prodSlots.js";
import { readRouterRecord, routerClientOf, routerRunning, stopRouter } from "./routerProcess.js";

export interface LocalServiceStatus {
  /** "mlflow", "inference-int", "router-prod", "inference-prod-blue", "inference-prod-green" */
  name: string;
  url?: string;
  pid?: number;
  port: number;
  running: boolean;
  healthy: boolean;
  detail: string;
  logFile?: string;
}

export async function localServicesStatus(repoRoot: string, config: ReleaseConfig, paths: LocalPaths = localPaths(repoRoot)): Promise<LocalServiceStatus[]> {
  const out: LocalServiceStatus[] = [];
  const m = await readMlflowRecord(paths);
  const mRunning = mlflowRunning(m);
  const mHealthy = mRunning && (await httpOk(`${m!.url}/health`));
  out.push({
    name: "mlflow",
    port: m?.port ?? config.local.ports.mlflow,
    ...(m ? { url: m.url, pid: m.pid, logFile: m.logFile } : {}),
    running: mRunning,
    healthy: mHealthy,
    detail: mHealthy
      ? `tracking server and registry at ${m!.url}`
      : mRunning
        ? `pid ${m!.pid} does not answer /health`
        : "not running (starts when a release needs it)",
  });
  out.push(...(await intServiceStatus(config, paths)), ...(await prodServicesStatus(config, paths)));
  return out;
}

async function intServiceStatus(config: ReleaseConfig, paths: LocalPaths): Promise<LocalServiceStatus[]> {
  const out: LocalServiceStatus[] = [];
  for (const stack of ["int"] as const) {
    const d = await readDeployment(paths, stack);
    const running = inferenceRunning(d);
    const healthy = running && (await httpOk(`http://127.0.0.1:${d!.port}/`));
    out.push({
      name: `inference-${stack}`,
      port: d?.port ?? config.local.ports[stack],
      ...(d ? { url: d.scoringUri, pid: d.pid, logFile: d.logFile } : {}),
      running,
      healthy,
      detail: !d
        ? "nothing deployed"
        : healthy
          ? `serving ${d.modelName} v${d.modelVersion}`
          : running
            ? `pid ${d.pid} does not answer health`
            : `v${d.modelVersion} deployed, server stopped`,
    });
  }
  return out;
}

/**
 * Stops every inference server (PROD: its router and both slots) and the tracking server, each as a whole process
 * group, then any other process of this repository's services still running (a start recorded by a run that
 * crashed before its record was complete, a leader's orphaned child); one line per service stopped.
 */
export async function stopLocalServices(repoRoot: string, paths: LocalPaths = localPaths(repoRoot)): Promise<string[]> {
  const lines: string[] = [];
  for (const stack of STACKS as readonly StackName[]) {
    const d = await readDeployment(paths, stack);
    if (stack === "prod") lines.push(...(await stopProdServices(paths)));
    if (d && (await stopInferenceServer(d))) lines.push(`stopped ${stack}'s inference server (pid ${d.pid}, port ${d.port}, v${d.modelVersion})`);
    // a server started by a deploy that did not get to record it in deployment.json
    if (stack !== "prod" && (await stopRecordedService(paths.serverFile(stack), INFERENCE_MARKER)))
      lines.push(`stopped ${stack}'s inference server left by an interrupted deploy`);
    // keep the record (what is deployed) but forget the process
    if (d && d.pid !== 0) await writeJsonAtomic(paths.deploymentFile(stack), { ...d, pid: 0 });
  }
  const m = await stopMlflowServer(paths);
  if (m) lines.push(m);
  lines.push(...(await stopLeftoverServices(paths.stateDir)));
  return lines;
}

/** PROD's background processes (the router, the blue and green slots). */
async function prodServicesStatus(config: ReleaseConfig, paths: LocalPaths): Promise<LocalServiceStatus[]> {
  const ports = config.local.ports;
  const router = await readRouterRecord(paths);
  const running = routerRunning(router);
  const weights = running
    ? await routerClientOf(router, 3_000)
        .state()
        .then(
          (s) => s.weights,
          () => undefined,
        )
    : undefined;
  const out: LocalServiceStatus[] = [
    {
      name: "router-prod",
      port: router?.port ?? ports.prod,
      ...(router ? { url: router.url, pid: router.pid, logFile: router.logFile } : {}),
      running,
      healthy: !!weights,
      detail: weights
        ? `weighted router: ${SLOTS.map((s) => `${s} ${weights[s] ?? 0}%`).join(", ")}`
        : running
          ? `pid ${router.pid} does not answer its admin API`
          : "not running (starts with the first prod deploy)",
    },
  ];
  for (const slot of SLOTS) {
    const srv = await readSlotServer(paths, slot);
    const up = slotRunning(srv);
    const healthy = !!srv && up && (await httpOk(healthUri(srv.port)));
    out.push({
      name: `inference-prod-${slot}`,
      port: srv?.port ?? (slot === "blue" ? ports.prodBlue : ports.prodGreen),
      ...(srv ? { url: scoringUri(srv.port), pid: srv.pid, logFile: srv.logFile } : {}),
      running: up,
      healthy,
      detail: !srv
        ? "idle (no server)"
        : healthy
          ? `v${srv.modelVersion}${weights ? `, ${weights[slot] ?? 0}% of prod's traffic` : ""}`
          : up
            ? `pid ${srv.pid} does not answer health`
            : `v${srv.modelVersion} recorded, server stopped`,
    });
  }
  return out;
}

/** Stops the router and both slots; one line per process stopped. The router's state file (weights) is kept. */
async function stopProdServices(paths: LocalPaths): Promise<string[]> {
  const lines: string[] = [];
  const r = await stopRouter(paths);
  if (r) lines.push(r);
  for (const slot of SLOTS) {
    const srv = await readSlotServer(paths, slot);
    if (srv && (await stopInferenceServer(srv))) lines.push(`stopped prod's ${slot} inference server (pid ${srv.pid}, port ${srv.port}, v${srv.modelVersion})`);
  }
  return lines;
}
