/**
 * The stacks of the local target. INT: one azmlinfsrv on its loopback port, serving a registered model
 * version downloaded into .mlops/stacks/int/models/<name>/<version>/model/ and verified by sha256; a redeploy
 * stops the old server and starts the new one on the same port (a gap of a few seconds, see
 * docs/local-target.md), and if the new one does not become ready the previous version is started again.
 * PROD: blue/green behind a weighted router with a staged rollout (blueGreenProd.ts), no gap.
 * Each deployment is recorded in .mlops/stacks/<stack>/deployment.json.
 */
import { sha256Hex } from "../../../config/sha256.js";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { RolloutConfig } from "../../config/profileRolloutConfig.js";
import type { EnvironmentsPort, Progress, StackStatus } from "../../core/ports.js";
import type { DeploymentRecord, RegisteredModel, StackName, ValidationResult } from "../../core/release.js";
import type { MlflowClient } from "../../mlflow/mlflowClient.js";
import { BlueGreenProd } from "./blueGreenProd.js";
import { checkEndpoint, validationResult } from "./endpointValidation.js";
import { httpOk } from "../../host/httpProbe.js";
import { inferenceRunning, stopInferenceServer, type InferenceServerProcess } from "./inferenceServer.js";
import { writeJsonAtomic } from "../../host/jsonFile.js";
import { publicRecord, readDeployment, type LocalDeployment } from "./localDeployment.js";
import type { LocalPaths } from "./localPaths.js";
import { MODEL_FILE } from "./modelArtifacts.js";
import { claimPort, portInUse, readServiceRecord, type ProcessRef } from "../../host/serviceProcess.js";
import type { PythonEnv } from "../../host/pythonEnv.js";
import { entryScriptOf, serverStarter, type StartServer } from "./readyServer.js";
import type { CollectionConfig } from "../../config/monitorConfig.js";
import { readSmokeRequest } from "../../host/smokeRequest.js";
import { fetchVerifiedModel } from "./verifiedModel.js";

export interface LocalEnvironmentsDeps {
  paths: LocalPaths;
  /** int, prod (the router), prodBlue and prodGreen (the two PROD slots) */
  ports: { int: number; prod: number; prodBlue: number; prodGreen: number };
  smokeRequest: string;
  rollout: RolloutConfig;
  /** scoring.maxRequestBytes: the router and score.py answer 413 above it */
  maxRequestBytes?: number;
  pythonEnv: () => Promise<PythonEnv>;
  mlflow: () => Promise<MlflowClient>;
  readyTimeoutMs?: number;
  /** what score.py records of each request (mlops.yaml monitor.collection) */
  collection?: CollectionConfig;
}

export const portInUseError = (port: number, stack: string) => portInUse(port, stack);

export class LocalEnvironments implements EnvironmentsPort {
  private readonly prod: BlueGreenProd;
  private readonly start: StartServer;

  constructor(private readonly d: LocalEnvironmentsDeps) {
    this.start = serverStarter({
      paths: d.paths,
      smokeRequest: d.smokeRequest,
      ...(d.readyTimeoutMs ? { readyTimeoutMs: d.readyTimeoutMs } : {}),
      ...(d.maxRequestBytes ? { maxRequestBytes: d.maxRequestBytes } : {}),
      ...(d.collection ? { collection: d.collection } : {}),
    });
    this.prod = new BlueGreenProd({
      paths: d.paths,
      ports: { router: d.ports.prod, blue: d.ports.prodBlue, green: d.ports.prodGreen },
      smokeRequest: d.smokeRequest,
      rollout: d.rollout,
      ...(d.maxRequestBytes ? { maxRequestBytes: d.maxRequestBytes } : {}),
      pythonEnv: d.pythonEnv,
      mlflow: d.mlflow,
      start: this.start,
    });
  }

  private get entryScript(): string {
    return entryScriptOf(this.d.paths);
  }

  private async serving(rec: LocalDeployment | undefined): Promise<boolean> {
    return !!rec && inferenceRunning(rec) && (await httpOk(`http://127.0.0.1:${rec.port}/`));
  }

