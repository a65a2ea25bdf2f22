/**
 * One Azure ML inference server (azmlinfsrv 1.x) per stack, serving ml/score.py with the model directory in
 * AZUREML_MODEL_DIR, detached, logging to .mlops/logs/inference-<stack>.log, recorded before it is spawned
 * (host/serviceProcess.ts).
 *
 * azmlinfsrv has no host option: it always binds gunicorn to 0.0.0.0. To keep the server on loopback we start
 * the real azmlinfsrv entry point (azureml_inference_server_http.amlserver.run) through a two-line launcher
 * that sets its bind host to 127.0.0.1 first; every flag is still azmlinfsrv's own:
 *   --entry_script <ml/score.py> --model_dir <dir> --port <port> --worker_count 1
 * Liveness/readiness: GET / answers 200 "Healthy" once the worker has run init(); scoring: POST /score.
 */
import path from "node:path";
import type { StackName } from "../../core/release.js";
import type { LocalPaths } from "./localPaths.js";
import { serviceRunning, startService, stopService, type ProcessRef, type ServiceProcessRecord } from "../../host/serviceProcess.js";
import type { PythonEnv } from "../../host/pythonEnv.js";
import type { CollectionConfig } from "../../config/monitorConfig.js";
import { collectionEnv } from "../../monitor/collectionEnv.js";

export const INFERENCE_MARKER = "azureml_inference_server_http";
export const LOOPBACK_LAUNCHER =
  "import sys; from azureml_inference_server_http import amlserver; amlserver.DEFAULT_HOST = '127.0.0.1'; sys.exit(amlserver.run())";

export interface InferenceServerProcess {
  pid: number;
  /** its process group and start token (serviceProcess.ts): what stops and checks it as a whole */
  pgid: number;
  token: string;
  port: number;
  logFile: string;
  scoringUri: string;
  healthUri: string;
}

export const scoringUri = (port: number) => `http://127.0.0.1:${port}/score`;
export const healthUri = (port: number) => `http://127.0.0.1:${port}/`;

export function inferenceServerArgs(entryScript: string, modelDir: string, port: number): string[] {
  return ["-c", LOOPBACK_LAUNCHER, "--entry_script", entryScript, "--model_dir", modelDir, "--port", String(port), "--worker_count", "1"];
}

/** Records (in `recordFile`, before anything is spawned), then starts, one inference server. */
export async function startInferenceServer<X extends object>(o: {
  paths: LocalPaths;
  env: PythonEnv;
  stack: StackName;
  entryScript: string;
  modelDir: string;
  port: number;
  /** names the log file: inference-<logName>.log (default: the stack) */
  logName?: string;
  /** scoring.maxRequestBytes: score.py answers 413 above it (MLOPS_MAX_REQUEST_BYTES) */
  maxRequestBytes?: number;
  /** the service's name and record file ("inference-int", .mlops/services/inference-int.json) */
  service: string;
  recordFile: string;
  /** what the caller keeps in the same record */
  extra: X;
  /** what score.py records of each request (mlops.yaml monitor.collection); off when absent */
  collection?: CollectionConfig;
}): Promise<InferenceServerProcess & { record: ServiceProcessRecord & X }> {
  const logFile = path.join(o.paths.logs, `inference-${o.logName ?? o.stack}.log`);
  const env: NodeJS.ProcessEnv = { ...process.env, AZUREML_MODEL_DIR: o.modelDir, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" };
  // a separate health listener would need a second port (default 5000) per stack: keep health on the main port
  delete env.SEPERATE_HEALTH_ENDPOINT;
  delete env.AML_APP_ROOT;
  // the local sink, never Azure's collector settings from the caller's shell
  for (const k of Object.keys(env)) if (k.startsWith("AZUREML_MDC_") || k.startsWith("MLOPS_COLLECT_")) delete env[k];
  const logName = o.logName ?? o.stack;
  Object.assign(
    env,
    collectionEnv({ stateDir: o.paths.stateDir, stack: o.stack, logName, modelDir: o.modelDir, ...(o.collection ? { collection: o.collection } : {}) }),
  );
  if (o.maxRequestBytes) env.MLOPS_MAX_REQUEST_BYTES = String(o.maxRequestBytes);
  const record = await startService({
    recordFile: o.recordFile,
    stateDir: o.paths.stateDir,
    service: o.service,
    port: o.port,
    command: o.env.python,
    args: inferenceServerArgs(o.entryScript, o.modelDir, o.port),
    cwd: path.dirname(o.entryScript),
    env,
    logFile,
    extra: o.extra,
  });
  return {
    pid: record.pid,
    pgid: record.pgid,
    token: record.token,
    port: o.port,
    logFile,
    scoringUri: scoringUri(o.port),
    healthUri: healthUri(o.port),
    record,
  };
}

/** Whether any process of an inference server we started runs (its whole group: launcher and gunicorn worker). */
export const inferenceRunning = (ref: ProcessRef | undefined): boolean => serviceRunning(ref, INFERENCE_MARKER);

/** Stops an inference server we started, whole process group (never a foreign process that reused the pid). */
export async function stopInferenceServer(ref: ProcessRef | number | undefined): Promise<boolean> {
  if (!ref) return false;
  return stopService(typeof ref === "number" ? { pid: ref } : ref, INFERENCE_MARKER);
}
