/**
 * Training on this machine: ml/pipeline.py in the local virtualenv, logging to the local MLflow tracking
 * server. A finished run tagged with the same code, data and environment digests is reused instead.
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

export interface LocalTrainingDeps {
  paths: LocalPaths;
  experimentName: string;
  pythonEnv: () => Promise<PythonEnv>;
  /** the client of a running tracking server (starts it on first use) */
  mlflow: () => Promise<MlflowClient>;
}

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

  async train(source: SourceFingerprint, progress: Progress): Promise<TrainingResult> {
    const client = await this.d.mlflow();
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
        MLFLOW_TRACKING_URI: client.baseUrl,
        MLFLOW_EXPERIMENT_NAME: this.d.experimentName,
        PYTHONDONTWRITEBYTECODE: "1",
        PYTHONUNBUFFERED: "1",
      },
    });
    const stderr: string[] = [];
    for await (const line of proc.iterable({ from: "stderr" })) {
      const text = String(line).trimEnd();
      if (!text) continue;
      stderr.push(text);
      if (/^\[\s*[\d.]+s\]/.test(text)) progress.info(`pipeline ${text}`);
    }
    const r = await proc;
    await writeFile(path.join(out, "pipeline.log"), `${stderr.join("\n")}\n`);
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
