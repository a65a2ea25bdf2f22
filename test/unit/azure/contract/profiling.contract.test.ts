import { expect } from "chai";
import { readReleaseConfig } from "../../../../driver/config/releaseConfig.js";
import { EnvironmentError } from "../../../../driver/core/errors.js";
import type { DeploymentRecord } from "../../../../driver/core/release.js";
import { NO_RESOURCE_FIGURES } from "../../../../driver/targets/azure/azureProfiling.js";
import { createAzureTarget } from "../../../../driver/targets/azure/index.js";
import { FakeCredential } from "../support/fakeCredential.js";
import { FakeStackUpdater, RecordingProgress, settingsFor, fakeAzureEachTest } from "../support/harness.js";

describe("azure profiling (contract test against the loopback fake scoring endpoint)", function () {
  this.timeout(20_000);
  const az = fakeAzureEachTest({ endpointKeys: { int: "int-secret-key-123" } });

  async function target(progress: RecordingProgress) {
    const base = await readReleaseConfig(az.repo.root);
    const config = { ...base, profile: { ...base.profile, concurrency: [1, 2], secondsPerLevel: 0.4, warmupSeconds: 0 } };
    return createAzureTarget(
      { repoRoot: az.repo.root, config, progress },
      {
        credential: new FakeCredential(),
        updater: new FakeStackUpdater(az.repo.root, az.fake),
        settings: settingsFor(az.fake),
        blobUrlFor: (a) => `${az.fake.url}/${a}`,
      },
    );
  }
  const record = (scoringUri: string): DeploymentRecord => ({
    stack: "int",
    modelName: "diabetes-ridge",
    modelVersion: "1",
    digest: "d".repeat(64),
    scoringUri,
    deployedAt: "",
    detail: "",
  });

  it("contract test: loads the stack's scoringUri with the endpoint key, records p50/p95/p99, throughput and error rate per level, keeps PROD's requests/limits and never shows the key", async () => {
    const progress = new RecordingProgress();
    const t = await target(progress);
    const report = await t.profiling!.profile("int", record(`${az.fake.url}/score/int`), progress);

    expect(report.run.url).to.equal(`${az.fake.url}/score/int`);
    expect(report.run.levels.map((l) => l.concurrency)).to.deep.equal([1, 2]);
    for (const l of report.run.levels) {
      expect(l.requests, JSON.stringify(l)).to.be.greaterThan(5);
      expect(l.errorRate).to.equal(0);
      expect(l.throughputRps).to.be.greaterThan(0);
      expect(l.p50Ms).to.be.greaterThan(0);
      expect(l.p99Ms).to.be.at.least(l.p95Ms);
      expect(l.p95Ms).to.be.at.least(l.p50Ms);
      expect(l.resources).to.equal(undefined);
    }
    const scoring = az.fake.requests.filter((q) => q.path === "/score/int");
    const answered = report.run.levels.reduce((n, l) => n + l.requests, 0);
    expect(scoring.length).to.be.within(answered, answered + 6); // requests in flight when a level stops reach the server uncounted
    expect(scoring.every((q) => q.headers.authorization === "Bearer int-secret-key-123")).to.equal(true);
    expect(az.fake.requests.every((q) => q.path === "/score/int" || !q.path.startsWith("/score/"))).to.equal(true);

    const rec = report.recommendation;
    expect(rec.feasible).to.equal(true);
    expect(rec.requests).to.deep.equal({ cpu: "500m", memory: "1Gi" });
    expect(rec.limits).to.deep.equal({ cpu: "1", memory: "1536Mi" }); // Pulumi.prod.yaml's, kept
    expect(rec.reasoning).to.include(NO_RESOURCE_FIGURES);
    expect(rec.reasoning.join("\n")).to.include("cpu and memory were not measured (remote endpoint)");
    expect(JSON.stringify(report)).to.not.include("int-secret-key-123");
    expect(progress.lines.join("\n")).to.not.include("int-secret-key-123");
  });

  it("contract test: refuses a deployment record whose scoring URI is not the stack's endpoint, sending it nothing", async () => {
    const progress = new RecordingProgress();
    const t = await target(progress);
    const err = await t.profiling!.profile("int", record("https://127.0.0.1:9/score/elsewhere"), progress).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EnvironmentError);
    expect((err as Error).message).to.match(
      /^the int deployment record names https:\/\/127\.0\.0\.1:9 but the stack's endpoint is https:\/\/127\.0\.0\.1:\d+; only the stack's own endpoint is profiled/,
    );
    expect(az.fake.requests.filter((q) => q.path.startsWith("/score/"))).to.have.length(0);
  });

  it("contract test: a level the endpoint answers with errors breaks the SLO and nothing is recommended", async () => {
    az.fake.scoring = () => ({ status: 503, body: { message: "upstream busy" } });
    const progress = new RecordingProgress();
    const t = await target(progress);
    const report = await t.profiling!.profile("int", record(`${az.fake.url}/score/int`), progress);
    expect(report.run.levels).to.have.length(1);
    expect(report.run.levels[0]!.errorRate).to.equal(1);
    expect(report.recommendation.feasible).to.equal(false);
    expect(report.recommendation.reasoning.at(-1)).to.equal(NO_RESOURCE_FIGURES);
  });
});
