/**
 * The model registry of the local target: MLflow's Model Registry on the local tracking server.
 *  - champion: the alias `champion`;
 *  - a version is registered from the run's artifact directory as the server stores it
 *    (mlflow-artifacts:/<exp>/<run>/artifacts/model; a runs:/ source cannot be read back by the server);
 *  - before a version is returned its model.pkl is downloaded from the registry and hashed: a version whose
 *    hash is not the run's is tagged mlops.status=invalid (kept, for the audit trail) and never used again.
 */
import { ApprovalError, DeploymentError, NotFoundError } from "../../core/errors.js";
import type { RegistryPort } from "../../core/ports.js";
import type { Approval, RegisteredModel, TrainingResult } from "../../core/release.js";
import type { MlflowClient } from "../../mlflow/mlflowClient.js";
import { tagRecord, type MlflowModelVersion } from "../../mlflow/types.js";
import { TAG } from "./fingerprintTags.js";
import { registeredModelSha256 } from "./modelArtifacts.js";

export const CHAMPION_ALIAS = "champion";
const STATUS_VERIFIED = "verified";
const STATUS_INVALID = "invalid";

export function toRegisteredModel(mv: MlflowModelVersion): RegisteredModel {
  const tags = tagRecord(mv.tags);
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(tags)) {
    if (k.startsWith("mlops.metric.") && Number.isFinite(Number(v))) metrics[k.slice("mlops.metric.".length)] = Number(v);
  }
  return { name: mv.name, version: String(mv.version), digest: tags[TAG.modelSha256] ?? "", runId: mv.run_id ?? tags["mlops.run_id"] ?? "", metrics, tags };
}

const quote = (s: string) => `'${s.replace(/'/g, "")}'`;

function parseRunsUri(uri: string): { runId: string; path: string } | undefined {
  const m = /^runs:\/([^/]+)\/?(.*)$/.exec(uri);
  return m ? { runId: m[1]!, path: m[2]! } : undefined;
}

export class LocalRegistry implements RegistryPort {
  constructor(private readonly mlflow: () => Promise<MlflowClient>) {}

  async champion(modelName: string): Promise<RegisteredModel | undefined> {
    const mv = await (await this.mlflow()).getModelVersionByAlias(modelName, CHAMPION_ALIAS);
    return mv ? toRegisteredModel(mv) : undefined;
  }

  async findByRun(modelName: string, runId: string): Promise<RegisteredModel | undefined> {
    const client = await this.mlflow();
    const found = await client.searchModelVersions(`name=${quote(modelName)} and run_id=${quote(runId)}`);
    const candidates = found
      .filter((mv) => tagRecord(mv.tags)[TAG.status] !== STATUS_INVALID && tagRecord(mv.tags)[TAG.modelSha256])
      .sort((a, b) => Number(a.version) - Number(b.version));
    for (const mv of candidates) {
      const verified = await this.verify(client, mv, tagRecord(mv.tags)[TAG.modelSha256]!);
      if (verified) return verified;
    }
    return undefined;
  }

  async register(modelName: string, training: TrainingResult, tags: Record<string, string>): Promise<RegisteredModel> {
    const client = await this.mlflow();
    const runsUri = parseRunsUri(training.artifactUri);
    if (!runsUri) throw new DeploymentError(`cannot register '${training.artifactUri}': the local registry expects a runs:/<run id>/<path> URI`);
    const run = await client.getRun(runsUri.runId);
    if (!run) throw new NotFoundError(`run ${runsUri.runId} is not in the local MLflow server; start a new release to train again`);
    await client.createRegisteredModel(modelName, [{ key: "mlops.managed_by", value: "mlops" }]);
    const source = runsUri.path ? `${run.info.artifact_uri.replace(/\/+$/, "")}/${runsUri.path}` : run.info.artifact_uri;
    const all = { ...tags, [TAG.modelSha256]: training.modelSha256, "mlops.run_id": training.runId, [TAG.status]: "pending" };
    const mv = await client.createModelVersion({
      name: modelName,
      source,
      runId: training.runId,
      tags: Object.entries(all).map(([key, value]) => ({ key, value })),
      description: `trained by run ${training.runId}`,
    });
    const verified = await this.verify(client, mv, training.modelSha256);
    if (!verified) {
      throw new DeploymentError(
        `${modelName} v${mv.version}'s model.pkl in the registry does not hash to ${training.modelSha256.slice(0, 12)} (run ${training.runId}); the version is tagged ${TAG.status}=${STATUS_INVALID} and will not be used; start a new release`,
      );
    }
    return verified;
  }

  /** Downloads model.pkl and compares; tags the version verified or invalid. */
  private async verify(client: MlflowClient, mv: MlflowModelVersion, expected: string): Promise<RegisteredModel | undefined> {
    const tags = tagRecord(mv.tags);
    if (tags[TAG.status] === STATUS_VERIFIED) return toRegisteredModel(mv);
    let actual: string;
    try {
      actual = await registeredModelSha256(client, mv.name, mv.version);
    } catch (e) {
      actual = `unreadable (${(e as Error).message.slice(0, 120)})`;
    }
    if (actual !== expected) {
      await client.setModelVersionTag(mv.name, mv.version, TAG.status, STATUS_INVALID);
      await client.setModelVersionTag(mv.name, mv.version, "mlops.invalid_reason", `model.pkl sha256 ${actual.slice(0, 64)} != ${expected}`);
      return undefined;
    }
    await client.setModelVersionTag(mv.name, mv.version, TAG.status, STATUS_VERIFIED);
    return toRegisteredModel({ ...mv, tags: [...(mv.tags ?? []).filter((t) => t.key !== TAG.status), { key: TAG.status, value: STATUS_VERIFIED }] });
  }

  async getVersion(modelName: string, version: string): Promise<RegisteredModel | undefined> {
    const mv = await (await this.mlflow()).getModelVersion(modelName, version);
    if (!mv || tagRecord(mv.tags)[TAG.status] === STATUS_INVALID) return undefined;
    return toRegisteredModel(mv);
  }

  async crownChampion(model: RegisteredModel): Promise<void> {
    const client = await this.mlflow();
    await client.setRegisteredModelAlias(model.name, CHAMPION_ALIAS, model.version);
    await client.setModelVersionTag(model.name, model.version, "mlops.crowned_at", new Date().toISOString());
  }

  async recordApproval(a: Approval): Promise<void> {
    const client = await this.mlflow();
    const mv = await client.getModelVersion(a.modelName, a.modelVersion);
    if (!mv) throw new NotFoundError(`${a.modelName} v${a.modelVersion} is not in the local registry; it cannot be approved`);
    const digest = tagRecord(mv.tags)[TAG.modelSha256];
    if (digest !== a.digest) {
      throw new ApprovalError(
        `${a.modelName} v${a.modelVersion} has digest ${String(digest).slice(0, 12)} in the registry, not the approved ${a.digest.slice(0, 12)}; refusing to record the approval`,
      );
    }
    const p = `mlops.approval.${a.stack}`;
    await client.setModelVersionTag(a.modelName, a.modelVersion, `${p}.by`, a.by);
    await client.setModelVersionTag(a.modelName, a.modelVersion, `${p}.at`, a.at);
    await client.setModelVersionTag(a.modelName, a.modelVersion, `${p}.digest`, a.digest);
  }
}
