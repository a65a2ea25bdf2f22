import { expect } from "chai";
import { parseReleaseConfig } from "../../../../driver/config/releaseConfig.js";
import { DeploymentError } from "../../../../driver/core/errors.js";
import { decideServing, type ServingConfig } from "../../../../driver/pulumi/servingDecision.js";
import { emptyCounters, type UpstreamCounters } from "../../../../driver/router/routerTypes.js";
import type { DeploymentProbe } from "../../../../driver/targets/azure/azureRolloutControl.js";
import { applyServing } from "../../../../driver/targets/azure/servingUpdate.js";
import { stagedFrom, stagedRollout } from "../../../../driver/targets/azure/azureStagedRollout.js";
import { RecordingProgress } from "../support/harness.js";
import { MemoryStackUpdater } from "../support/memoryStackUpdater.js";

/** Probe fake: per observation, `perStep` requests of which `errorsAt(percent)` fail; health scripted. */
class ScriptedProbe implements DeploymentProbe {
  private c: UpstreamCounters = emptyCounters();
  readonly calls: string[] = [];
  constructor(private readonly script: { requests?: (n: number) => number; errors?: (n: number) => number; healthy?: (n: number) => boolean } = {}) {}
  private observations = 0;
  private healthChecks = 0;
  async health() {
    const ok = this.script.healthy?.(this.healthChecks++) ?? true;
    this.calls.push(`health ${ok ? "ok" : "bad"}`);
    return { ok, detail: ok ? "green: 2 predictions within [25, 346] in 3 ms" : "green: scoring request answered HTTP 502" };
  }
  counters(): UpstreamCounters {
    return { ...this.c };
  }
  async observe(seconds: number): Promise<void> {
    const n = this.observations++;
    const requests = this.script.requests?.(n) ?? 20;
    const errors = this.script.errors?.(n) ?? 0;
    this.calls.push(`observe ${seconds}s`);
    this.c = { ...this.c, requests: this.c.requests + requests, ok: this.c.ok + requests - errors, serverErrors: this.c.serverErrors + errors };
  }
}

const config = parseReleaseConfig({
  model: { name: "m" },
  gate: { mode: "disabled", metrics: { rmse: { greater_is_better: false } } },
  rollout: { steps: [10, 50, 100], observeSeconds: 0.01, minRequests: 5, maxErrorRate: 0.01 },
});
const servingV1: ServingConfig = { model: "m", deployments: { blue: { version: "1", weight: 100 } } };

async function roll(current: ServingConfig, version: string, probe: ScriptedProbe, updater = new MemoryStackUpdater(current)) {
  const decision = decideServing(current, "m", version);
  const from = stagedFrom(current, decision)!;
  const progress = new RecordingProgress();
  const out = await stagedRollout({ stack: "prod", updater, decision, from, settings: config.rollout, probe: async () => probe, progress });
  return { ...out, updater, progress };
}

