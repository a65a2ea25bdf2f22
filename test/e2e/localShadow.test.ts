/**
 * End to end: shadow traffic before PROD's canary on the local target, with real processes (MLflow, azmlinfsrv,
 * the weighted router) in a temp copy of the repo on ports 5630-5634.
 *
 *   v1  first deploy: 100% on blue
 *   v2  the score.py bug of localScoreVariants.ts (fails from a worker's 33rd request): passes the ML tests and
 *       INT; in PROD's shadow phase (50% of the probe traffic copied to green) it errs on most copies and the
 *       rollout stops there: green's traffic weight never leaves 0 (the router's counters show no live request
 *       to green), a user sending requests meanwhile gets only blue's answers, PROD keeps v1
 *   v3  the fix: its copies agree with v1's answers (same data, same Ridge), so it goes on to 50% -> 100%
 * Short settings: gate dry_run, no profile-int, shadow 50% for 2 s at 100 probe req/s, steps [50, 100] of 1 s.
 */
import { expect } from "chai";
import { readRouterRecord, routerClientOf } from "../../driver/targets/local/routerProcess.js";
import { buildReportModel } from "../../driver/report/reportSections.js";
import { renderMarkdown } from "../../driver/report/markdownReport.js";
import { renderRelease } from "../../driver/cli/render.js";
import { writeFaultyScore, writeFixedScore } from "./localScoreVariants.js";
import { LocalProd } from "./localProdFixture.js";
import { userTraffic } from "./userTraffic.js";

const PORTS = { mlflow: 5630, int: 5631, prod: 5632, prodBlue: 5633, prodGreen: 5634 };
const SCORE = `http://127.0.0.1:${PORTS.prod}/score`;
const OVERRIDES = {
  gate: { mode: "dry_run", metrics: { rmse: { greater_is_better: false, threshold: 62 } } },
  profile: { enabled: false },
  rollout: {
    steps: [50, 100],
    observeSeconds: 1,
    probeRps: 100,
    minRequests: 5,
    maxErrorRate: 0.01,
    shadow: {
      enabled: true,
      percent: 50,
      seconds: 2,
      minRequests: 20,
      tolerance: { maxErrorRate: 0.01, maxDisagreement: 0.01, absolute: 1e-9, relative: 1e-9 },
    },
  },
};

describe("local target: shadow traffic before the PROD canary", function () {
  this.timeout(15 * 60_000);
  const prod = new LocalProd(PORTS, OVERRIDES);
  const versions: Record<string, string> = {};

  const router = async () => routerClientOf((await readRouterRecord(prod.target.paths))!);

  before(() => prod.start());

  after(() => prod.stop());

  it("v1, the first deploy, goes to 100% on blue (nothing to compare with: no shadow)", async () => {
    const r = await prod.releaseAndApprove();
    versions.v1 = r.model!.version;
    const released = await prod.machine.promote(r.id);
    expect(released.state).to.equal("released");
    expect(released.deployments.prod!.rollout!.shadow).to.equal(undefined);
    expect(await prod.prodRecord()).to.deep.include({ slot: "blue", modelVersion: versions.v1 });
  });

  it("v2 (errs on a share of requests) is stopped in shadow before any user traffic reaches it; PROD keeps v1", async () => {
    await writeFaultyScore(prod.repo.root, prod.original);
    const r = await prod.releaseAndApprove();
    versions.v2 = r.model!.version;
    const greenBefore = (await (await router()).state()).counters.green?.requests ?? 0;
    const users = userTraffic(SCORE, prod.smoke);
    const err = await prod.machine.promote(r.id).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    const seen = await users.stop();
    expect(err?.code, err?.message).to.equal("deployment");
    expect(err!.message).to.match(
      new RegExp(
        `^v${versions.v2} failed its prod shadow test and took no user traffic \\(shadow of 50% for 2s failed before any user traffic: error rate \\d`,
      ),
    );
    expect(err!.message).to.not.include("\n");

    const state = await (await router()).state();
    expect(state.counters.green?.requests ?? 0, "live requests routed to green").to.equal(greenBefore);
    expect(state.weights).to.deep.equal({ blue: 100, green: 0 });
    expect(seen.non200, JSON.stringify(seen)).to.equal(0);
    expect(Object.keys(seen.byUpstream)).to.deep.equal(["blue"]);

    const failed = await prod.target.store.load(r.id);
    expect(failed.state).to.equal("failed");
    const ro = failed.failedRollouts!.at(-1)!;
    expect(
      ro.steps.map((s) => s.percent),
      "no canary step ran",
    ).to.deep.equal([0]);
    expect(ro.shadow).to.deep.include({ passed: false, to: "green", percent: 50 });
    expect(ro.shadow!.errors).to.be.greaterThan(0);
    expect(failed.events.some((e) => e.event === "shadow-failed")).to.equal(true);
    expect(renderRelease(failed)).to.match(/\n {2}shadow {4}FAILED: 50% to green for 2s: error rate/);
    expect(renderMarkdown(buildReportModel(failed))).to.include("## Shadow traffic before the canary");
    expect(await prod.prodRecord()).to.deep.include({ slot: "blue", modelVersion: versions.v1 });
    expect((await prod.target.registry.champion(prod.repo.config.model.name))!.version).to.equal(versions.v1);
  });

  it("v3 (the fix) agrees with v1 in shadow and goes on to the canary: 50% -> 100%", async () => {
    await writeFixedScore(prod.repo.root, prod.original);
    const r = await prod.releaseAndApprove();
    versions.v3 = r.model!.version;
    const users = userTraffic(SCORE, prod.smoke);
    const released = await prod.machine.promote(r.id);
    const seen = await users.stop();
    expect(released.state).to.equal("released");
    const ro = released.deployments.prod!.rollout!;
    expect(ro.outcome).to.equal("completed");
    expect(ro.shadow, ro.shadow?.detail).to.deep.include({ passed: true, errors: 0, disagreements: 0 });
    expect(ro.shadow!.compared).to.be.greaterThanOrEqual(20);
    expect(ro.steps.map((s) => [s.percent, s.passed])).to.deep.equal([
      [0, true],
      [50, true],
      [100, true],
    ]);
    expect(released.events.some((e) => e.event === "shadow-passed")).to.equal(true);
    expect(seen.non200, JSON.stringify(seen)).to.equal(0);
    expect(await prod.prodRecord()).to.deep.include({ slot: "green", modelVersion: versions.v3 });
    if (process.env.MLOPS_E2E_VERBOSE) process.stderr.write(`    v3 shadow: ${ro.shadow!.detail}\n`);
  });
});
