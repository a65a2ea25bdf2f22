/**
 * Batch scoring on this machine: ml/batch_score.py (score.py's own init()/run(), in chunks) in the project's Python
 * environment, with a registered model version downloaded into .mlops/batch/models/<name>/<version>/ and used only
 * when its model.pkl hashes to the registered digest. The Python process streams the input, writes the output and
 * the rejected rows through temp files renamed when complete, and reports progress as JSON lines on stdout.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { execa } from "execa";
import { DataError, DeploymentError, NotFoundError } from "../../core/errors.js";
import type { BatchProgressEvent, BatchScoreRequest, BatchScoreSummary, BatchScoringPort, Progress } from "../../core/ports.js";
import type { MlflowClient } from "../../mlflow/mlflowClient.js";
import type { LocalPaths } from "./localPaths.js";
import { downloadModelVersion, MODEL_FILE } from "./modelArtifacts.js";
import type { PythonEnv } from "../../host/pythonEnv.js";

export interface LocalBatchScoringDeps {
  paths: LocalPaths;
  pythonEnv: () => Promise<PythonEnv>;
  mlflow: () => Promise<MlflowClient>;
}

export const BATCH_SCRIPT = path.join("ml", "batch_score.py");

async function fileSha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

type PyEvent = ({ event: "progress" } & BatchProgressEvent) | ({ event: "done" } & BatchScoreSummary) | { event: "error"; kind: string; message: string };

export class LocalBatchScoring implements BatchScoringPort {
  constructor(private readonly d: LocalBatchScoringDeps) {}

  /** The version's files, verified by sha256 against the registered digest (downloaded once, re-checked every time). */
  async verifiedModelDir(req: BatchScoreRequest, progress: Progress): Promise<string> {
    const { model } = req;
    const dir = path.join(this.d.paths.stateDir, "batch", "models", model.name, model.version, "model");
    const file = path.join(dir, MODEL_FILE);
    if (existsSync(file) && (await fileSha256(file)) === model.digest) return dir;
    const client = await this.d.mlflow();
    const mv = await client.getModelVersion(model.name, model.version);
    if (!mv) throw new NotFoundError(`${model.name} v${model.version} is not in the local registry; list versions with 'mlops status'`);
    progress.info(`downloading ${model.name} v${model.version} into ${path.relative(this.d.paths.repoRoot, dir)}`);
    const dl = await downloadModelVersion(client, mv, dir, model.digest);
    if (!dl.placed) {
      throw new DeploymentError(
        `${model.name} v${model.version}'s ${MODEL_FILE} hashes to ${dl.modelSha256.slice(0, 12) || "(missing)"}, not the registered ${model.digest.slice(0, 12)}; refusing to score with it`,
      );
    }
    return dir;
  }

  async scoreBatch(req: BatchScoreRequest, onProgress: (e: BatchProgressEvent) => void, progress: Progress): Promise<BatchScoreSummary> {
    const env = await this.d.pythonEnv();
    const modelDir = await this.verifiedModelDir(req, progress);
    const script = path.join(this.d.paths.repoRoot, BATCH_SCRIPT);
    const child = execa(env.python, [script, "--model-dir", modelDir, "--input", req.input, "--output", req.output, "--errors", req.errors], {
      cwd: this.d.paths.repoRoot,
      reject: false,
      stdin: "ignore",
      buffer: { stdout: false, stderr: true },
      env: { PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
    });
    let done: BatchScoreSummary | undefined;
    let failure: string | undefined;
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return;
      let e: PyEvent;
      try {
        e = JSON.parse(line) as PyEvent;
      } catch {
        return;
      }
      if (e.event === "progress") onProgress(e);
      else if (e.event === "done") {
        const { event: _event, ...summary } = e;
        done = summary;
      } else if (e.event === "error") failure = e.message;
    });
    const r = await child;
    if (r.exitCode !== 0) {
      // a killed worker cannot remove its temp files; the output and errors files were never renamed into place
      for (const f of [req.output, req.errors]) await rm(`${f}.partial-${child.pid}`, { force: true });
    }
    if (r.exitCode === 2 && failure) throw new DataError(`${failure}; nothing was written`);
    if (r.exitCode !== 0 || !done) {
      const tail =
        String(r.stderr ?? "")
          .trim()
          .split("\n")
          .slice(-1)[0] ?? "";
      throw new DeploymentError(`${BATCH_SCRIPT} failed (exit ${r.exitCode ?? r.signal}): ${tail.slice(0, 300) || "no message"}; nothing was written`);
    }
    return done;
  }
}