describe("azure staged PROD rollout (RolloutControl over a fake StackUpdater)", () => {
  it("creates green at weight 0, then one config edit + one pulumi up per step 10 -> 50 -> 100, blue kept at 0", async () => {
    const probe = new ScriptedProbe();
    const { record, ups, updater } = await roll(servingV1, "2", probe);
    expect(updater.log).to.deep.equal([
      "set blue=v1@100 green=v2@0",
      "up",
      "set blue=v1@90 green=v2@10",
      "up",
      "set blue=v1@50 green=v2@50",
      "up",
      "set blue=v1@0 green=v2@100",
      "up",
    ]);
    expect(ups).to.equal(4);
    expect(record).to.deep.include({ from: "blue", to: "green", fromVersion: "1", toVersion: "2", outcome: "completed" });
    expect(record.steps.map((s) => [s.percent, s.passed])).to.deep.equal([
      [0, true],
      [10, true],
      [50, true],
      [100, true],
    ]);
    expect(probe.calls).to.deep.equal(["health ok", "observe 0.01s", "health ok", "observe 0.01s", "health ok", "observe 0.01s", "health ok"]);
    const out = await updater.outputs("prod");
    expect(out.traffic).to.deep.equal({ green: 100 });
    expect(out.trafficConverged).to.equal(true);
  });

  it("re-versions the idle color kept at weight 0 by the last rollout (blue v1 at 0, green v2 serving -> blue v3)", async () => {
    const current: ServingConfig = { model: "m", deployments: { blue: { version: "1", weight: 0 }, green: { version: "2", weight: 100 } } };
    const { updater, record } = await roll(current, "3", new ScriptedProbe());
    expect(updater.log).to.deep.equal([
      "set blue=v3@0 green=v2@100",
      "up",
      "set blue=v3@10 green=v2@90",
      "up",
      "set blue=v3@50 green=v2@50",
      "up",
      "set blue=v3@100 green=v2@0",
      "up",
    ]);
    expect(record).to.deep.include({ from: "green", to: "blue", outcome: "completed" });
  });

  it("rolls back at the canary when the new deployment's error rate is too high: weights back to 100/0 with one more up", async () => {
    const probe = new ScriptedProbe({ errors: (n) => (n === 0 ? 4 : 0) });
    const { record, updater, ups, progress } = await roll(servingV1, "2", probe);
    expect(updater.log).to.deep.equal(["set blue=v1@100 green=v2@0", "up", "set blue=v1@90 green=v2@10", "up", "set blue=v1@100 green=v2@0", "up"]);
    expect(ups).to.equal(3);
    expect(record.outcome).to.equal("rolled-back");
    expect(record.steps.at(-1)).to.deep.include({ percent: 10, passed: false, requests: 20, errors: 4 });
    expect(record.detail).to.equal("step 10% failed: error rate 20% (4/20) > 1%; all traffic back on blue (v1)");
    expect((await updater.outputs("prod")).traffic).to.deep.equal({ blue: 100 });
    expect(progress.lines.join("\n")).to.include("rollout 10%: FAILED: error rate 20% (4/20) > 1%");
  });

  it("rolls back when a step is inconclusive (fewer probe requests reached the new deployment than rollout.minRequests)", async () => {
    const probe = new ScriptedProbe({ requests: (n) => (n === 1 ? 2 : 20) });
    const { record, updater } = await roll(servingV1, "2", probe);
    expect(record.outcome).to.equal("rolled-back");
    expect(record.steps.map((s) => s.percent)).to.deep.equal([0, 10, 50]);
    expect(record.detail).to.match(/^step 50% failed: only 2 request\(s\) reached it \(need 5 to judge\); all traffic back on blue \(v1\)$/);
    expect(updater.log.slice(-2)).to.deep.equal(["set blue=v1@100 green=v2@0", "up"]);
  });

  it("never gives traffic to a new deployment that fails its health check at weight 0 (no extra up: the weights are already 100/0)", async () => {
    const { record, updater } = await roll(servingV1, "2", new ScriptedProbe({ healthy: () => false }));
    expect(updater.log).to.deep.equal(["set blue=v1@100 green=v2@0", "up"]);
    expect(record.outcome).to.equal("rolled-back");
    expect(record.detail).to.match(
      /^green \(v2\) failed its health check before taking traffic: green: scoring request answered HTTP 502; all traffic back on blue \(v1\)$/,
    );
  });

  it("a failed up during a step counts as a failed step and traffic goes back; a failed rollback up ends with a one-line DeploymentError", async () => {
    const updater = new MemoryStackUpdater(servingV1);
    updater.failUpAt = 3; // the 50% step
    const { record } = await roll(servingV1, "2", new ScriptedProbe(), updater);
    expect(record.outcome).to.equal("rolled-back");
    expect(record.steps.at(-1)!.detail).to.equal("check could not run: pulumi up prod failed: injected");
    expect(updater.log.slice(-2)).to.deep.equal(["set blue=v1@100 green=v2@0", "up"]);

    const broken = new MemoryStackUpdater(servingV1);
    broken.failUpAt = 3;
    const err = await roll(servingV1, "2", new ScriptedProbe({ errors: (n) => (n === 0 ? 20 : 0) }), broken).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(DeploymentError);
    expect((err as Error).message).to.not.include("\n");
    expect((err as Error).message).to.match(/^staged rollout of v2 on prod stopped and the traffic may be split: pulumi up prod failed: injected; /);
  });

  it("stages only from a deployment that takes traffic: nothing to stage from on a first deployment or a model change", () => {
    const empty: ServingConfig = { model: "m", deployments: {} };
    expect(stagedFrom(empty, decideServing(empty, "m", "1"))).to.equal(undefined);
    expect(stagedFrom(servingV1, decideServing(servingV1, "other", "1"))).to.equal(undefined);
    expect(stagedFrom(servingV1, decideServing(servingV1, "m", "1"))).to.equal(undefined);
    expect(stagedFrom(servingV1, decideServing(servingV1, "m", "2"))).to.deep.equal({ color: "blue", version: "1" });
  });

  it("applyServing runs the convergence up when a new deployment takes traffic in the same update, and skips the up when already applied", async () => {
    const updater = new MemoryStackUpdater(servingV1);
    const progress = new RecordingProgress();
    const r = await applyServing(
      updater,
      "prod",
      { model: "m", deployments: { blue: { version: "1", weight: 0 }, green: { version: "2", weight: 100 } } },
      progress,
    );
    expect(r).to.deep.equal({ ups: 2, traffic: { green: 100 } });
    expect(updater.log).to.deep.equal(["set blue=v1@0 green=v2@100", "up", "up"]);
    const again = await applyServing(
      updater,
      "prod",
      { model: "m", deployments: { blue: { version: "1", weight: 0 }, green: { version: "2", weight: 100 } } },
      progress,
    );
    expect(again.ups).to.equal(0);
    expect(updater.ups).to.equal(2);
  });
});
