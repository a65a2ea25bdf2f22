/**
 * The stacks of the local target (int, prod): one azmlinfsrv per stack on its loopback port, serving a
 * registered model version downloaded into .mlops/stacks/<stack>/models/<name>/<version>/model/ and verified
 * by sha256. The deployment is recorded in .mlops/stacks/<stack>/deployment.json.
 *
 * A redeploy stops the old server and starts the new one on the same port (a gap of a few seconds, see
 * docs/local-target.md); if the new one does not become ready, the previous version is started again.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { DeploymentError, EnvironmentError, NotFoundError } from "../../core/errors.js";
import type { EnvironmentsPort, Progress, StackStatus } from "../../core/ports.js";
import type { DeploymentRecord, RegisteredModel, StackName, ValidationResult } from "../../core/release.js";
import type { MlflowClient } from "../../mlflow/mlflowClient.js";
import { codeDigest } from "../../source/fingerprint.js";
import { httpOk, waitForHttp } from "./httpProbe.js";
import { INFERENCE_MARKER, startInferenceServer, stopInferenceServer, type InferenceServerProcess } from "./inferenceServer.js";
import { readJsonFile, writeJsonAtomic } from "./jsonFile.js";
import type { LocalPaths } from "./localPaths.js";
import { downloadModelVersion, MODEL_FILE } from "./modelArtifacts.js";
import { isPortFree, waitPortFree } from "./portProbe.js";
import { isOurProcess } from "./processes.js";
import type { PythonEnv } from "./pythonEnv.js";
import { MALFORMED_PAYLOAD, checkPredictions, postScore, readSmokeRequest } from "./smokeTest.js";

/** deployment.json: the core's record plus what the local target needs to manage the server. */
export interface LocalDeployment extends DeploymentRecord {
  pid: number;
  port: number;
  modelDir: string;
  logFile: string;
  entryScript: string;
  entryScriptSha256: string;
}

export interface LocalEnvironmentsDeps {
  paths: LocalPaths;
  ports: Record<StackName, number>;
  smokeRequest: string;
  pythonEnv: () => Promise<PythonEnv>;
  mlflow: () => Promise<MlflowClient>;
  readyTimeoutMs?: number;
}

const fileSha256 = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");

export async function readDeployment(paths: LocalPaths, stack: StackName): Promise<LocalDeployment | undefined> {
  return readJsonFile<LocalDeployment>(paths.deploymentFile(stack));
}

export const portInUseError = (port: number, stack: string) =>
  new EnvironmentError(`port ${port} (${stack}) is in use by another process; stop it or set local.ports.${stack} in mlops.yaml`);

export class LocalEnvironments implements EnvironmentsPort {
  constructor(private readonly d: LocalEnvironmentsDeps) {}

  private get entryScript(): string {
    return path.join(this.d.paths.repoRoot, "ml", "score.py");
  }

  private async serving(rec: LocalDeployment | undefined): Promise<boolean> {
    return !!rec && isOurProcess(rec.pid, INFERENCE_MARKER) && (await httpOk(`http://127.0.0.1:${rec.port}/`));
  }

