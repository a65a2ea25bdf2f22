/**
 * The azure target's Pulumi adapter against the real engine (issue #6): the `pulumi` CLI and Node.js language
 * host built into .tools/bin by scripts/build-pulumi.sh, a file backend and a passphrase secrets provider in a
 * temp dir, and the provider-free fixture test/fixtures/pulumi-serving (the real stacks' `mlops:serving` config
 * and outputs, the real two-phase traffic rule, a prod -> int StackReference that refuses unserved versions).
 *
 * Everything that deploys goes through the product code: AutomationStackUpdater + decideServing, and, for the
 * release, the azure target's own environments port (AzureEnvironments) inside a ReleaseStateMachine whose
 * other ports are the in-memory fakes of test/support/fakeTarget.ts. The Azure ML calls the environments port
 * makes beside Pulumi (previous-version lookup, the verified model copy to PROD, the endpoint key, the smoke
 * request to the stack's scoringUri output) go to the loopback FakeAzure of the azure contract tests.
 *
 * The cases share one pair of stacks and run in order (each builds on the state the previous one left).
 * MLOPS_SKIP_PULUMI_ENGINE=1 skips the file explicitly; otherwise a missing engine that cannot be built fails it.
 * MLOPS_E2E_VERBOSE=1 prints the engine output; MLOPS_E2E_KEEP=1 keeps the temp dir.
 */
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { readReleaseConfig, type ReleaseConfig } from "../../driver/config/releaseConfig.js";
import { ApprovalError, DeploymentError, EnvironmentError, ReleaseLockedError } from "../../driver/core/errors.js";
import type { Target } from "../../driver/core/ports.js";
import type { RegisteredModel, StackName } from "../../driver/core/release.js";
import { ReleaseStateMachine } from "../../driver/core/releaseStateMachine.js";
import { AutomationStackUpdater } from "../../driver/pulumi/automationStackUpdater.js";
import { decideServing } from "../../driver/pulumi/servingDecision.js";
import { sha256Hex } from "../../config/sha256.js";
import { servedFromOutputs } from "../../driver/targets/azure/azureEnvironments.js";
import { FakeTarget, silentProgress } from "../support/fakeTarget.js";
import type { FakeAzure } from "../unit/azure/support/fakeAzure.js";
import { RecordingProgress, REPO_ROOT } from "./localRepoFixture.js";
import {
  engineTarget,
  MODEL,
  seedIntWorkspace,
  SKIP_ENGINE as SKIP,
  startEngineFixture,
  type EngineFixture,
  type TimedUpdater,
} from "./pulumiEngineFixture.js";

