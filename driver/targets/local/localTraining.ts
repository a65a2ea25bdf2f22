/**
 * Training on this machine: ml/pipeline.py in the local virtualenv, logging to the local MLflow tracking
 * server. A finished run tagged with the same code, data and environment digests is reused instead. A tracking
 * server that goes down fails the step within seconds (one line); a training interrupted by a crash is cleaned up
 * (its process stopped, its RUNNING run marked FAILED) by the next one.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { DataError, TrainingError } from "../../core/errors.js";
import type { Progress, TrainingPort } from "../../core/ports.js";
import type { SourceFingerprint, TrainingResult } from "../../core/release.js";
import type { MlflowClient } from "../../mlflow/mlflowClient.js";
import { tagRecord } from "../../mlflow/types.js";
import { TAG, reusableRunFilter, runTags } from "./fingerprintTags.js";
import type { LocalPaths } from "./localPaths.js";
import type { PythonEnv } from "../../host/pythonEnv.js";
import { readRunJson } from "./runJson.js";
import { SERVICE_ENV, serviceId, stopServiceProcesses } from "../../host/serviceProcess.js";

const TRAINING_SERVICE = "training";

export interface LocalTrainingDeps {
  paths: LocalPaths;
  experimentName: string;
  pythonEnv: () => Promise<PythonEnv>;
  /** the client of a running tracking server (starts it on first use) */
  mlflow: () => Promise<MlflowClient>;
}

/**
 * The MLflow client's retry settings for the training process. Its defaults (7 retries, backoff factor 2, 120 s a
 * request: mlflow/environment_variables.py) keep a run whose tracking server went down retrying for about 8
 * minutes; with these a refused connection fails in a few seconds and a hung server in about 30.
 */
export const TRACKING_CLIENT_ENV: Readonly<Record<string, string>> = {
  MLFLOW_HTTP_REQUEST_MAX_RETRIES: "2",
  MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: "1",
  MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: "0.5",
  MLFLOW_HTTP_REQUEST_TIMEOUT: "10",
};

/** How often training checks the tracking server's /health, and after how many misses in a row it stops. */
const WATCH_MS = 5_000;
const WATCH_MISSES = 2;

export const trackingServerDown = (url: string): TrainingError =>
  new TrainingError(
    `the MLflow tracking server at ${url} is down (it stopped answering /health during training); ml/pipeline.py was stopped: 'mlops resume' starts the server again and retrains`,
  );

const runUrl = (base: string, experimentId: string, runId: string) => `${base}/#/experiments/${experimentId}/runs/${runId}`;

export class LocalTraining implements TrainingPort {
  constructor(private readonly d: LocalTrainingDeps) {}

  async findReusable(source: SourceFingerprint): Promise<TrainingResult | undefined> {
    const client = await this.d.mlflow();
    const exp = await client.getExperimentByName(this.d.experimentName);
    if (!exp) return undefined;
    const runs = await client.searchRuns({
      experimentIds: [exp.experiment_id],
      filter: reusableRunFilter(source),
      orderBy: ["attributes.start_time DESC"],
      maxResults: 20,
    });
    for (const run of runs) {
      const tags = tagRecord(run.data.tags);
      const sha = tags[TAG.modelSha256];
      if (!sha || !tags[TAG.metrics]) continue;
      let metrics: Record<string, number>;
      try {
        metrics = JSON.parse(tags[TAG.metrics]!) as Record<string, number>;
      } catch {
        continue;
      }
      const files = await client.listRunArtifacts(run.info.run_id, "model").catch(() => []);
      if (!files.some((f) => f.path === "model/model.pkl" && !f.is_dir)) continue; // artifact gone: not reusable
      return {
        runId: run.info.run_id,
        metrics,
        modelSha256: sha,
        artifactUri: `runs:/${run.info.run_id}/model`,
        reused: true,
        runUrl: runUrl(client.baseUrl, run.info.experiment_id, run.info.run_id),
      };
    }
    return undefined;
  }

