/**
 * The staged Azure PROD rollout against the real Pulumi engine (docs/azure-target.md, "Staged rollout"): the
 * azure environments port WITH the `rollout` setting, inside a ReleaseStateMachine, over the same engine set-up
 * as pulumiEngine.test.ts (pulumiEngineFixture.ts: file backend, provider-free fixture with the real
 * `mlops:serving` keys and the real planTraffic, loopback FakeAzure).
 *
 * Each step is a weight edit of Pulumi.prod.yaml plus one real `pulumi up`; the health and error-rate probes
 * (DeploymentProbes) go to the loopback endpoint, which answers from what the engine applied: a request with the
 * `azureml-model-deployment` header goes to that deployment, one without is spread by the stack's last `traffic`
 * output (FakeAzure's weighted round-robin), and each answer names the deployment that served it.
 *
 * The cases share one pair of stacks and run in order: v1 goes straight in (nothing to stage from), v2 is
 * rolled out 10 -> 50 -> 100, `mlops rollback prod` flips back to v1 in one `up`, and v3, whose prod
 * deployment fails once it takes traffic, is rolled back at 10 %.
 */
import { expect } from "chai";
import type { ReleaseConfig } from "../../driver/config/releaseConfig.js";
import type { RolloutConfig } from "../../driver/config/profileRolloutConfig.js";
import { RolloutRolledBackError } from "../../driver/core/errors.js";
import type { Target } from "../../driver/core/ports.js";
import type { Release } from "../../driver/core/release.js";
import { readReleaseConfig } from "../../driver/config/releaseConfig.js";
import { ReleaseStateMachine } from "../../driver/core/releaseStateMachine.js";
import { rollbackStack } from "../../driver/rollout/rollbackStack.js";
import { servedFromOutputs } from "../../driver/targets/azure/azureEnvironments.js";
import { FakeTarget } from "../support/fakeTarget.js";
import { RecordingProgress, REPO_ROOT } from "./localRepoFixture.js";
import { engineTarget, MODEL, SKIP_ENGINE as SKIP, startEngineFixture, type EngineFixture } from "./pulumiEngineFixture.js";