  async deploy(stack: StackName, model: RegisteredModel, progress: Progress): Promise<DeploymentRecord> {
    const { paths } = this.d;
    const port = this.d.ports[stack];
    const current = await readDeployment(paths, stack);
    if (
      current &&
      current.modelName === model.name &&
      current.modelVersion === model.version &&
      current.digest === model.digest &&
      current.port === port &&
      (await this.serving(current))
    ) {
      return { ...publicRecord(current), detail: `no change: ${stack} already serves v${model.version}` };
    }
    const ours = !!current && isOurProcess(current.pid, INFERENCE_MARKER);
    if (!ours && !(await isPortFree(port))) throw portInUseError(port, stack);

    const client = await this.d.mlflow();
    const env = await this.d.pythonEnv();
    const mv = await client.getModelVersion(model.name, model.version);
    if (!mv) throw new NotFoundError(`${model.name} v${model.version} is not in the local registry; start a new release`);
    const modelDir = paths.modelDir(stack, model.name, model.version);
    progress.info(`downloading ${model.name} v${model.version} into ${path.relative(paths.repoRoot, modelDir)}`);
    const dl = await downloadModelVersion(client, mv, modelDir);
    if (dl.modelSha256 !== model.digest) {
      throw new DeploymentError(`${model.name} v${model.version}'s ${MODEL_FILE} hashes to ${dl.modelSha256.slice(0, 12) || "(missing)"}, not the registered ${model.digest.slice(0, 12)}; refusing to deploy it to ${stack}`);
    }
    const trainedFrom = model.tags["mlops.code_digest"];
    if (trainedFrom && trainedFrom !== (await codeDigest(paths.repoRoot))) {
      progress.info(`note: ml/ changed since v${model.version} was trained; ${stack} serves the current ml/score.py`);
    }

    if (ours) {
      progress.info(`stopping ${stack}'s inference server (v${current!.modelVersion}, pid ${current!.pid}); ${stack} does not answer until the new one is ready`);
      await stopInferenceServer(current!.pid);
    }
    if (!(await waitPortFree(port, 15_000))) throw portInUseError(port, stack);

    const started = Date.now();
    let proc: InferenceServerProcess | undefined;
    try {
      proc = await this.start(stack, env, modelDir, port, progress);
    } catch (e) {
      if (ours && current && existsSync(current.modelDir)) {
        progress.info(`restarting ${stack} with the previous v${current.modelVersion}`);
        try {
          const back = await this.start(stack, env, current.modelDir, port, progress);
          await writeJsonAtomic(paths.deploymentFile(stack), { ...current, pid: back.pid });
        } catch {
          progress.info(`the previous v${current.modelVersion} did not start either; ${stack} is down (see 'mlops status')`);
        }
      }
      throw e;
    }
    const rec: LocalDeployment = {
      stack,
      modelName: model.name,
      modelVersion: model.version,
      digest: model.digest,
      scoringUri: proc.scoringUri,
      deployedAt: new Date().toISOString(),
      ...(current ? { previous: { modelVersion: current.modelVersion, digest: current.digest } } : {}),
      detail: `${stack} serves ${model.name} v${model.version}${current ? ` (was v${current.modelVersion})` : ""} at ${proc.scoringUri}, ready in ${((Date.now() - started) / 1000).toFixed(1)}s`,
      pid: proc.pid,
      port,
      modelDir,
      logFile: proc.logFile,
      entryScript: this.entryScript,
      entryScriptSha256: await fileSha256(this.entryScript),
    };
    await writeJsonAtomic(paths.deploymentFile(stack), rec);
    return publicRecord(rec);
  }

  /** Starts a server and waits until it answers health and a smoke scoring request; stops it otherwise. */
  private async start(stack: StackName, env: PythonEnv, modelDir: string, port: number, progress: Progress): Promise<InferenceServerProcess> {
    const proc = startInferenceServer({ paths: this.d.paths, env, stack, entryScript: this.entryScript, modelDir, port });
    try {
      await waitForHttp({
        url: proc.healthUri,
        what: `${stack}'s inference server on 127.0.0.1:${port}`,
        timeoutMs: this.d.readyTimeoutMs ?? 120_000,
        pid: proc.pid,
        logFile: proc.logFile,
        progress,
      });
      const smoke = await readSmokeRequest(this.d.paths.repoRoot, this.d.smokeRequest);
      const r = await postScore(proc.scoringUri, smoke.payload);
      if (r.status !== 200) {
        throw new DeploymentError(`${stack}'s inference server answers ${r.status} to the smoke request: ${JSON.stringify(r.body).slice(0, 160)}; see ${proc.logFile}`);
      }
      return proc;
    } catch (e) {
      await stopInferenceServer(proc.pid);
      if (e instanceof EnvironmentError) throw new DeploymentError(e.message);
      throw e;
    }
  }

