/**
 * RegistryPort on Azure ML model assets (ARM modelContainers/modelVersions). Lineage lives in the version's
 * tags (the same `mlops.*` tags as the local target) and the artifact's sha256 in `mlops.model_sha256`. The
 * champion is a tag the driver moves on the model container (`mlops.champion: <version>`), one atomic write.
 * Approvals are tags on the version itself, so they travel with the artifact.
 *
 * Versions are registered as `custom_model`: ml/score.py loads model.pkl itself, so the deployments run score.py
 * (a code configuration + environment), not Azure ML's MLflow scoring path, which an `mlflow_model` gets and which
 * needs at least 2 cores and 4 GB per instance on Kubernetes (MS Learn, "Create and manage instance types"). The
 * body is the one azure-ai-ml builds for `Model(path=<job output>, type="custom_model")` (test/unit/azure/oracle/).
 */
import type { ModelVersion } from "@azure/arm-machinelearning";
import { DeploymentError } from "../../core/errors.js";
import type { RegistryPort } from "../../core/ports.js";
import type { Approval, RegisteredModel, TrainingResult } from "../../core/release.js";
import { isNotFound } from "./armErrors.js";
import { sha256OfBlob } from "./azureTraining.js";
import { jobModelBlob } from "./trainingJob.js";
import type { WorkspaceClients } from "./workspaceClients.js";

export const CHAMPION_TAG = "mlops.champion";
export const SHA_TAG = "mlops.model_sha256";
/** The Azure ML model type of every version the driver registers (see the header). */
export const MODEL_TYPE = "custom_model";

export function toRegistered(name: string, v: ModelVersion): RegisteredModel {
  const tags: Record<string, string> = {};
  for (const [k, val] of Object.entries(v.properties.tags ?? {})) if (typeof val === "string") tags[k] = val;
  const metrics: Record<string, number> = {};
  for (const [k, val] of Object.entries(tags)) {
    if (k.startsWith("mlops.metric.")) {
      const n = Number(val);
      if (Number.isFinite(n)) metrics[k.slice("mlops.metric.".length)] = n;
    }
  }
  return { name, version: v.name ?? "", digest: tags[SHA_TAG] ?? "", runId: tags["mlops.run_id"] ?? v.properties.jobName ?? "", metrics, tags };
}

export class AzureRegistry implements RegistryPort {
  constructor(private readonly ws: WorkspaceClients) {}

  private get rg(): string {
    return this.ws.ref.resourceGroup;
  }
  private get wsName(): string {
    return this.ws.ref.workspace;
  }

  async getVersion(modelName: string, version: string): Promise<RegisteredModel | undefined> {
    try {
      return toRegistered(modelName, await this.ws.ml.modelVersions.get(this.rg, this.wsName, modelName, version));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async champion(modelName: string): Promise<RegisteredModel | undefined> {
    try {
      const c = await this.ws.ml.modelContainers.get(this.rg, this.wsName, modelName);
      const v = c.properties.tags?.[CHAMPION_TAG];
      return v ? this.getVersion(modelName, v) : undefined;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async findByRun(modelName: string, runId: string): Promise<RegisteredModel | undefined> {
    try {
      for await (const v of this.ws.ml.modelVersions.list(this.rg, this.wsName, modelName, { tags: `mlops.run_id=${runId}` })) {
        if (v.properties.tags?.["mlops.run_id"] === runId) return toRegistered(modelName, v);
      }
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return undefined;
  }

  /** The next free version number (versions are positive integers; the stack config refers to them). */
  async nextVersion(modelName: string): Promise<string> {
    let max = 0;
    try {
      for await (const v of this.ws.ml.modelVersions.list(this.rg, this.wsName, modelName)) {
        const n = Number(v.name);
        if (Number.isInteger(n) && n > max) max = n;
      }
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return String(max + 1);
  }

  async ensureContainer(modelName: string): Promise<void> {
    try {
      await this.ws.ml.modelContainers.get(this.rg, this.wsName, modelName);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.ws.ml.modelContainers.createOrUpdate(this.rg, this.wsName, modelName, {
        properties: { description: "registered by the mlops release driver" },
      });
    }
  }

  async register(modelName: string, training: TrainingResult, tags: Record<string, string>): Promise<RegisteredModel> {
    const actual = await sha256OfBlob(this.ws, jobModelBlob(training.runId));
    if (actual !== training.modelSha256) {
      throw new DeploymentError(
        `the model file of job ${training.runId} has sha256 ${actual.slice(0, 12)}, not ${training.modelSha256.slice(0, 12)} as trained; refusing to register it`,
      );
    }
    await this.ensureContainer(modelName);
    const version = await this.nextVersion(modelName);
    const v = await this.ws.ml.modelVersions.createOrUpdate(this.rg, this.wsName, modelName, version, {
      properties: {
        modelType: MODEL_TYPE,
        modelUri: training.artifactUri,
        jobName: training.runId,
        description: `trained by job ${training.runId}; sha256 ${training.modelSha256}`,
        tags: { ...tags, [SHA_TAG]: training.modelSha256 },
        properties: { [SHA_TAG]: training.modelSha256 },
      },
    });
    return toRegistered(modelName, v);
  }

  async crownChampion(model: RegisteredModel): Promise<void> {
    const c = await this.ws.ml.modelContainers.get(this.rg, this.wsName, model.name);
    await this.ws.ml.modelContainers.createOrUpdate(this.rg, this.wsName, model.name, {
      properties: { ...c.properties, tags: { ...(c.properties.tags ?? {}), [CHAMPION_TAG]: model.version } },
    });
  }

  async recordApproval(a: Approval): Promise<void> {
    const v = await this.ws.ml.modelVersions.get(this.rg, this.wsName, a.modelName, a.modelVersion);
    const digest = v.properties.tags?.[SHA_TAG];
    if (digest !== a.digest) {
      throw new DeploymentError(
        `${a.modelName} v${a.modelVersion} in Azure ML has sha256 ${(digest ?? "none").slice(0, 12)}, not the approved ${a.digest.slice(0, 12)}; refusing to record the approval`,
      );
    }
    await this.ws.ml.modelVersions.createOrUpdate(this.rg, this.wsName, a.modelName, a.modelVersion, {
      properties: {
        ...v.properties,
        tags: {
          ...(v.properties.tags ?? {}),
          [`mlops.approved.${a.stack}.by`]: a.by,
          [`mlops.approved.${a.stack}.at`]: a.at,
          [`mlops.approved.${a.stack}.sha256`]: a.digest,
        },
      },
    });
  }
}
