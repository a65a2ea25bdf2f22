/**
 * The background services of the local target on this machine, for `mlops status` and `mlops down`.
 * Reading status never starts anything; stopping is idempotent and only touches processes we recorded.
 */
import type { ReleaseConfig } from "../../config/releaseConfig.js";
import { STACKS, type StackName } from "../../core/release.js";
import { httpOk } from "../../host/httpProbe.js";
import { INFERENCE_MARKER, stopInferenceServer } from "./inferenceServer.js";
import { writeJsonAtomic } from "../../host/jsonFile.js";
import { readDeployment } from "./localEnvironments.js";
import { localPaths, type LocalPaths } from "./localPaths.js";
import { MLFLOW_MARKER, readMlflowRecord, stopMlflowServer } from "./mlflowServer.js";
import { isOurProcess } from "../../host/processes.js";
import { prodServicesStatus, stopProdServices } from "./prodServices.js";

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
  const mRunning = !!m && isOurProcess(m.pid, MLFLOW_MARKER);
  const mHealthy = mRunning && (await httpOk(`${m!.url}/health`));
  out.push({
    name: "mlflow",
    port: m?.port ?? config.local.ports.mlflow,
    ...(m ? { url: m.url, pid: m.pid, logFile: m.logFile } : {}),
    running: mRunning,
    healthy: mHealthy,
    detail: mHealthy ? `tracking server and registry at ${m!.url}` : mRunning ? `pid ${m!.pid} does not answer /health` : "not running (starts when a release needs it)",
  });
  out.push(...(await intServiceStatus(config, paths)), ...(await prodServicesStatus(config, paths)));
  return out;
}

async function intServiceStatus(config: ReleaseConfig, paths: LocalPaths): Promise<LocalServiceStatus[]> {
  const out: LocalServiceStatus[] = [];
  for (const stack of ["int"] as const) {
    const d = await readDeployment(paths, stack);
    const running = !!d && isOurProcess(d.pid, INFERENCE_MARKER);
    const healthy = running && (await httpOk(`http://127.0.0.1:${d!.port}/`));
    out.push({
      name: `inference-${stack}`,
      port: d?.port ?? config.local.ports[stack],
      ...(d ? { url: d.scoringUri, pid: d.pid, logFile: d.logFile } : {}),
      running,
      healthy,
      detail: !d ? "nothing deployed" : healthy ? `serving ${d.modelName} v${d.modelVersion}` : running ? `pid ${d.pid} does not answer health` : `v${d.modelVersion} deployed, server stopped`,
    });
  }
  return out;
}

/** Stops every inference server (PROD: its router and both slots) and the tracking server; one line per service stopped. */
export async function stopLocalServices(repoRoot: string, paths: LocalPaths = localPaths(repoRoot)): Promise<string[]> {
  const lines: string[] = [];
  for (const stack of STACKS as readonly StackName[]) {
    const d = await readDeployment(paths, stack);
    if (stack === "prod") lines.push(...(await stopProdServices(paths)));
    if (!d) continue;
    if (await stopInferenceServer(d.pid)) lines.push(`stopped ${stack}'s inference server (pid ${d.pid}, port ${d.port}, v${d.modelVersion})`);
    // keep the record (what is deployed) but forget the process
    if (d.pid !== 0) await writeJsonAtomic(paths.deploymentFile(stack), { ...d, pid: 0 });
  }
  const m = await stopMlflowServer(paths);
  if (m) lines.push(m);
  return lines;
}
