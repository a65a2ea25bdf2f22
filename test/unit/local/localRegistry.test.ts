import { sha256Hex } from "../../../config/sha256.js";
import { expect } from "chai";
import type { MlflowClient } from "../../../driver/mlflow/mlflowClient.js";
import type { MlflowModelVersion, MlflowRun } from "../../../driver/mlflow/types.js";
import { LocalRegistry } from "../../../driver/targets/local/localRegistry.js";

/** An in-memory stand-in for the few MLflow calls the registry makes. */
class FakeRegistryClient {
  versions: MlflowModelVersion[] = [];
  artifact = "pickle-bytes";
  aliases: Record<string, string> = {};
  async createRegisteredModel() {
    return { created: true };
  }
  async getRun(runId: string): Promise<MlflowRun> {
    return { info: { run_id: runId, experiment_id: "1", status: "FINISHED", artifact_uri: `mlflow-artifacts:/1/${runId}/artifacts` }, data: {} };
  }
  async createModelVersion(v: { name: string; source: string; runId?: string; tags?: { key: string; value: string }[] }) {
    const mv: MlflowModelVersion = { name: v.name, version: String(this.versions.length + 1), source: v.source, run_id: v.runId, tags: [...(v.tags ?? [])] };
    this.versions.push(mv);
    return { ...mv, tags: [...mv.tags!] };
  }
  async downloadModelVersionArtifact() {
    return Buffer.from(this.artifact);
  }
  async setModelVersionTag(name: string, version: string, key: string, value: string) {
    const mv = this.versions.find((v) => v.name === name && v.version === version)!;
    mv.tags = [...mv.tags!.filter((t) => t.key !== key), { key, value }];
  }
  /** Filters as the MLflow server does for `name='..' and run_id='..'` (MLflow's SearchModelVersionUtils: `=`
   * comparisons joined by AND); any other filter is refused, so a malformed one fails the test. */
  async searchModelVersions(filter: string) {
    const clauses = filter.split(/\s+and\s+/i).map((c) => {
      const m = /^(name|run_id)\s*=\s*'([^']*)'$/.exec(c.trim());
      if (!m) throw new Error(`fake MLflow: unsupported filter clause '${c}'`);
      return { key: m[1] === "name" ? ("name" as const) : ("run_id" as const), value: m[2]! };
    });
    return this.versions.filter((v) => clauses.every((c) => v[c.key] === c.value)).map((v) => ({ ...v, tags: [...v.tags!] }));
  }
  async getModelVersion(name: string, version: string) {
    return this.versions.find((v) => v.name === name && v.version === version);
  }
  async setRegisteredModelAlias(_n: string, alias: string, version: string) {
    this.aliases[alias] = version;
  }
  async getModelVersionByAlias(name: string, alias: string) {
    return this.aliases[alias] ? this.getModelVersion(name, this.aliases[alias]!) : undefined;
  }
  tag(version: string, key: string) {
    return this.versions.find((v) => v.version === version)!.tags!.find((t) => t.key === key)?.value;
  }
}

const training = (digest: string) => ({ runId: "r1", metrics: { rmse: 55 }, modelSha256: digest, artifactUri: "runs:/r1/model", reused: false });

describe("local registry (MLflow Model Registry semantics, against an in-memory client)", () => {
  let fake: FakeRegistryClient;
  let registry: LocalRegistry;
  beforeEach(() => {
    fake = new FakeRegistryClient();
    registry = new LocalRegistry(async () => fake as unknown as MlflowClient);
  });

  it("registers from the run's artifact URI as the server stores it, verifies model.pkl and tags the version verified", async () => {
    const m = await registry.register("diabetes-ridge", training(sha256Hex("pickle-bytes")), { "mlops.metric.rmse": "55" });
    expect(fake.versions[0]!.source).to.equal("mlflow-artifacts:/1/r1/artifacts/model");
    expect(m).to.deep.include({ version: "1", digest: sha256Hex("pickle-bytes"), runId: "r1", metrics: { rmse: 55 } });
    expect(fake.tag("1", "mlops.status")).to.equal("verified");
  });

  it("a registered artifact that does not hash to the run's sha256 is tagged invalid, kept, and never returned", async () => {
    const err = (await registry.register("diabetes-ridge", training(sha256Hex("other")), {}).catch((e: Error) => e)) as Error;
    expect(err.name).to.equal("DeploymentError");
    expect(err.message).to.match(/^diabetes-ridge v1's model\.pkl in the registry does not hash to .* tagged mlops\.status=invalid/);
    expect(fake.versions).to.have.length(1);
    expect(fake.tag("1", "mlops.status")).to.equal("invalid");
    expect(await registry.findByRun("diabetes-ridge", "r1")).to.equal(undefined);
    expect(await registry.getVersion("diabetes-ridge", "1")).to.equal(undefined);
  });

  it("findByRun returns only a version of that run and that model (the server's filter is applied)", async () => {
    const tags = [
      { key: "mlops.model_sha256", value: sha256Hex("pickle-bytes") },
      { key: "mlops.status", value: "verified" },
    ];
    await fake.createModelVersion({ name: "m", source: "s", runId: "r1", tags });
    await fake.createModelVersion({ name: "other", source: "s", runId: "r2", tags });
    expect(await registry.findByRun("m", "r2")).to.equal(undefined);
    expect(await registry.findByRun("other", "r1")).to.equal(undefined);
    expect((await registry.findByRun("m", "r1"))?.version).to.equal("1");
    expect((await registry.findByRun("other", "r2"))?.version).to.equal("2");
  });

  it("findByRun verifies a version left pending by a crash before returning it", async () => {
    await fake.createModelVersion({
      name: "m",
      source: "s",
      runId: "r1",
      tags: [
        { key: "mlops.model_sha256", value: sha256Hex("pickle-bytes") },
        { key: "mlops.status", value: "pending" },
      ],
    });
    const m = await registry.findByRun("m", "r1");
    expect(m?.version).to.equal("1");
    expect(fake.tag("1", "mlops.status")).to.equal("verified");
  });

  it("crowns the champion with the alias and binds an approval to the version's digest", async () => {
    const m = await registry.register("m", training(sha256Hex("pickle-bytes")), {});
    await registry.crownChampion(m);
    expect((await registry.champion("m"))?.version).to.equal("1");
    await registry.recordApproval({ stack: "prod", by: "alice", at: "2026-11-27T00:00:00Z", modelName: "m", modelVersion: "1", digest: m.digest });
    expect(fake.tag("1", "mlops.approval.prod.by")).to.equal("alice");
    expect(fake.tag("1", "mlops.approval.prod.digest")).to.equal(m.digest);
    const err = (await registry
      .recordApproval({ stack: "prod", by: "bob", at: "x", modelName: "m", modelVersion: "1", digest: sha256Hex("else") })
      .catch((e: Error) => e)) as Error;
    expect(err.name).to.equal("ApprovalError");
  });
});
