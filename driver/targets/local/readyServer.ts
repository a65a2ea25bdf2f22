/**
 * Starting an inference server and waiting until it can serve: GET / answers 200 and a POST /score with the
 * smoke payload answers 200. A server that does not get there is stopped, so nothing half-started is left.
 * `serverStarter` binds what INT and PROD's slots share (ml/score.py, the smoke request, the timeout), so both
 * start their servers through one call.
 */
import { DeploymentError, EnvironmentError } from "../../core/errors.js";
import type { Progress } from "../../core/ports.js";
import type { StackName } from "../../core/release.js";
import { waitForHttp } from "../../host/httpProbe.js";
import { startInferenceServer, stopInferenceServer, type InferenceServerProcess } from "./inferenceServer.js";
import type { LocalPaths } from "./localPaths.js";
import path from "node:path";
import type { PythonEnv } from "../../host/pythonEnv.js";
import type { ServiceProcessRecord } from "../../host/serviceProcess.js";
import { postScore, readSmokeRequest } from "../../host/smokeRequest.js";
import type { CollectionConfig } from "../../config/monitorConfig.js";

export interface ReadyServerOptions<X extends object = object> {
  paths: LocalPaths;
  env: PythonEnv;
  stack: StackName;
  /** what to call it in progress and errors: "int", "prod (green)" */
  label: string;
  /** log file name part: inference-<logName>.log */
  logName: string;
  entryScript: string;
  modelDir: string;
  port: number;
  smokeRequest: string;
  readyTimeoutMs: number;
  /** scoring.maxRequestBytes, passed to score.py (MLOPS_MAX_REQUEST_BYTES) */
  maxRequestBytes?: number;
  progress: Progress;
  /** The service's name and record file: the record (with `extra`) is written before the server is spawned, so a
   * crash while it starts leaves a server the next deploy, the port guard and `mlops down` know as ours. */
  service: string;
  recordFile: string;
  extra: X;
  /** what score.py records of each request (mlops.yaml monitor.collection) */
  collection?: CollectionConfig;
}

/** One server to start: where, with which model, under which names and record. */
export type ServerToStart<X extends object = object> = Pick<
  ReadyServerOptions<X>,
  "env" | "stack" | "label" | "logName" | "modelDir" | "port" | "progress" | "service" | "recordFile" | "extra"
>;
export type StartServer = <X extends object>(o: ServerToStart<X>) => Promise<ReadyServer<X>>;
export type ReadyServer<X extends object> = InferenceServerProcess & { record: ServiceProcessRecord & X };

/** The scoring script every stack of the local target serves. */
export const entryScriptOf = (paths: LocalPaths): string => path.join(paths.repoRoot, "ml", "score.py");

/** startReadyServer with what every stack shares bound once. */
export function serverStarter(shared: {
  paths: LocalPaths;
  smokeRequest: string;
  readyTimeoutMs?: number;
  maxRequestBytes?: number;
  collection?: CollectionConfig;
}): StartServer {
  return <X extends object>(o: ServerToStart<X>) =>
    startReadyServer({
      ...o,
      ...(shared.collection ? { collection: shared.collection } : {}),
      paths: shared.paths,
      entryScript: entryScriptOf(shared.paths),
      smokeRequest: shared.smokeRequest,
      readyTimeoutMs: shared.readyTimeoutMs ?? 120_000,
      ...(shared.maxRequestBytes ? { maxRequestBytes: shared.maxRequestBytes } : {}),
    });
}

export async function startReadyServer<X extends object>(o: ReadyServerOptions<X>): Promise<ReadyServer<X>> {
  const proc = await startInferenceServer({
    paths: o.paths,
    env: o.env,
    stack: o.stack,
    entryScript: o.entryScript,
    modelDir: o.modelDir,
    port: o.port,
    logName: o.logName,
    ...(o.maxRequestBytes ? { maxRequestBytes: o.maxRequestBytes } : {}),
    service: o.service,
    recordFile: o.recordFile,
    extra: o.extra,
    ...(o.collection ? { collection: o.collection } : {}),
  });
  try {
    await waitForHttp({
      url: proc.healthUri,
      what: `${o.label}'s inference server on 127.0.0.1:${o.port}`,
      timeoutMs: o.readyTimeoutMs,
      pid: proc.pid,
      logFile: proc.logFile,
      progress: o.progress,
    });
    const smoke = await readSmokeRequest(o.paths.repoRoot, o.smokeRequest);
    const r = await postScore(proc.scoringUri, smoke.payload);
    if (r.status !== 200) {
      throw new DeploymentError(
        `${o.label}'s inference server answers ${r.status} to the smoke request: ${JSON.stringify(r.body).slice(0, 160)}; see ${proc.logFile}`,
      );
    }
    return proc;
  } catch (e) {
    await stopInferenceServer(proc);
    if (e instanceof EnvironmentError) throw new DeploymentError(e.message);
    throw e;
  }
}
