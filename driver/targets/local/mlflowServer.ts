/**
 * The MLflow tracking server + model registry of the local target: `mlflow server` on 127.0.0.1 with a SQLite
 * store and proxied artifacts under .mlops/mlflow/, started detached so it outlives the CLI (one worker, the
 * background job runner off, to save memory). Recorded in .mlops/services/mlflow.json and reused while it
 * is alive and healthy.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { EnvironmentError } from "../../core/errors.js";
import type { Progress } from "../../core/ports.js";
import { acquireFileLock } from "../../host/fileLock.js";
import { httpOk, waitForHttp } from "../../host/httpProbe.js";
import { readJsonFile, removeFile, writeJsonAtomic } from "../../host/jsonFile.js";
import type { LocalPaths } from "./localPaths.js";
import { isPortFree } from "../../host/portProbe.js";
import { isOurProcess, spawnDetached, stopProcessGroup } from "../../host/processes.js";
import type { PythonEnv } from "../../host/pythonEnv.js";

export interface MlflowServiceRecord {
  pid: number;
  port: number;
  url: string;
  startedAt: string;
  logFile: string;
}

export const MLFLOW_MARKER = "mlflow";
const HOST = "127.0.0.1";

const mlflowPortInUse = (port: number) =>
  new EnvironmentError(`port ${port} (mlflow) is in use by another process; stop it or set local.ports.mlflow in mlops.yaml`);

export const mlflowUrl = (port: number) => `http://${HOST}:${port}`;

/** The arguments of `mlflow server` (see docs/local-target.md for why each is there). */
export function mlflowServerArgs(paths: LocalPaths, port: number): string[] {
  return [
    "server",
    "--backend-store-uri",
    `sqlite:///${paths.mlflowDb}`,
    "--artifacts-destination",
    paths.mlflowArtifacts,
    "--host",
    HOST,
    "--port",
    String(port),
    "--workers",
    "1",
  ];
}

export async function readMlflowRecord(paths: LocalPaths): Promise<MlflowServiceRecord | undefined> {
  return readJsonFile<MlflowServiceRecord>(paths.mlflowService);
}

/** The running server from the record, if its process is ours and it answers /health. */
export async function runningMlflow(paths: LocalPaths, port: number): Promise<MlflowServiceRecord | undefined> {
  const rec = await readMlflowRecord(paths);
  if (!rec || rec.port !== port || !isOurProcess(rec.pid, MLFLOW_MARKER)) return undefined;
  return (await httpOk(`${rec.url}/health`)) ? rec : undefined;
}

export interface EnsureMlflowOptions {
  paths: LocalPaths;
  port: number;
  pythonEnv: () => Promise<PythonEnv>;
  progress: Progress;
  startTimeoutMs?: number;
}

/** The tracking server's URL, starting the server if it is not running. */
export async function ensureMlflowServer(o: EnsureMlflowOptions): Promise<MlflowServiceRecord> {
  const up = await runningMlflow(o.paths, o.port);
  if (up) return up;
  const recorded = await readMlflowRecord(o.paths);
  const ours = !!recorded && recorded.port === o.port && isOurProcess(recorded.pid, MLFLOW_MARKER);
  if (!ours && !(await isPortFree(o.port))) throw mlflowPortInUse(o.port); // fail fast, before building anything
  const env = await o.pythonEnv();
  const lock = await acquireFileLock(path.join(o.paths.services, "mlflow.lock"), {
    what: "starting the MLflow tracking server",
    timeoutMs: 5 * 60_000,
    onWait: (pid) => o.progress.info(`waiting for process ${pid}, which is starting the MLflow tracking server`),
  });
  try {
    const again = await runningMlflow(o.paths, o.port);
    if (again) return again;
    // a recorded server that is ours but unhealthy, or on another port (config changed): replace it
    const old = await readMlflowRecord(o.paths);
    if (old && isOurProcess(old.pid, MLFLOW_MARKER)) {
      o.progress.info(`stopping the MLflow tracking server (pid ${old.pid}) that ${old.port === o.port ? "does not answer" : `listens on ${old.port}`}`);
      await stopProcessGroup(old.pid);
    }
    await removeFile(o.paths.mlflowService);
    if (!(await isPortFree(o.port))) {
      throw mlflowPortInUse(o.port);
    }
    await mkdir(o.paths.mlflowArtifacts, { recursive: true });
    const logFile = path.join(o.paths.logs, "mlflow.log");
    const proc = spawnDetached(env.bin("mlflow"), mlflowServerArgs(o.paths, o.port), {
      cwd: o.paths.mlflowDir,
      env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false", PYTHONUNBUFFERED: "1" },
      logFile,
    });
    const rec: MlflowServiceRecord = { pid: proc.pid, port: o.port, url: mlflowUrl(o.port), startedAt: new Date().toISOString(), logFile };
    await writeJsonAtomic(o.paths.mlflowService, rec);
    const ms = await waitForHttp({
      url: `${rec.url}/health`,
      what: `the MLflow tracking server on ${HOST}:${o.port}`,
      hint: "the first start creates its database and takes up to a minute",
      timeoutMs: o.startTimeoutMs ?? 240_000,
      pid: proc.pid,
      logFile,
      progress: o.progress,
    });
    o.progress.info(`MLflow tracking server ready on ${rec.url} in ${(ms / 1000).toFixed(1)}s (pid ${proc.pid})`);
    return rec;
  } catch (e) {
    const rec = await readMlflowRecord(o.paths);
    if (rec && isOurProcess(rec.pid, MLFLOW_MARKER) && !(await httpOk(`${rec.url}/health`))) {
      await stopProcessGroup(rec.pid);
      await removeFile(o.paths.mlflowService);
    }
    throw e;
  } finally {
    await lock.release();
  }
}

/** Stops the recorded tracking server; returns what it did (one line), or undefined if nothing ran. */
export async function stopMlflowServer(paths: LocalPaths): Promise<string | undefined> {
  const rec = await readMlflowRecord(paths);
  if (!rec) return undefined;
  await removeFile(paths.mlflowService);
  if (!isOurProcess(rec.pid, MLFLOW_MARKER)) return undefined;
  await stopProcessGroup(rec.pid);
  return `stopped the MLflow tracking server (pid ${rec.pid}, port ${rec.port})`;
}
