import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { readReleaseConfig } from "../../../../driver/config/releaseConfig.js";
import { ReleaseStateMachine } from "../../../../driver/core/releaseStateMachine.js";
import type { Target } from "../../../../driver/core/ports.js";
import { createAzureTarget } from "../../../../driver/targets/azure/index.js";
import { FakeCredential } from "../support/fakeCredential.js";
import { FakeStackUpdater, RecordingProgress, settingsFor, fakeAzureEachTest, RELEASE_KEYS } from "../support/harness.js";

describe("azure target release chain (contract test against the loopback Azure fakes)", function () {
  this.timeout(30_000);
  const az = fakeAzureEachTest({ endpointKeys: RELEASE_KEYS });

  async function machine(updater: FakeStackUpdater, progress = new RecordingProgress()) {
    const base = await readReleaseConfig(az.repo.root);
    // profile-int runs against the fake INT endpoint: one short level keeps the suite fast
    const config = { ...base, profile: { ...base.profile, concurrency: [1], secondsPerLevel: 0.2, warmupSeconds: 0 } };
    const t = await createAzureTarget(
      { repoRoot: az.repo.root, config, progress },
      { credential: new FakeCredential(), updater, settings: settingsFor(az.fake), blobUrlFor: (a) => `${az.fake.url}/${a}` },
    );
    const target: Target = { ...t, tests: { runUnitTests: async () => ({ passed: 12, failed: 0, durationMs: 10, outputTail: "12 passed" }) } };
    return new ReleaseStateMachine({ target, config, progress });
  }
  const stackServing = (stack: string) =>
    (parse(readFileSync(path.join(az.repo.root, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, { model: string; deployments: unknown }> })
      .config["mlops:serving"]!;

  it("contract test: release trains once on Azure ML, registers, deploys INT by stack edit + up, holds; approve + promote reach PROD with the same artifact and no retraining", async () => {
    const updater = new FakeStackUpdater(az.repo.root, az.fake);
    const progress = new RecordingProgress();
    const m = await machine(updater, progress);
    const r = await m.start();
    expect(r.state, JSON.stringify(r.steps)).to.equal("awaiting-approval");
    expect(r.model).to.deep.include({ name: "diabetes-ridge", version: "1" });
    expect(stackServing("int")).to.deep.include({ model: "diabetes-ridge", deployments: { blue: { version: 1, weight: 100 } } });
    expect(updater.ups).to.deep.equal(["int", "int"]); // a new deployment takes traffic on the second up
    expect(r.validations.int).to.deep.include({ healthy: true, predictions: 2 });
    expect(r.deployments.int!.scoringUri).to.equal(`${az.fake.url}/score/int`);
    const scoring = az.fake.requests.filter((q) => q.path === "/score/int");
    expect(r.steps["profile-int"].status).to.equal("succeeded");
    expect(r.profile!.run.url).to.equal(`${az.fake.url}/score/int`);
    expect(r.profile!.run.levels[0]!.requests).to.be.greaterThan(0);
    expect(scoring.length).to.be.greaterThan(r.profile!.run.levels[0]!.requests); // the validation request, then the profile's
    expect(scoring.every((q) => q.headers.authorization === "Bearer int-key")).to.equal(true);
    expect(JSON.stringify(r)).to.not.include("int-key");
    expect(progress.lines.join("\n")).to.not.include("int-key"); // the endpoint key never reaches progress

    // a separate CI run (a new machine, a new process) reads the record from blob storage and approves
    const m2 = await machine(updater);
    await m2.approve(r.id, "alice@contoso.com");
    const promoted = await (await machine(updater)).promote(r.id);
    expect(promoted.state).to.equal("released");
    expect(promoted.deployments.prod).to.deep.include({ modelVersion: "1", digest: r.model!.digest });
    expect(stackServing("prod")).to.deep.include({ model: "diabetes-ridge", deployments: { blue: { version: 1, weight: 100 } } });
    expect(az.fake.requests.filter((q) => q.method === "PUT" && q.path.includes("/jobs/"))).to.have.length(1); // no retraining
    expect(az.fake.requests.some((q) => q.method === "PUT" && q.path.includes("/workspaces/ws-prod/models/diabetes-ridge/versions/1"))).to.equal(true);
    const container = az.fake.requests.filter((q) => q.method === "PUT" && /\/workspaces\/ws-int\/models\/diabetes-ridge$/.test(q.path)).pop()!;
    expect((container.body as { properties: { tags: Record<string, string> } }).properties.tags["mlops.champion"]).to.equal("1");
  });

  it("contract test: a second release of unchanged code reuses the completed job and the registered version and leaves INT alone", async () => {
    const updater = new FakeStackUpdater(az.repo.root, az.fake);
    const first = await (await machine(updater)).start();
    const upsBefore = updater.ups.length;
    const second = await (await machine(updater)).start();
    expect(second.state).to.equal("awaiting-approval");
    expect(second.training).to.deep.include({ runId: first.training!.runId, reused: true });
    expect(second.model!.version).to.equal("1");
    expect(second.steps["deploy-int"].detail).to.match(/^no change: blue already serves diabetes-ridge v1/);
    expect(updater.ups.length).to.equal(upsBefore);
    expect(az.fake.requests.filter((q) => q.method === "PUT" && q.path.includes("/jobs/"))).to.have.length(1);
  });

  it("contract test: a failed training job fails the release at train with the job's portal link, resumable", async () => {
    az.fake.jobScript = () => ({ statuses: ["Running", "Failed"], error: "data.txt: line 3: expected 11 columns" });
    const r = await (await machine(new FakeStackUpdater(az.repo.root, az.fake))).start().catch((e: unknown) => e);
    expect((r as Error).message).to.match(
      /^training job mlops-train-\S+ ended Failed: UserError: data\.txt: line 3: expected 11 columns; logs: https:\/\/ml\.azure\.com\/runs\//,
    );
  });
});

describe("azure deploy decision source", () => {
  it("uses the stack's servedModel output (what the last up applied) over a stack file that lags behind", async () => {
    const { servedFromOutputs } = await import("../../../../driver/targets/azure/azureEnvironments.js");
    expect(servedFromOutputs({ servedModel: { name: "m", deployments: { blue: { version: "3", weight: 100 } } } })).to.deep.equal({
      model: "m",
      deployments: { blue: { version: "3", weight: 100 } },
    });
    expect(servedFromOutputs({})).to.equal(undefined);
    expect(servedFromOutputs({ servedModel: { name: "m", deployments: { blue: { version: "3" } } } })).to.equal(undefined);
  });
});