  async validate(stack: StackName, deployment: DeploymentRecord, progress: Progress): Promise<ValidationResult> {
    const result = (healthy: boolean, predictions: number, latencyMs: number, detail: string): ValidationResult => ({
      stack,
      modelVersion: deployment.modelVersion,
      digest: deployment.digest,
      healthy,
      predictions,
      latencyMs: Math.round(latencyMs * 10) / 10,
      validatedAt: new Date().toISOString(),
      detail,
    });
    const rec = await readDeployment(this.d.paths, stack);
    if (!rec || rec.modelVersion !== deployment.modelVersion || rec.digest !== deployment.digest) {
      return result(false, 0, 0, `${stack} serves ${rec ? `v${rec.modelVersion} (${rec.digest.slice(0, 12)})` : "nothing"}, not v${deployment.modelVersion} (${deployment.digest.slice(0, 12)})`);
    }
    if (!isOurProcess(rec.pid, INFERENCE_MARKER)) return result(false, 0, 0, `${stack}'s inference server (pid ${rec.pid}) is not running; redeploy with 'mlops resume'`);
    const onDisk = await fileSha256(path.join(rec.modelDir, MODEL_FILE)).catch(() => "");
    if (onDisk !== rec.digest) return result(false, 0, 0, `${stack}'s ${MODEL_FILE} on disk hashes to ${onDisk.slice(0, 12) || "(missing)"}, not ${rec.digest.slice(0, 12)}`);
    const health = `http://127.0.0.1:${rec.port}/`;
    if (!(await httpOk(health))) return result(false, 0, 0, `${stack} does not answer GET ${health}; see ${rec.logFile}`);

    const smoke = await readSmokeRequest(this.d.paths.repoRoot, this.d.smokeRequest);
    progress.info(`scoring ${smoke.payload.data.length} rows from ${this.d.smokeRequest} against ${rec.scoringUri}`);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await postScore(rec.scoringUri, smoke.payload).catch((e: Error) => ({ status: 0, body: e.message, latencyMs: 0 }));
      if (r.status !== 200) return result(false, 0, 0, `POST /score answered ${r.status || "nothing"}: ${JSON.stringify(r.body).slice(0, 160)}`);
      const wrong = checkPredictions(r.body, smoke);
      if (wrong) return result(false, 0, r.latencyMs, wrong);
      latencies.push(r.latencyMs);
    }
    const median = [...latencies].sort((a, b) => a - b)[2]!;
    const bad = await postScore(rec.scoringUri, MALFORMED_PAYLOAD).catch(() => ({ status: 0, body: "", latencyMs: 0 }));
    if (bad.status < 400 || bad.status >= 500) return result(false, smoke.payload.data.length, median, `a malformed request got ${bad.status || "no answer"}, expected 4xx`);
    if (!(await httpOk(health))) return result(false, smoke.payload.data.length, median, `${stack} stopped answering health after a malformed request`);
    const [lo, hi] = smoke.prediction_range;
    return result(
      true,
      smoke.payload.data.length,
      median,
      `${stack} v${rec.modelVersion}: ${smoke.payload.data.length} predictions in [${lo}, ${hi}], median ${median.toFixed(1)} ms over 5 requests; malformed request -> ${bad.status}, still healthy`,
    );
  }

  async describe(stack: StackName): Promise<StackStatus> {
    const rec = await readDeployment(this.d.paths, stack);
    if (!rec) return { stack, healthy: false, detail: `nothing deployed to ${stack} on this machine` };
    const running = isOurProcess(rec.pid, INFERENCE_MARKER);
    const healthy = running && (await httpOk(`http://127.0.0.1:${rec.port}/`));
    return {
      stack,
      modelName: rec.modelName,
      modelVersion: rec.modelVersion,
      digest: rec.digest,
      scoringUri: rec.scoringUri,
      healthy,
      detail: healthy ? `serving v${rec.modelVersion} on port ${rec.port} (pid ${rec.pid})` : running ? `pid ${rec.pid} runs but does not answer health on port ${rec.port}; see ${rec.logFile}` : `v${rec.modelVersion} deployed but its server is stopped ('mlops down' or a reboot); 'mlops resume' or a new release starts it`,
    };
  }
}

/** The core's view of a deployment (without the process details). */
export function publicRecord(r: LocalDeployment): DeploymentRecord {
  return {
    stack: r.stack,
    modelName: r.modelName,
    modelVersion: r.modelVersion,
    digest: r.digest,
    scoringUri: r.scoringUri,
    deployedAt: r.deployedAt,
    ...(r.previous ? { previous: r.previous } : {}),
    detail: r.detail,
  };
}