  async deploy(stack: StackName, model: RegisteredModel, progress: Progress): Promise<DeploymentRecord> {
    if (stack === "prod") return this.prod.deploy(model, progress);
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
    await this.stopOrphan(stack, current, progress);
    const ours = !!current && inferenceRunning(current);
    if (!ours) await claimPort({ port, key: stack, stateDir: paths.stateDir, progress }); // fail fast on a stranger, before any download

    const env = await this.d.pythonEnv();
    const modelDir = await fetchVerifiedModel({ paths, client: await this.d.mlflow(), stack, model, progress });

    if (ours) {
      progress.info(
        `stopping ${stack}'s inference server (v${current!.modelVersion}, pid ${current!.pid}); ${stack} does not answer until the new one is ready`,
      );
      await stopInferenceServer(current!);
    }
    await claimPort({ port, key: stack, stateDir: paths.stateDir, progress });

    const started = Date.now();
    let proc: InferenceServerProcess | undefined;
    const server = (dir: string) => ({
      stack,
      label: stack,
      logName: stack,
      env,
      modelDir: dir,
      port,
      progress,
      service: `inference-${stack}`,
      recordFile: paths.serverFile(stack),
      extra: { stack, modelDir: dir },
    });
    try {
      proc = await this.start(server(modelDir));
    } catch (e) {
      if (ours && current && existsSync(current.modelDir)) {
        progress.info(`restarting ${stack} with the previous v${current.modelVersion}`);
        try {
          const back = await this.start(server(current.modelDir));
          await writeJsonAtomic(paths.deploymentFile(stack), { ...current, pid: back.pid, pgid: back.pgid, token: back.token });
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
      pgid: proc.pgid,
      token: proc.token,
      port,
      modelDir,
      logFile: proc.logFile,
      entryScript: this.entryScript,
      entryScriptSha256: sha256Hex(await readFile(this.entryScript)),
    };
    await writeJsonAtomic(paths.deploymentFile(stack), rec);
    return publicRecord(rec);
  }

  /**
   * A deploy killed (SIGKILL, power loss) after it started a server and before it wrote deployment.json leaves
   * that server running, not in deployment.json, but in its service record (written before the spawn): it is ours,
   * stop it (whole group), so the retried deploy can start the one it records instead of refusing the port.
   */
  private async stopOrphan(stack: StackName, current: LocalDeployment | undefined, progress: Progress): Promise<void> {
    const started = await readServiceRecord<ProcessRef>(this.d.paths.serverFile(stack));
    if (!started || (current && started.token && started.token === current.token)) return;
    if (inferenceRunning(started)) {
      progress.info(`stopping ${stack}'s inference server pid ${started.pid}, left unrecorded by an interrupted deploy`);
      await stopInferenceServer(started);
    }
  }

  /** PROD: an instant router flip back to the previous slot (restarting it there first if it stopped). INT: a redeploy. */
  async rollBack(stack: StackName, to: RegisteredModel, progress: Progress): Promise<DeploymentRecord> {
    return stack === "prod" ? this.prod.rollBack(to, progress) : this.deploy(stack, to, progress);
  }

  async validate(stack: StackName, deployment: DeploymentRecord, progress: Progress): Promise<ValidationResult> {
    if (stack === "prod") return this.prod.validate(deployment, progress);
    const result = validationResult(stack, deployment);
    const rec = await readDeployment(this.d.paths, stack);
    if (!rec || rec.modelVersion !== deployment.modelVersion || rec.digest !== deployment.digest) {
      return result(
        false,
        0,
        0,
        `${stack} serves ${rec ? `v${rec.modelVersion} (${rec.digest.slice(0, 12)})` : "nothing"}, not v${deployment.modelVersion} (${deployment.digest.slice(0, 12)})`,
      );
    }
    if (!inferenceRunning(rec)) return result(false, 0, 0, `${stack}'s inference server (pid ${rec.pid}) is not running; redeploy with 'mlops resume'`);
    const onDisk = await readFile(path.join(rec.modelDir, MODEL_FILE)).then(sha256Hex, () => "");
    if (onDisk !== rec.digest)
      return result(false, 0, 0, `${stack}'s ${MODEL_FILE} on disk hashes to ${onDisk.slice(0, 12) || "(missing)"}, not ${rec.digest.slice(0, 12)}`);
    const health = `http://127.0.0.1:${rec.port}/`;
    if (!(await httpOk(health))) return result(false, 0, 0, `${stack} does not answer GET ${health}; see ${rec.logFile}`);

    const smoke = await readSmokeRequest(this.d.paths.repoRoot, this.d.smokeRequest);
    progress.info(`scoring ${smoke.payload.data.length} rows from ${this.d.smokeRequest} against ${rec.scoringUri}`);
    const c = await checkEndpoint({ scoringUri: rec.scoringUri, healthUri: health, smoke });
    return result(c.ok, c.predictions, c.latencyMs, c.ok ? `${stack} v${rec.modelVersion}: ${c.detail}` : c.detail);
  }

  async describe(stack: StackName): Promise<StackStatus> {
    if (stack === "prod") return this.prod.describe();
    const rec = await readDeployment(this.d.paths, stack);
    if (!rec) return { stack, healthy: false, detail: `nothing deployed to ${stack} on this machine` };
    const running = inferenceRunning(rec);
    const healthy = running && (await httpOk(`http://127.0.0.1:${rec.port}/`));
    return {
      stack,
      modelName: rec.modelName,
      modelVersion: rec.modelVersion,
      digest: rec.digest,
      scoringUri: rec.scoringUri,
      healthy,
      detail: healthy
        ? `serving v${rec.modelVersion} on port ${rec.port} (pid ${rec.pid})`
        : running
          ? `pid ${rec.pid} runs but does not answer health on port ${rec.port}; see ${rec.logFile}`
          : `v${rec.modelVersion} deployed but its server is stopped ('mlops down' or a reboot); 'mlops resume' or a new release starts it`,
    };
  }
}