  /**
   * What a crash during training left behind: a pipeline.py still running (its CLI was killed) is stopped, and the
   * runs still RUNNING in the experiment (a release holds the lock, so no other training is under way) are marked
   * FAILED, so MLflow does not show them as in progress forever and nothing reuses them.
   */
  private async cleanUpInterruptedTraining(client: MlflowClient, progress: Progress): Promise<void> {
    const stopped = await stopServiceProcesses(this.d.paths.stateDir, TRAINING_SERVICE);
    if (stopped.length) progress.info(`stopped ml/pipeline.py (pid ${stopped.join(", ")}) left running by an interrupted release`);
    const exp = await client.getExperimentByName(this.d.experimentName);
    if (!exp) return;
    const running = await client.searchRuns({ experimentIds: [exp.experiment_id], filter: "attributes.status = 'RUNNING'" });
    for (const run of running) {
      await client.updateRun(run.info.run_id, "FAILED");
      progress.info(`marked run ${run.info.run_id} FAILED: it was left RUNNING by an interrupted training`);
    }
  }

  async train(source: SourceFingerprint, progress: Progress): Promise<TrainingResult> {
    const client = await this.d.mlflow();
    if (!(await client.healthy())) throw trackingServerDown(client.baseUrl);
    await this.cleanUpInterruptedTraining(client, progress);
    const env = await this.d.pythonEnv();
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
    const out = path.join(this.d.paths.runs, stamp);
    await mkdir(out, { recursive: true });
    const { repoRoot } = this.d.paths;
    progress.info(`running ml/pipeline.py (output in ${path.relative(repoRoot, out)})`);
    const proc = execa(env.python, [path.join("ml", "pipeline.py"), "--data", path.join("ml", "data.txt"), "--out", out], {
      cwd: repoRoot,
      reject: false,
      stdin: "ignore",
      env: {
        ...TRACKING_CLIENT_ENV,
        MLFLOW_TRACKING_URI: client.baseUrl,
        MLFLOW_EXPERIMENT_NAME: this.d.experimentName,
        PYTHONDONTWRITEBYTECODE: "1",
        PYTHONUNBUFFERED: "1",
        // marks it as this repository's training, so a later release finds it if this CLI dies first
        [SERVICE_ENV]: serviceId(this.d.paths.stateDir, TRAINING_SERVICE),
      },
    });
    // the tracking server going away fails the step within seconds, whatever the pipeline is doing
    let down = false;
    let misses = 0;
    const watch = setInterval(() => {
      void client.healthy().then((ok) => {
        misses = ok ? 0 : misses + 1;
        if (misses >= WATCH_MISSES && !down) {
          down = true;
          proc.kill("SIGTERM");
        }
      });
    }, WATCH_MS);
    const stderr: string[] = [];
    try {
      for await (const line of proc.iterable({ from: "stderr" })) {
        const text = String(line).trimEnd();
        if (!text) continue;
        stderr.push(text);
        if (/^\[\s*[\d.]+s\]/.test(text)) progress.info(`pipeline ${text}`);
      }
    } catch {
      /* the process was stopped: its result below says how */
    }
    const r = await proc;
    clearInterval(watch);
    await writeFile(path.join(out, "pipeline.log"), `${stderr.join("\n")}\n`);
    if (down || (r.exitCode !== 0 && !(await client.healthy()))) throw trackingServerDown(client.baseUrl);
    const last = (stderr.at(-1) ?? "").slice(0, 400);
    if (r.exitCode === 2) throw new DataError(`${last || "ml/data.txt is invalid"}; fix the data and start a new release`);
    if (r.exitCode !== 0) {
      throw new TrainingError(
        `ml/pipeline.py failed (exit ${r.exitCode ?? r.signal}): ${last || "no message"}; log: ${path.relative(repoRoot, path.join(out, "pipeline.log"))}`,
      );
    }
    const result = await readRunJson(path.join(out, "run.json"));
    for (const [k, v] of runTags(source, result.model_sha256, result.metrics)) await client.setRunTag(result.run_id, k, v);
    return {
      runId: result.run_id,
      metrics: result.metrics,
      modelSha256: result.model_sha256,
      artifactUri: `runs:/${result.run_id}/${result.artifact_path}`,
      reused: false,
      runUrl: runUrl(client.baseUrl, result.experiment_id, result.run_id),
    };
  }
}