describe(`azure target's Pulumi adapter with the real engine (file backend, passphrase, provider-free fixture)${SKIP ? " [skipped: MLOPS_SKIP_PULUMI_ENGINE=1]" : ""}`, function () {
  this.timeout(600_000);
  let f: EngineFixture;
  let workDir: string;
  let envVars: Record<string, string>;
  let azure: FakeAzure;
  let updater: TimedUpdater;
  let config: ReleaseConfig;
  let stacks: Record<StackName, Stack>;
  /** Which deployment answered each scoring request (from the outputs of the stack's last update). */
  const scored: { stack: string; deployment: string; version: string }[] = [];
  const progress = new RecordingProgress();

  const stackFile = (stack: StackName): string => f.stackFile(stack);
  const fileServing = (stack: StackName) => f.fileServing(stack);
  const outputsOf = (stack: StackName): Promise<Record<string, unknown>> => f.outputsOf(stack);
  const historyOf = async (stack: StackName) => stacks[stack].history();
  const upsOf = (stack: string): number => f.upsOf(stack);

  before(async function () {
    if (SKIP) this.skip();
    this.timeout(40 * 60_000); // a fresh machine builds the engine once (~17 min, docs/pulumi-engine.md)
    f = await startEngineFixture();
    ({ workDir, envVars, azure, updater, stacks } = f);
    // The endpoint answers like Azure ML's: an error while no deployment takes traffic, else the deployment
    // with the most traffic scores. "Traffic" is the `traffic` output of the stack's last update, i.e. the engine's.
    azure.scoring = (stack, body) => {
      const out = updater.applied.get(stack);
      const traffic = (out?.traffic ?? {}) as Record<string, number>;
      const active = Object.entries(traffic).sort((a, b) => b[1] - a[1])[0]?.[0];
      if (!active) return { status: 503, body: { message: `endpoint of ${stack}: no deployment takes traffic` } };
      const version = servedFromOutputs(out!)?.deployments[active]?.version ?? "?";
      scored.push({ stack, deployment: active, version });
      return { status: 200, body: { predictions: ((body as { data?: unknown[] }).data ?? []).map(() => 150.5) } };
    };
    config = await readReleaseConfig(REPO_ROOT);
  });

  after(async function () {
    if (SKIP || !f) return;
    await f.stop("engine e2e");
  });

  it("deploys model v1 to int through the adapter: config edit -> up -> v1 is live, a second up moves 100% of the traffic to it", async () => {
    const before = stackFile("int");
    const current = servedFromOutputs(await updater.outputs("int")) ?? (await updater.serving("int"));
    expect(current).to.deep.equal({ model: MODEL, deployments: {} });
    const decision = decideServing(current, MODEL, "1");
    expect(await updater.setServing("int", decision.serving)).to.equal(true);

    const firstUp = await updater.up("int", progress);
    const first = await updater.outputs("int");
    expect(firstUp.outputs, "the outputs up returns are what a read of the stack gives").to.deep.equal(first);
    expect(first.servedModel).to.deep.equal({ name: MODEL, deployments: { blue: { version: "1", weight: 100 } } });
    expect(first.traffic).to.deep.equal({}); // blue did not exist after the previous update: no traffic yet
    expect(first.trafficConverged).to.equal(false);

    const secondUp = await updater.up("int", progress);
    const second = await updater.outputs("int");
    expect(secondUp.outputs).to.deep.equal(second);
    expect(second.traffic).to.deep.equal({ blue: 100 });
    expect(second.trafficConverged).to.equal(true);
    expect(second.servedVersions).to.deep.equal(["1"]);
    expect(second.scoringUri).to.equal(`${azure.url}/score/int`);

    // The edit is in the temp copy's Pulumi.int.yaml, typed as `pulumi config set --path` types it, comments kept.
    expect(fileServing("int")).to.deep.include({ model: MODEL, deployments: { blue: { version: 1, weight: 100 } } });
    const after = stackFile("int");
    for (const line of before.split("\n").filter((l) => l.includes("#"))) expect(after).to.include(line);
    expect(after).to.match(/^encryptionsalt: /m); // written by `pulumi stack init`, kept by the edit
    // and the engine reads the edit back as config
    expect((await stacks.int.getConfig("mlops:serving.deployments.blue.version", true)).value).to.equal("1");
  });

  describe("the release core with the azure environments port over the real engine", () => {
    let fake: FakeTarget;
    let target: Target;
    let prodBaseline: { outputs: Record<string, unknown>; history: number; file: string };
    const machine = () => new ReleaseStateMachine({ target, config, progress });
    let releaseId = "";

    const prodSnapshot = async () => ({ outputs: await outputsOf("prod"), history: (await historyOf("prod")).length, file: stackFile("prod") });

    before(async function () {
      if (SKIP) this.skip();
      fake = new FakeTarget();
      // v1, deployed to int by hand above, is a version the registry already holds.
      const v1Bytes = Buffer.from("model v1, registered before this release");
      const v1: RegisteredModel = { name: MODEL, version: "1", digest: sha256Hex(v1Bytes), runId: "run-v1", metrics: { ...fake.metrics }, tags: {} };
      fake.versions.push(v1);
      seedIntWorkspace(azure, v1, v1Bytes);
      target = engineTarget(f, fake, config);
      prodBaseline = await prodSnapshot();
      expect(prodBaseline.history).to.equal(1); // the set-up `up`
    });

    it("start() ends awaiting-approval: int serves v2 on green (blue v1 kept at 0 for rollback), prod's stack untouched", async () => {
      const intUps = upsOf("int");
      const r = await machine().start();
      releaseId = r.id;
      expect(r.state, JSON.stringify(r.steps)).to.equal("awaiting-approval");
      expect(r.model).to.deep.include({ name: MODEL, version: "2" });
      expect(upsOf("int") - intUps).to.equal(2); // the new colour goes live, then takes the traffic

      const int = await outputsOf("int");
      expect(int.servedModel).to.deep.equal({ name: MODEL, deployments: { blue: { version: "1", weight: 0 }, green: { version: "2", weight: 100 } } });
      expect(int.traffic).to.deep.equal({ green: 100 });
      expect(int.trafficConverged).to.equal(true);
      expect(fileServing("int").deployments).to.deep.equal({ blue: { version: 1, weight: 0 }, green: { version: 2, weight: 100 } });
      expect(r.deployments.int).to.deep.include({
        modelVersion: "2",
        scoringUri: `${azure.url}/score/int`,
        previous: { modelVersion: "1", digest: fake.versions[0]!.digest },
      });
      expect(r.validations.int).to.deep.include({ healthy: true, predictions: 2 });
      const requests = azure.requests.filter((q) => q.path === "/score/int");
      expect(requests).to.have.length(1);
      expect(requests[0]!.headers.authorization).to.equal("Bearer int-key");
      expect(scored.at(-1)).to.deep.equal({ stack: "int", deployment: "green", version: "2" });

      expect(await prodSnapshot()).to.deep.equal(prodBaseline); // no update, same outputs, same stack file
      expect(upsOf("prod")).to.equal(0);
    });

    it("promote without an approval is refused and prod's stack stays untouched", async () => {
      const err = await machine()
        .promote(releaseId)
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ApprovalError);
      expect((err as Error).message).to.match(/is not approved; an approver listed in Pulumi\.prod\.yaml must run 'mlops approve/);
      expect(await prodSnapshot()).to.deep.equal(prodBaseline);
    });

    it("approve + promote: prod serves v2, its StackReference shows int served it, Pulumi.prod.yaml holds the edit", async () => {
      await machine().approve(releaseId, "alice");
      const r = await machine().promote(releaseId);
      expect(r.state, JSON.stringify(r.steps)).to.equal("released");
      expect(upsOf("prod")).to.equal(2);

      const prod = await outputsOf("prod");
      expect(prod.servedModel).to.deep.equal({ name: MODEL, deployments: { blue: { version: "2", weight: 100 } } });
      expect(prod.traffic).to.deep.equal({ blue: 100 });
      expect(prod.trafficConverged).to.equal(true);
      expect(prod.promotedFrom).to.deep.equal({ stack: "int", model: MODEL, version: "2", servedThere: ["1", "2"] });
      expect((await historyOf("prod")).length).to.equal(prodBaseline.history + 2);
      expect(fileServing("prod")).to.deep.include({ model: MODEL, deployments: { blue: { version: 2, weight: 100 } } });
      expect(stackFile("prod")).to.include("# The stack every version must have served in before this one may serve it.");

      expect(r.deployments.prod).to.deep.include({ modelVersion: "2", digest: r.model!.digest, scoringUri: `${azure.url}/score/prod` });
      expect(r.validations.prod).to.deep.include({ healthy: true, predictions: 2 });
      expect(scored.at(-1)).to.deep.equal({ stack: "prod", deployment: "blue", version: "2" });
      const copy = azure.requests.find((q) => q.method === "PUT" && q.path.endsWith(`/workspaces/mlops-prod-ws/models/${MODEL}/versions/2`));
      expect((copy?.body as { properties: { tags: Record<string, string> } }).properties.tags["mlops.copied_from"]).to.match(
        /mlops-int-ws\/models\/diabetes-ridge\/versions\/2$/,
      );
      expect(fake.championVersion).to.equal("2");
      expect(fake.counts.train).to.equal(1);
    });

    it("a second version shifts blue/green in int (two ups: the idle colour is re-versioned) and prod (two ups: a new colour), recording the version it replaces for rollback", async () => {
      fake.fp = { ...fake.fp, codeDigest: "code2" };
      fake.metrics = { rmse: 53, mae: 43, r2: 0.46 };
      const baseline = await prodSnapshot();
      const [intUps, prodUps] = [upsOf("int"), upsOf("prod")];
      const r = await machine().start();
      expect(r.state, JSON.stringify(r.steps)).to.equal("awaiting-approval");
      expect(r.model!.version).to.equal("3");
      // blue still exists in int but is re-versioned (v1 -> v3): it gets weight 0 in the update that changes its
      // model and the traffic on the convergence update (audit item 2: the endpoint's traffic changes before the deployment)
      expect(upsOf("int") - intUps).to.equal(2);
      expect(r.deployments.int).to.deep.include({ modelVersion: "3", previous: { modelVersion: "2", digest: fake.versions[1]!.digest } });
      expect((await outputsOf("int")).servedModel).to.deep.equal({
        name: MODEL,
        deployments: { blue: { version: "3", weight: 100 }, green: { version: "2", weight: 0 } },
      });
      expect(await prodSnapshot()).to.deep.equal(baseline);

      await machine().approve(r.id, "Bob");
      const released = await machine().promote(r.id);
      expect(released.state).to.equal("released");
      expect(upsOf("prod") - prodUps).to.equal(2); // green is new in prod: live after the first update, traffic after the second
      expect(released.deployments.prod).to.deep.include({ modelVersion: "3", previous: { modelVersion: "2", digest: fake.versions[1]!.digest } });
      const prod = await outputsOf("prod");
      expect(prod.servedModel).to.deep.equal({ name: MODEL, deployments: { blue: { version: "2", weight: 0 }, green: { version: "3", weight: 100 } } });
      expect(prod.traffic).to.deep.equal({ green: 100 });
      expect(prod.promotedFrom).to.deep.include({ version: "3", servedThere: ["1", "2", "3"] });
      expect(fileServing("prod").deployments).to.deep.equal({ blue: { version: 2, weight: 0 }, green: { version: 3, weight: 100 } });
      expect(scored.slice(-2)).to.deep.equal([
        { stack: "int", deployment: "blue", version: "3" },
        { stack: "prod", deployment: "green", version: "3" },
      ]);
      expect(fake.championVersion).to.equal("3");
    });
  });

  // Mocha runs a suite's own tests before its child suites: these come after the release on purpose.
  describe("failures from the real engine, as the adapter reports them", () => {
    before(function () {
      if (SKIP) this.skip();
    });

    it("the engine itself refuses a prod version int has not served (the program throws; outputs and traffic stay as they were)", async () => {
      const file = stackFile("prod");
      const outputs = await outputsOf("prod");
      const history = (await historyOf("prod")).length;
      const current = servedFromOutputs(outputs)!;
      await updater.setServing("prod", decideServing(current, MODEL, "9").serving);
      const err = await updater.up("prod", silentProgress).catch((e: unknown) => e);
      writeFileSync(path.join(workDir, "Pulumi.prod.yaml"), file);
      expect(err).to.be.instanceOf(DeploymentError);
      const message = (err as Error).message;
      expect(message).to.not.include("\n");
      expect(message).to.match(
        /^pulumi up on stack 'prod' failed: stack 'prod' refuses diabetes-ridge v9 \(deployment blue\): stack 'int' has not served it \(it served diabetes-ridge v1, v2, v3\)/,
      );
      expect(await outputsOf("prod")).to.deep.equal(outputs);
      const h = await historyOf("prod");
      expect(h.length).to.equal(history + 1);
      expect(h[0]!.result).to.equal("failed");
    });

    it("a second concurrent up on the same stack is a ReleaseLockedError with a one-line message; the first one completes", async () => {
      const other = new AutomationStackUpdater({ repoRoot: workDir, envVars });
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      const first = updater.up("int", { ...silentProgress, info: (line: string) => /Updating \(int\)/.test(line) && started() });
      await running; // the first update holds the stack's lock now
      const err = await other.up("int", silentProgress).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ReleaseLockedError);
      expect((err as Error).message).to.equal(
        "stack 'int' is locked by another update (pulumi up); wait for it to finish, or run 'pulumi cancel --stack int' if that update is gone",
      );
      expect((await first).result).to.equal("succeeded");
    });

    it("a stack that does not exist in the backend is the adapter's one-line EnvironmentError naming the fix", async () => {
      const err = await updater.up("staging", silentProgress).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(EnvironmentError);
      expect((err as Error).message).to.equal(
        "Pulumi stack 'staging' does not exist in the configured backend; create it with 'pulumi stack init staging' and 'pulumi up --stack staging' (see docs/azure-target.md)",
      );
    });
  });
});
