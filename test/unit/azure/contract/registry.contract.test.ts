import { expect } from "chai";
import { sha256Hex } from "../../../../config/sha256.js";
import { DeploymentError, NotFoundError, ReleaseLockedError } from "../../../../driver/core/errors.js";
import { newRelease, type TrainingResult } from "../../../../driver/core/release.js";
import { AzureRegistry } from "../../../../driver/targets/azure/azureRegistry.js";
import { BlobReleaseStore } from "../../../../driver/targets/azure/blobReleaseStore.js";
import { copyModelToWorkspace } from "../../../../driver/targets/azure/modelCopy.js";
import { accountOf, FakeAzure } from "../support/fakeAzure.js";
import { clientsFor, RecordingProgress } from "../support/harness.js";

describe("azure registry, promotion copy and release store (contract tests)", function () {
  this.timeout(20_000);
  let fake: FakeAzure;
  const model = Buffer.from("pickled model bytes");
  const job = "mlops-train-20261127-090000-abcd";
  const training: TrainingResult = {
    runId: job,
    metrics: { rmse: 50 },
    modelSha256: sha256Hex(model),
    artifactUri: `azureml://jobs/${job}/outputs/training/paths/model`,
    reused: false,
  };
  beforeEach(async () => {
    fake = await new FakeAzure().start();
    fake.putBlob(accountOf("ws-int"), `mlops/jobs/${job}/model/model.pkl`, model);
    fake.putBlob(accountOf("ws-int"), `mlops/jobs/${job}/model/MLmodel`, Buffer.from("flavors: {}\n"));
  });
  afterEach(() => fake.stop());

  it("contract test: register creates the model container, then PUTs version 1 as a custom_model from the job output with lineage tags and the sha256", async () => {
    const reg = new AzureRegistry(clientsFor(fake, "int"));
    const m = await reg.register("diabetes-ridge", training, { "mlops.run_id": job, "mlops.release": "rel-x" });
    expect(fake.armCalls()).to.deep.equal([
      "GET /datastores", // model.pkl is read back from the default datastore and hashed first
      "GET /models/diabetes-ridge",
      "PUT /models/diabetes-ridge",
      "GET /models/diabetes-ridge/versions",
      "PUT /models/diabetes-ridge/versions/1",
    ]);
    const put = fake.requests.find((q) => q.method === "PUT" && q.path.endsWith("/versions/1"))!;
    expect((put.body as { properties: object }).properties).to.deep.include({
      modelType: "custom_model",
      modelUri: `azureml://jobs/${job}/outputs/training/paths/model`,
      jobName: job,
      tags: { "mlops.run_id": job, "mlops.release": "rel-x", "mlops.model_sha256": sha256Hex(model) },
    });
    expect(m).to.deep.include({ name: "diabetes-ridge", version: "1", digest: sha256Hex(model), runId: job });
    expect(await reg.findByRun("diabetes-ridge", job)).to.deep.include({ version: "1" });
    const list = fake.requests.filter((q) => q.path.endsWith("/versions") && q.method === "GET").pop()!;
    expect(list.query.tags).to.equal(`mlops.run_id=${job}`);
    // next registration takes version 2
    const m2 = await reg.register("diabetes-ridge", training, { "mlops.run_id": "other" });
    expect(m2.version).to.equal("2");
  });

  it("contract test: register refuses when the job output's model.pkl does not have the trained sha256", async () => {
    const reg = new AzureRegistry(clientsFor(fake, "int"));
    const err = await reg.register("diabetes-ridge", { ...training, modelSha256: "0".repeat(64) }, {}).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DeploymentError);
    expect((err as Error).message).to.match(/has sha256 [0-9a-f]{12}, not 000000000000 as trained; refusing to register it/);
    expect(fake.armCalls().some((c) => c.startsWith("PUT"))).to.equal(false);
  });

  it("contract test: the champion is a tag on the model container; approvals are tags on the version, refused for another digest", async () => {
    const reg = new AzureRegistry(clientsFor(fake, "int"));
    const m = await reg.register("diabetes-ridge", training, { "mlops.run_id": job });
    expect(await reg.champion("diabetes-ridge")).to.equal(undefined);
    await reg.crownChampion(m);
    expect((await reg.champion("diabetes-ridge"))?.version).to.equal("1");
    await reg.recordApproval({ stack: "prod", by: "alice", at: "2026-11-27T10:00:00Z", modelName: m.name, modelVersion: "1", digest: m.digest });
    const v = await reg.getVersion("diabetes-ridge", "1");
    expect(v!.tags).to.deep.include({ "mlops.approved.prod.by": "alice", "mlops.approved.prod.sha256": m.digest });
    const err = await reg
      .recordApproval({ stack: "prod", by: "bob", at: "x", modelName: m.name, modelVersion: "1", digest: "f".repeat(64) })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DeploymentError);
  });

  it("contract test: promotion copies the INT model folder into PROD's datastore, checks sha256 and registers the same version there", async () => {
    const int = clientsFor(fake, "int");
    const prod = clientsFor(fake, "prod");
    const m = await new AzureRegistry(int).register("diabetes-ridge", training, { "mlops.run_id": job, "mlops.release": "rel-x" });
    expect(await copyModelToWorkspace(m, int, prod, new RecordingProgress())).to.equal("copied");
    expect(fake.blob(accountOf("ws-prod"), "mlops/models/diabetes-ridge/1/model/model.pkl")!.data.equals(model)).to.equal(true);
    expect(fake.blob(accountOf("ws-prod"), "mlops/models/diabetes-ridge/1/model/MLmodel")).to.not.equal(undefined);
    const put = fake.requests.find((q) => q.method === "PUT" && q.path.includes("/workspaces/ws-prod/models/diabetes-ridge/versions/1"))!;
    const p = (put.body as { properties: { modelUri: string; tags: Record<string, string> } }).properties;
    expect(p.modelUri).to.equal(
      "azureml://subscriptions/sub-prod/resourcegroups/rg-prod/workspaces/ws-prod/datastores/workspaceblobstore/paths/mlops/models/diabetes-ridge/1/model",
    );
    expect(p.tags).to.deep.include({ "mlops.release": "rel-x", "mlops.model_sha256": m.digest });
    expect(p.tags["mlops.copied_from"]).to.match(/ws-int\/models\/diabetes-ridge\/versions\/1$/);
    expect(await copyModelToWorkspace(m, int, prod, new RecordingProgress())).to.equal("present");
  });

  it("contract test: promotion refuses an INT artifact whose bytes changed after approval", async () => {
    const int = clientsFor(fake, "int");
    const m = await new AzureRegistry(int).register("diabetes-ridge", training, { "mlops.run_id": job });
    fake.putBlob(accountOf("ws-int"), `mlops/jobs/${job}/model/model.pkl`, Buffer.from("tampered"));
    const err = await copyModelToWorkspace(m, int, clientsFor(fake, "prod"), new RecordingProgress()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DeploymentError);
    expect((err as Error).message).to.match(/not the approved [0-9a-f]{12}; refusing to copy it/);
    expect(fake.blob(accountOf("ws-prod"), "mlops/models/diabetes-ridge/1/model/model.pkl")).to.equal(undefined);
  });

  it("contract test: the blob release store saves with If-None-Match/If-Match, reports a concurrent write instead of overwriting, and lists", async () => {
    const ws = clientsFor(fake, "int");
    const a = new BlobReleaseStore({ container: () => ws.container() });
    const b = new BlobReleaseStore({ container: () => ws.container() });
    const r = newRelease("rel-20261127-100000-ab12", "azure", "diabetes-ridge", "2026-11-27T10:00:00Z");
    await a.save(r);
    const puts = fake.requests.filter((q) => q.method === "PUT" && q.path.endsWith("rel-20261127-100000-ab12.json"));
    expect(puts[0]!.headers["if-none-match"]).to.equal("*");
    const seenByB = await b.load(r.id);
    r.state = "awaiting-approval";
    await a.save(r); // a knows the etag it wrote
    expect(fake.requests.filter((q) => q.method === "PUT" && q.path.endsWith(".json")).pop()!.headers["if-match"]).to.match(/^"0x/);
    seenByB.state = "failed";
    const err = await b.save(seenByB).catch((e: unknown) => e); // b's etag is stale
    expect(err).to.be.instanceOf(ReleaseLockedError);
    expect((err as Error).message).to.equal(
      "release rel-20261127-100000-ab12 was changed by another mlops run since this one read it; nothing was overwritten, run the command again",
    );
    expect((await a.load(r.id)).state).to.equal("awaiting-approval");
    expect((await b.list()).map((x) => x.id)).to.deep.equal([r.id]);
    expect(await b.load("rel-20261127-100000-ffff").catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
  });

  it("contract test: the release lock is a blob lease; a second holder is refused with the first one's host and purpose, and can take it after release", async () => {
    const ws = clientsFor(fake, "int");
    const a = new BlobReleaseStore({ container: () => ws.container() });
    const b = new BlobReleaseStore({ container: () => ws.container() });
    const lock = await a.lock("release");
    const acquire = fake.requests.find((q) => q.query.comp === "lease")!;
    expect(acquire.headers).to.deep.include({ "x-ms-lease-action": "acquire", "x-ms-lease-duration": "60" });
    const err = await b.lock("promote rel-x").catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ReleaseLockedError);
    expect((err as Error).message).to.match(/^the azure release state is locked by \S+ \(pid \d+, release, since \d{4}-/);
    await lock.release();
    const again = await b.lock("promote rel-x");
    await again.release();
  });

  it("contract test: a lock held by a CI run names the run: an Azure DevOps build id, or a GitHub Actions run", async () => {
    const ws = clientsFor(fake, "int");
    const store = () => new BlobReleaseStore({ container: () => ws.container() });
    const saved = { build: process.env.BUILD_BUILDID, run: process.env.GITHUB_RUN_ID };
    try {
      for (const [env, shown] of [
        [{ BUILD_BUILDID: "4711" }, "build 4711"],
        [{ GITHUB_RUN_ID: "987654" }, "build github-run-987654"],
      ] as const) {
        delete process.env.BUILD_BUILDID;
        delete process.env.GITHUB_RUN_ID;
        Object.assign(process.env, env);
        const lock = await store().lock("release");
        const err = await store()
          .lock("promote rel-x")
          .catch((e: unknown) => e);
        expect((err as Error).message).to.include(`, ${shown})`);
        await lock.release();
      }
    } finally {
      for (const [k, v] of [
        ["BUILD_BUILDID", saved.build],
        ["GITHUB_RUN_ID", saved.run],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });
});