describe(`azure staged PROD rollout with the real engine (10 -> 50 -> 100, probes, rollback)${SKIP ? " [skipped: MLOPS_SKIP_PULUMI_ENGINE=1]" : ""}`, function () {
  this.timeout(600_000);
  let f: EngineFixture;
  let config: ReleaseConfig;
  let rollout: RolloutConfig;
  let fake: FakeTarget;
  let target: Target;
  const progress = new RecordingProgress();
  const machine = () => new ReleaseStateMachine({ target, config, progress });
  /** Which deployment answered each scoring request, its version and its weight in the applied traffic. */
  const scored: { stack: string; deployment: string; version: string; weight: number }[] = [];
  /** `${stack} v${version}`: a deployment of that version answers 500 whenever the stack routes it traffic. */
  const failing = new Set<string>();

  /** The applied `traffic` output of each successful `up` of a stack since log index `from`. */
  const appliedTraffic = (stack: string, from: number) =>
    f.updater.appliedLog
      .slice(from)
      .filter((a) => a.stack === stack)
      .map((a) => a.outputs.traffic);
  const newRelease = (code: string, rmse: number) => {
    fake.fp = { ...fake.fp, codeDigest: code };
    fake.metrics = { rmse, mae: rmse - 10, r2: 0.45 + (54 - rmse) / 100 };
  };

  before(async function () {
    if (SKIP) this.skip();
    this.timeout(40 * 60_000); // a fresh machine builds the engine once (~17 min, docs/pulumi-engine.md)
    f = await startEngineFixture();
    const { azure, updater } = f;
    // The endpoint's traffic split is the `traffic` output of the stack's last update, i.e. the engine's.
    updater.onApplied = (stack, out) => azure.traffic.set(stack, { ...((out.traffic ?? {}) as Record<string, number>) });
    azure.scoring = (stack, body, deployment) => {
      const out = updater.applied.get(stack);
      if (!deployment || !out) return { status: 503, body: { message: `endpoint of ${stack}: no deployment takes traffic` } };
      const d = servedFromOutputs(out)?.deployments[deployment];
      if (!d) return { status: 404, body: { message: `endpoint of ${stack} has no deployment '${deployment}'` } };
      const weight = ((out.traffic ?? {}) as Record<string, number>)[deployment] ?? 0;
      if (failing.has(`${stack} v${d.version}`) && weight > 0) return { status: 500, body: { message: `${deployment} v${d.version}: model failed` } };
      scored.push({ stack, deployment, version: d.version, weight });
      return { status: 200, body: { predictions: ((body as { data?: unknown[] }).data ?? []).map(() => 150.5) } };
    };
    config = await readReleaseConfig(REPO_ROOT);
    // mlops.yaml's steps; short, well-probed observations: 0.5 s at 24 rps = 12 probes a step, 6 straight to the new deployment.
    rollout = { ...config.rollout, steps: [10, 50, 100], observeSeconds: 0.5, probeRps: 24, minRequests: 4, maxErrorRate: 0.01 };
    fake = new FakeTarget();
    target = engineTarget(f, fake, config, rollout);
  });

  after(async function () {
    if (SKIP || !f) return;
    await f.stop("staged rollout e2e");
  });

  it("v1 with nothing serving in prod goes straight to 100 % (nothing to stage from): two ups, no rollout record", async () => {
    const r = await machine().start();
    expect(r.state, JSON.stringify(r.steps)).to.equal("awaiting-approval");
    await machine().approve(r.id, "alice");
    const mark = f.updater.appliedLog.length;
    const released = await machine().promote(r.id);
    expect(released.state, JSON.stringify(released.steps)).to.equal("released");
    expect(appliedTraffic("prod", mark)).to.deep.equal([{}, { blue: 100 }]); // blue live, then its traffic
    expect(released.deployments.prod!.rollout).to.equal(undefined);
    expect(fake.championVersion).to.equal("1");
  });

  it("v2 is rolled out in prod 10 -> 50 -> 100 through real pulumi ups (green at 0 first), every step probed and checked, recorded on the release", async () => {
    newRelease("code2", 53);
    const r = await machine().start();
    expect(r.state, JSON.stringify(r.steps)).to.equal("awaiting-approval");
    await machine().approve(r.id, "alice");
    const [mark, prodUps, history, probes] = [f.updater.appliedLog.length, f.upsOf("prod"), (await f.stacks.prod.history()).length, scored.length];
    const started = Date.now();
    const released = await machine().promote(r.id);
    const ms = Date.now() - started;
    expect(released.state, JSON.stringify(released.steps)).to.equal("released");

    // One `up` per weight edit: green v2 created at 0 next to blue v1, then 10, 50, 100 (docs: 4 for a completed rollout).
    expect(f.upsOf("prod") - prodUps).to.equal(4);
    expect(appliedTraffic("prod", mark)).to.deep.equal([{ blue: 100 }, { blue: 90, green: 10 }, { blue: 50, green: 50 }, { green: 100 }]);
    expect(f.updater.appliedLog.slice(mark).map((a) => servedFromOutputs(a.outputs)!.deployments)).to.deep.equal([
      { blue: { version: "1", weight: 100 }, green: { version: "2", weight: 0 } },
      { blue: { version: "1", weight: 90 }, green: { version: "2", weight: 10 } },
      { blue: { version: "1", weight: 50 }, green: { version: "2", weight: 50 } },
      { blue: { version: "1", weight: 0 }, green: { version: "2", weight: 100 } },
    ]);
    const h = await f.stacks.prod.history();
    expect(h.length - history).to.equal(4);
    expect(h.slice(0, 4).map((e) => e.result)).to.deep.equal(["succeeded", "succeeded", "succeeded", "succeeded"]);
    expect(f.fileServing("prod").deployments).to.deep.equal({ blue: { version: 1, weight: 0 }, green: { version: 2, weight: 100 } });
    const out = await f.outputsOf("prod");
    expect(out.traffic).to.deep.equal({ green: 100 });
    expect(out.trafficConverged).to.equal(true);

    const ro = released.deployments.prod!.rollout!;
    expect(ro).to.deep.include({ from: "blue", to: "green", fromVersion: "1", toVersion: "2", outcome: "completed" });
    expect(ro.steps.map((s) => [s.percent, s.passed, s.healthy])).to.deep.equal([
      [0, true, true],
      [10, true, true],
      [50, true, true],
      [100, true, true],
    ]);
    for (const s of ro.steps.slice(1)) {
      expect(s.requests, s.detail).to.be.at.least(rollout.minRequests);
      expect(s.errors, s.detail).to.equal(0);
    }
    expect(released.deployments.prod).to.deep.include({ modelVersion: "2", previous: { modelVersion: "1", digest: fake.versions[0]!.digest } });
    expect(released.deployments.prod!.detail).to.match(/staged 10% -> 50% -> 100% in 4 pulumi up\(s\), every check passed/);
    // green v2 answered probes at each of its weights (0 for the pre-check), under the engine's traffic
    const green = scored.slice(probes).filter((s) => s.stack === "prod" && s.deployment === "green");
    expect([...new Set(green.map((s) => s.weight))]).to.deep.equal([0, 10, 50, 100]);
    expect(green.every((s) => s.version === "2")).to.equal(true);
    expect(scored.at(-1)).to.deep.include({ stack: "prod", deployment: "green", version: "2" }); // the validation after the rollout
    expect(fake.championVersion).to.equal("2");
    process.stderr.write(
      `    staged rollout e2e: promote v2 (copy, 4 ups, 3 x ${rollout.observeSeconds} s observed, validation) took ${(ms / 1000).toFixed(1)} s\n`,
    );
  });

  it("'mlops rollback prod' puts blue (v1, kept at weight 0) back to 100 with one up, validates it and crowns v1 again", async () => {
    const [mark, prodUps] = [f.updater.appliedLog.length, f.upsOf("prod")];
    const res = await rollbackStack(target, "prod", progress);
    expect(res.from).to.equal("2");
    expect(res.to.version).to.equal("1");
    expect(res.validation.healthy).to.equal(true);
    expect(f.upsOf("prod") - prodUps).to.equal(1);
    expect(appliedTraffic("prod", mark)).to.deep.equal([{ blue: 100 }]);
    expect(res.deployment.detail).to.match(/^rollback: blue serves diabetes-ridge v1 with weight 100/);
    expect(res.deployment.rollout).to.equal(undefined); // no staging on the way back
    expect(f.fileServing("prod").deployments).to.deep.equal({ blue: { version: 1, weight: 100 }, green: { version: 2, weight: 0 } });
    expect(scored.at(-1)).to.deep.include({ stack: "prod", deployment: "blue", version: "1" });
    expect(fake.championVersion).to.equal("1");
  });

  it("v3, whose prod deployment answers errors once it takes traffic, passes its pre-check at 0 %, fails at 10 % and is rolled back to 100/0; the release fails with the rollout recorded", async () => {
    failing.add(`prod v3`);
    newRelease("code3", 52);
    const r = await machine().start();
    expect(r.state, JSON.stringify(r.steps)).to.equal("awaiting-approval"); // int serves v3 fine
    await machine().approve(r.id, "alice");
    const [mark, prodUps] = [f.updater.appliedLog.length, f.upsOf("prod")];
    const err = await machine()
      .promote(r.id)
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RolloutRolledBackError);
    expect((err as Error).message).to.match(
      /^prod rollout of diabetes-ridge v3 rolled back: step 10% failed: unhealthy: green: .*error rate 100% .*; all traffic back on blue \(v1\)$/,
    );

    // green v3 at 0, then 10, then back to 0: three ups, and the engine routes everything to blue v1 again
    expect(f.upsOf("prod") - prodUps).to.equal(3);
    expect(appliedTraffic("prod", mark)).to.deep.equal([{ blue: 100 }, { blue: 90, green: 10 }, { blue: 100 }]);
    const out = await f.outputsOf("prod");
    expect(out.traffic).to.deep.equal({ blue: 100 });
    expect(out.servedModel).to.deep.equal({ name: MODEL, deployments: { blue: { version: "1", weight: 100 }, green: { version: "3", weight: 0 } } });
    expect(f.fileServing("prod").deployments).to.deep.equal({ blue: { version: 1, weight: 100 }, green: { version: 3, weight: 0 } });

    const saved: Release = await fake.store.load(r.id);
    expect(saved.state).to.equal("failed");
    expect(saved.steps["deploy-prod"].status).to.equal("failed");
    expect(saved.deployments.prod).to.equal(undefined);
    expect(saved.failedRollouts).to.have.length(1);
    const failed = saved.failedRollouts![0]!;
    expect(failed).to.deep.include({ stack: "prod", from: "blue", to: "green", fromVersion: "1", toVersion: "3", outcome: "rolled-back" });
    expect(failed.steps.map((s) => [s.percent, s.passed])).to.deep.equal([
      [0, true],
      [10, false],
    ]);
    expect(failed.steps[1]!.errors).to.be.greaterThan(0);
    expect(fake.championVersion).to.equal("1"); // unchanged
  });
});
