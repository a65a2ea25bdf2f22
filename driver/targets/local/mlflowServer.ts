/**
 * The MLflow tracking server + model registry of the local target: `mlflow server` on 127.0.0.1 with a SQLite
 * store and proxied artifacts under .mlops/mlflow/, started detached so it outlives the CLI (one worker, the
 * background job runner off, to save memory). Recorded in .mlops/services/mlflow.json before it is spawned
 * (host/serviceProcess.ts) and reused while it is alive and healthy; stopped as a whole process group (its
 * uvicorn worker outlives a killed `mlflow server` leader).
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Progress } from "../../core/ports.js";
import { EnvironmentError } from "../../core/errors.js";
import { acquireFileLock } from "../../host/fileLock.js";
import { httpOk, waitForHttp } from "../../host/httpProbe.js";
import { readJsonFile, removeFile } from "../../host/jsonFile.js";
import type { LocalPaths } from "./localPaths.js";
import { claimPort, portHolder, portInUse, serviceRunning, startService, stopService, type ProcessRef } from "../../host/serviceProcess.js";
import type { PythonEnv } from "../../host/pythonEnv.js";

/** .mlops/services/mlflow.json: written before the server is spawned (pid 0 until it is), see serviceProcess.ts. */
export interface MlflowServiceRecord extends ProcessRef {
  port: number;
  url: string;
  startedAt: string;
  logFile: string;
}

export const MLFLOW_MARKER = "mlflow";
const HOST = "127.0.0.1";

const mlflowPortInUse = (port: number) => portInUse(port, "mlflow");

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

/** Whether any process of the recorded server runs (its leader, or a child that outlived it). */
export const mlflowRunning = (rec: MlflowServiceRecord | undefined): boolean => serviceRunning(rec, MLFLOW_MARKER);

/** The running server from the record, if its processes are ours and it answers /health (adopted even when its
 * leader died and its worker still serves). */
export async function runningMlflow(paths: LocalPaths, port: number): Promise<MlflowServiceRecord | undefined> {
  const rec = await readMlflowRecord(paths);
  if (!rec || rec.port !== port || !mlflowRunning(rec)) return undefined;
  return (await httpOk(`${rec.url}/health`)) ? rec : undefined;
}

export interface EnsureMlflowOptions {
  paths: LocalPaths;
  port: number;
  pythonEnv: () => Promise<PythonEnv>;
  progress: Progress;
  startTimeoutMs?: number;
  /** stops waiting for a start (the CLI is done): the server goes on starting and the next command adopts it */
  signal?: AbortSignal;
}

/** The tracking server's URL, starting the server if it is not running. */
export async function ensureMlflowServer(o: EnsureMlflowOptions): Promise<MlflowServiceRecord> {
  const up = await runningMlflow(o.paths, o.port);
  if (up) return up;
  const recorded = await readMlflowRecord(o.paths);
  const ours = !!recorded && recorded.port === o.port && mlflowRunning(recorded);
  if (!ours && (await portHolder(o.port, o.paths.stateDir)).kind === "stranger") throw mlflowPortInUse(o.port); // fail fast, before building anything
  const env = await o.pythonEnv();
  const lock = await acquireFileLock(path.join(o.paths.services, "mlflow.lock"), {
    what: "starting the MLflow tracking server",
    timeoutMs: 5 * 60_000,
    onWait: (pid) => o.progress.info(`waiting for process ${pid}, which is starting the MLflow tracking server`),
  });
  try {
    const again = await runningMlflow(o.paths, o.port);
    if (again) return again;
    const timeoutMs = o.startTimeoutMs ?? 240_000;
    const what = `the MLflow tracking server on ${HOST}:${o.port}`;
    // a start still under way (a CLI that stopped waiting for it, or was killed): wait for it instead of killing it
    const starting = await readMlflowRecord(o.paths);
    if (starting && starting.port === o.port && mlflowRunning(starting) && Date.now() - Date.parse(starting.startedAt) < timeoutMs) {
      const adopted = await waitForHttp({
        url: `${starting.url}/health`,
        what,
        timeoutMs: Math.max(1_000, timeoutMs - (Date.now() - Date.parse(starting.startedAt))),
        pid: starting.pid,
        logFile: starting.logFile,
        progress: o.progress,
        ...(o.signal ? { signal: o.signal } : {}),
      }).then(
        () => true,
        () => false,
      );
      if (o.signal?.aborted) throw new EnvironmentError(`stopped waiting for ${what}`);
      if (adopted) return starting;
    }
    // a recorded server that is ours but unhealthy, or on another port (config changed), or half-started: replace it
    const old = await readMlflowRecord(o.paths);
    if (old && mlflowRunning(old)) {
      o.progress.info(
        `stopping the MLflow tracking server (pid ${old.pid || "not yet recorded"}) that ${old.port === o.port ? "does not answer" : `listens on ${old.port}`}`,
      );
      await stopService(old, MLFLOW_MARKER);
    }
    await removeFile(o.paths.mlflowService);
    await claimPort({ port: o.port, key: "mlflow", stateDir: o.paths.stateDir, progress: o.progress });
    await mkdir(o.paths.mlflowArtifacts, { recursive: true });
    const logFile = path.join(o.paths.logs, "mlflow.log");
    const rec: MlflowServiceRecord = await startService({
      recordFile: o.paths.mlflowService,
      stateDir: o.paths.stateDir,
      service: "mlflow",
      port: o.port,
      command: env.bin("mlflow"),
      args: mlflowServerArgs(o.paths, o.port),
      cwd: o.paths.mlflowDir,
      env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false", PYTHONUNBUFFERED: "1" },
      logFile,
      extra: { url: mlflowUrl(o.port) },
    });
    const ms = await waitForHttp({
      url: `${rec.url}/health`,
      what,
      hint: "the first start creates its database and takes up to a minute",
      timeoutMs,
      pid: rec.pid,
      logFile,
      progress: o.progress,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    o.progress.info(`MLflow tracking server ready on ${rec.url} in ${(ms / 1000).toFixed(1)}s (pid ${rec.pid})`);
    return rec;
  } catch (e) {
    const rec = await readMlflowRecord(o.paths);
    if (!o.signal?.aborted && rec && mlflowRunning(rec) && !(await httpOk(`${rec.url}/health`))) {
      await stopService(rec, MLFLOW_MARKER);
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
  const stopped = await stopService(rec, MLFLOW_MARKER);
  await removeFile(paths.mlflowService);
  if (!stopped) return undefined;
  return `stopped the MLflow tracking server (pid ${rec.pid}, port ${rec.port})`;
}
