import { expect } from "chai";
import { appendFileSync } from "node:fs";
import path from "node:path";
import { readReleaseConfig } from "../../../../driver/config/releaseConfig.js";
import type { ShadowConfig } from "../../../../driver/config/profileRolloutConfig.js";
import { DeploymentError } from "../../../../driver/core/errors.js";
import type { Target } from "../../../../driver/core/ports.js";
import { ReleaseStateMachine } from "../../../../driver/core/releaseStateMachine.js";
import { rollbackStack } from "../../../../driver/rollout/rollbackStack.js";
import { DeploymentProbes } from "../../../../driver/targets/azure/deploymentProbes.js";
import { endpointAuth } from "../../../../driver/targets/azure/endpointAuth.js";
import { createAzureTarget } from "../../../../driver/targets/azure/index.js";
import { FakeCredential } from "../support/fakeCredential.js";
import { clientsFor, FakeStackUpdater, RecordingProgress, settingsFor, fakeAzureEachTest } from "../support/harness.js";

const SMOKE = { payload: { data: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] }, prediction_range: [12.5, 519] as [number, number] };

describe("azure staged PROD rollout (contract test against the loopback Azure fakes)", function () {
  this.timeout(30_000);
  const az = fakeAzureEachTest({ endpointKeys: { int: "int-key", prod: "prod-secret-key" } });

  async function target(updater: FakeStackUpdater, progress = new RecordingProgress(), shadow?: Partial<ShadowConfig>): Promise<Target> {
    const base = await readReleaseConfig(az.repo.root);
    const rollout = { ...base.rollout, observeSeconds: 0.25, probeRps: 40, minRequests: 4 };
    const config = { ...base, rollout: shadow ? { ...rollout, shadow: { ...rollout.shadow, ...shadow } } : rollout };
    const t = await createAzureTarget(
      { repoRoot: az.repo.root, config, progress },
      { credential: new FakeCredential(), updater, settings: settingsFor(az.fake), blobUrlFor: (a) => `${az.fake.url}/${a}` },
    );
    return { ...t, tests: { runUnitTests: async () => ({ passed: 1, failed: 0, durationMs: 1, outputTail: "1 passed" }) } };
  }
  async function releaseToProd(updater: FakeStackUpdater, progress = new RecordingProgress(), shadow?: Partial<ShadowConfig>): Promise<string> {
    const t = await target(updater, progress, shadow);
    const config = await readReleaseConfig(az.repo.root);
    const m = new ReleaseStateMachine({ target: t, config: { ...config, profile: { ...config.profile, enabled: false } }, progress });
    const r = await m.start();
    await m.approve(r.id, "alice@contoso.com");
    await m.promote(r.id);
    return r.id;
  }
  /** a second, better model: changed code (new job), better metrics (passes the gate against v1) */
  function nextModel(): void {
    appendFileSync(path.join(az.repo.root, "ml", "train.py"), "\n# v2\n");
    az.fake.jobScript = () => ({ statuses: ["Running", "Completed"], metrics: { rmse: 50, mae: 40, r2: 0.5 } });
  }
  const prodEdits = (u: FakeStackUpdater) => u.edits.filter((e) => e.startsWith("prod "));
  const prodUps = (u: FakeStackUpdater) => u.ups.filter((s) => s === "prod").length;

  it("contract test: v2 reaches PROD in steps 10 -> 50 -> 100 (one up each after green is created at 0), recorded on the release; 'mlops rollback prod' flips back to blue with one up and v1 is champion again", async () => {
    const updater = new FakeStackUpdater(az.repo.root, az.fake);
    await releaseToProd(updater);
    expect(prodEdits(updater)).to.deep.equal(["prod blue=v1@100"]);
    const upsAfterV1 = prodUps(updater);

    nextModel();
    const progress = new RecordingProgress();
    const id2 = await releaseToProd(updater, progress);
    expect(prodEdits(updater).slice(1)).to.deep.equal([
      "prod blue=v1@100 green=v2@0",
      "prod blue=v1@90 green=v2@10",
      "prod blue=v1@50 green=v2@50",
      "prod blue=v1@0 green=v2@100",
    ]);
    expect(prodUps(updater) - upsAfterV1).to.equal(4);
    const t = await target(updater);
    const r2 = await t.store.load(id2);
    expect(r2.state).to.equal("released");
    const ro = r2.deployments.prod!.rollout!;
    expect(ro).to.deep.include({ from: "blue", to: "green", fromVersion: "1", toVersion: "2", outcome: "completed" });
    expect(ro.steps.map((s) => [s.percent, s.passed])).to.deep.equal([
      [0, true],
      [10, true],
      [50, true],
      [100, true],
    ]);
    expect(ro.steps.slice(1).every((s) => s.requests >= 4 && s.errors === 0)).to.equal(true);
    expect(r2.deployments.prod!.previous).to.deep.include({ modelVersion: "1" });
    const probes = az.fake.requests.filter((q) => q.path === "/score/prod");
    expect(probes.every((q) => q.headers.authorization === "Bearer prod-secret-key")).to.equal(true);
    expect(probes.filter((q) => q.headers["azureml-model-deployment"] === "green").length).to.be.greaterThan(10);
    expect(probes.some((q) => q.headers["azureml-model-deployment"] === undefined)).to.equal(true); // through the endpoint's split too
    expect(progress.lines.join("\n")).to.not.include("prod-secret-key");

    const upsBefore = prodUps(updater);
    const rb = await rollbackStack(t, "prod", new RecordingProgress());
    expect(rb.to.version).to.equal("1");
    expect(prodEdits(updater).at(-1)).to.equal("prod blue=v1@100 green=v2@0");
    expect(prodUps(updater) - upsBefore).to.equal(1);
    expect((await t.registry.champion("diabetes-ridge"))?.version).to.equal("1");
  });

  it("contract test: errors of the new deployment at the canary roll PROD back to blue (one more up), the release fails with the reason, v1 stays champion", async () => {
    const updater = new FakeStackUpdater(az.repo.root, az.fake);
    await releaseToProd(updater);
    nextModel();
    let greenCalls = 0;
    az.fake.scoring = (stack, body, deployment) =>
      stack === "prod" && deployment === "green" && ++greenCalls > 1 // healthy for the pre-check, then failing
        ? { status: 500, body: { message: "model crashed" } }
        : { status: 200, body: { predictions: ((body as { data?: unknown[] }).data ?? []).map(() => 150.5) } };
    const upsBefore = prodUps(updater);
    const err = await releaseToProd(updater).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DeploymentError);
    expect((err as Error).message).to.match(
      /^prod rollout of diabetes-ridge v2 rolled back: step 10% failed: unhealthy: green: scoring request to https:\/\/127\.0\.0\.1:\d+ answered HTTP 500: .*; error rate 100% \(\d+\/\d+\) > 1%; all traffic back on blue \(v1\)$/,
    );
    expect(prodEdits(updater).slice(-3)).to.deep.equal(["prod blue=v1@100 green=v2@0", "prod blue=v1@90 green=v2@10", "prod blue=v1@100 green=v2@0"]);
    expect(prodUps(updater) - upsBefore).to.equal(3);
    expect(az.fake.traffic.get("prod")).to.deep.equal({ blue: 100 });
    const t = await target(updater);
    expect((await t.registry.champion("diabetes-ridge"))?.version).to.equal("1");
    const failed = (await t.store.list()).find((r) => r.state === "failed")!;
    expect(failed.steps["deploy-prod"].error?.message).to.equal((err as Error).message);
  });

  const SHADOW: Partial<ShadowConfig> = { enabled: true, percent: 50, seconds: 0.5, minRequests: 5 };
  const predictions = (body: unknown, v: number) => ({ status: 200, body: { predictions: ((body as { data?: unknown[] }).data ?? []).map(() => v) } });

  it("contract test: with rollout.shadow on, a new deployment that errs on the paired probes is stopped in shadow: green never gets a weight above 0, the release fails, v1 stays champion", async () => {
    const updater = new FakeStackUpdater(az.repo.root, az.fake);
    await releaseToProd(updater);
    nextModel();
    const seenBefore = az.fake.requests.length;
    let greenCalls = 0;
    az.fake.scoring = (stack, body, deployment) =>
      stack === "prod" && deployment === "green" && ++greenCalls > 2 ? { status: 500, body: { message: "model crashed" } } : predictions(body, 150.5);
    const progress = new RecordingProgress();
    const err = await releaseToProd(updater, progress, SHADOW).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DeploymentError);
    expect((err as Error).message).to.match(
      /^prod rollout of diabetes-ridge v2 stopped in shadow, no user traffic: shadow of 50% for 0\.5s failed before any user traffic: error rate \d+(\.\d)?% \(\d+\/10\) > 1%; (only \d mirrored request\(s\) could be compared \(need 5 to judge\); )?all traffic stays on blue \(v1\)$/,
    );
    expect(prodEdits(updater).slice(1), "no edit gives green traffic").to.satisfy((edits: string[]) => edits.every((e) => e.endsWith("green=v2@0")));
    expect(az.fake.traffic.get("prod")).to.deep.equal({ blue: 100 });
    const scored = az.fake.requests.slice(seenBefore).filter((q) => q.path === "/score/prod");
    expect(
      scored.every((q) => q.headers["azureml-model-deployment"] !== undefined),
      "shadow probes name their deployment",
    ).to.equal(true);
    expect(scored.filter((q) => q.headers["azureml-model-deployment"] === "blue")).to.have.length(20);
    expect(scored.filter((q) => q.headers["azureml-model-deployment"] === "green")).to.have.length(11); // the pre-check, then 10 copies
    const t = await target(updater);
    expect((await t.registry.champion("diabetes-ridge"))?.version).to.equal("1");
    const failed = (await t.store.list()).find((r) => r.state === "failed")!;
    expect(failed.failedRollouts!.at(-1)!.shadow).to.deep.include({ passed: false, mirrored: 10, to: "green", from: "blue" });
    expect(failed.events.some((e) => e.event === "shadow-failed")).to.equal(true);
    expect(progress.lines.join("\n")).to.not.include("prod-secret-key");
  });

  it("contract test: a new deployment whose answers agree with the serving one passes the shadow phase and goes on to 10 -> 50 -> 100", async () => {
    const updater = new FakeStackUpdater(az.repo.root, az.fake);
    await releaseToProd(updater);
    nextModel();
    az.fake.scoring = (_s, body, deployment) => predictions(body, deployment === "green" ? 151 : 150.5);
    const id = await releaseToProd(updater, new RecordingProgress(), SHADOW);
    const r = await (await target(updater)).store.load(id);
    expect(r.state).to.equal("released");
    const ro = r.deployments.prod!.rollout!;
    expect(ro.shadow).to.deep.include({ passed: true, mirrored: 10, compared: 10, errors: 0, disagreements: 0, maxAbsDiff: 0.5 });
    expect(ro.steps.map((x) => [x.percent, x.passed])).to.deep.equal([
      [0, true],
      [10, true],
      [50, true],
      [100, true],
    ]);
    expect(az.fake.traffic.get("prod")).to.deep.equal({ green: 100 });
  });

  it("contract test: probes send the smoke request straight to the new deployment and through the split; endpoint answers naming no deployment count against it only when they fail", async () => {
    az.fake.traffic.set("prod", { blue: 50, green: 50 });
    az.fake.scoring = (_s, body, deployment) =>
      deployment === "green" ? { status: 200, body: { predictions: [100] } } : { status: 503, body: { message: "busy" } };
    const auth = await endpointAuth("prod", clientsFor(az.fake, "prod"), new FakeCredential());
    const probes = new DeploymentProbes({ scoringUri: `${az.fake.url}/score/prod`, auth, smoke: SMOKE, deployment: "green", rps: 40 });
    const h = await probes.health();
    expect(h.ok).to.equal(true);
    expect(h.detail).to.match(/^green: 1 predictions within \[12\.5, 519\] in \d+ ms$/);
    expect(az.fake.requests.at(-1)!.headers["azureml-model-deployment"]).to.equal("green");
    await probes.observe(0.5); // 20 requests: 10 direct, 10 through the split (5 to green, 5 to blue)
    expect(probes.counters()).to.deep.include({ requests: 15, ok: 15, serverErrors: 0, failed: 0 });
    expect(probes.seen).to.deep.include({ direct: 10, viaEndpoint: 10, viaEndpointToOthers: 5, unattributedFailures: 0 });

    az.fake.namesDeployment = false; // an endpoint that does not say who answered
    const blind = new DeploymentProbes({ scoringUri: `${az.fake.url}/score/prod`, auth, smoke: SMOKE, deployment: "green", rps: 40 });
    await blind.observe(0.5);
    expect(blind.counters()).to.deep.include({ requests: 15, ok: 10, serverErrors: 5 });
    expect(blind.seen.unattributedFailures).to.equal(5);
  });
});
