import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { RouterClient } from "../../../driver/router/routerClient.js";
import { emptyCounters, type UpstreamCounters } from "../../../driver/router/routerTypes.js";
import { startWeightedRouter } from "../../../driver/router/weightedRouter.js";
import { RouterRolloutControl } from "../../../driver/targets/local/routerRolloutControl.js";
import { runStagedRollout, type RolloutControl } from "../../../driver/rollout/stagedRollout.js";
import type { RolloutSettings } from "../../../driver/rollout/rolloutTypes.js";

const settings: RolloutSettings = { steps: [10, 50, 100], observeSeconds: 1, maxErrorRate: 0.05, minRequests: 2 };

/** A fake traffic plane: `observe` sends 20 requests split by the current weight; `failFrom` makes the new side fail. */
class FakeControl implements RolloutControl {
  weight = 0;
  weights: number[] = [];
  c: UpstreamCounters = emptyCounters();
  constructor(private readonly opts: { errorRateAt?: (percent: number) => number; healthy?: (percent: number) => boolean; failSetAt?: number } = {}) {}
  async setNewWeight(p: number): Promise<void> {
    if (p === this.opts.failSetAt) throw new Error("router unreachable");
    this.weight = p;
    this.weights.push(p);
  }
  async health() {
    const ok = this.opts.healthy?.(this.weight) ?? true;
    return { ok, detail: ok ? "200" : "503" };
  }
  async counters() {
    return { ...this.c };
  }
  async observe(): Promise<void> {
    const n = Math.round((20 * this.weight) / 100);
    const errors = Math.round(n * (this.opts.errorRateAt?.(this.weight) ?? 0));
    this.c = { ...this.c, requests: this.c.requests + n, ok: this.c.ok + n - errors, serverErrors: this.c.serverErrors + errors };
  }
}

const run = (control: RolloutControl) =>
  runStagedRollout({ from: "blue", to: "green", fromVersion: "3", toVersion: "4", settings, control, now: () => new Date("2026-01-01T00:00:00Z") });

describe("staged rollout (fake traffic plane)", () => {
  it("walks 10% -> 50% -> 100% with a check after each step and completes", async () => {
    const c = new FakeControl();
    const r = await run(c);
    expect(r.outcome).to.equal("completed");
    expect(c.weights).to.deep.equal([10, 50, 100]);
    expect(r.steps.map((s) => [s.percent, s.passed, s.requests])).to.deep.equal([
      [0, true, 0],
      [10, true, 2],
      [50, true, 10],
      [100, true, 20],
    ]);
    expect(r.detail).to.equal("green (v4) takes 100% after 10% -> 50% -> 100%");
    expect(r.steps.map((s) => s.detail)).to.deep.equal([
      "pre-check: 200",
      "2 requests, 0 errors (0%), healthy",
      "10 requests, 0 errors (0%), healthy",
      "20 requests, 0 errors (0%), healthy",
    ]);
  });

  it("an error rate exactly at rollout.maxErrorRate passes (the limit is allowed, only above it fails)", async () => {
    const c = new FakeControl({ errorRateAt: (p) => (p === 100 ? 0.05 : 0) });
    const r = await run(c);
    expect(r.outcome).to.equal("completed");
    expect(r.steps.at(-1)).to.include({ percent: 100, requests: 20, errors: 1, errorRate: 0.05, passed: true, detail: "20 requests, 1 errors (5%), healthy" });
  });

  it("a new deployment that turns unhealthy at a later step fails that step with the health detail", async () => {
    const c = new FakeControl({ healthy: (w) => w < 50 });
    const r = await run(c);
    expect(r.outcome).to.equal("rolled-back");
    expect(c.weights).to.deep.equal([10, 50, 0]);
    expect(r.steps.at(-1)).to.include({ percent: 50, healthy: false, requests: 10, passed: false, detail: "unhealthy: 503" });
    expect(r.detail).to.equal("step 50% failed: unhealthy: 503; all traffic back on blue (v3)");
  });

  it("every problem of a step is named, separated by '; '", async () => {
    const c = new FakeControl({ healthy: (w) => w === 0 });
    const r = await runStagedRollout({ from: "blue", to: "green", toVersion: "4", settings: { ...settings, minRequests: 5 }, control: c });
    expect(r.steps.at(-1)!.detail).to.equal("unhealthy: 503; only 2 request(s) reached it (need 5 to judge)");
  });

  it("a new version failing at the canary step is rolled back to 0% and goes no further", async () => {
    const c = new FakeControl({ errorRateAt: () => 1 });
    const r = await run(c);
    expect(r.outcome).to.equal("rolled-back");
    expect(c.weights).to.deep.equal([10, 0]);
    expect(r.steps.at(-1)).to.include({ percent: 10, passed: false, errors: 2, errorRate: 1 });
    expect(r.detail).to.match(/^step 10% failed: error rate 100% \(2\/2\) > 5%; all traffic back on blue \(v3\)$/);
  });

  it("an error rate within the limit passes; above it at a later step rolls back", async () => {
    const c = new FakeControl({ errorRateAt: (p) => (p >= 100 ? 0.1 : 0) });
    const r = await run(c);
    expect(r.outcome).to.equal("rolled-back");
    expect(c.weights).to.deep.equal([10, 50, 100, 0]);
  });

  it("an unhealthy new deployment takes no traffic at all", async () => {
    const c = new FakeControl({ healthy: () => false });
    const r = await run(c);
    expect(r.outcome).to.equal("rolled-back");
    expect(c.weights).to.deep.equal([0]);
    expect(r.steps).to.have.length(1);
    expect(r.detail).to.match(/failed its health check before taking traffic/);
  });

  it("too few requests to judge is a failed step, not a silent pass", async () => {
    const c = new FakeControl();
    const r = await runStagedRollout({ from: "blue", to: "green", toVersion: "4", settings: { ...settings, minRequests: 50 }, control: c });
    expect(r.outcome).to.equal("rolled-back");
    expect(r.steps[1]!.detail).to.equal("only 2 request(s) reached it (need 50 to judge)");
    expect(r.detail, "no old version known: the line names the slot only").to.equal(
      "step 10% failed: only 2 request(s) reached it (need 50 to judge); all traffic back on blue",
    );
  });

  it("a check that cannot run fails its step and rolls back", async () => {
    const c = new FakeControl({ failSetAt: 50 });
    const r = await run(c);
    expect(r.outcome).to.equal("rolled-back");
    expect(r.steps.at(-1)).to.include({
      percent: 50,
      healthy: false,
      requests: 0,
      errors: 0,
      errorRate: 0,
      passed: false,
      detail: "check could not run: router unreachable",
    });
    expect(c.weight).to.equal(0);
  });
});

describe("staged rollout through the weighted router (loopback)", () => {
  async function server(status: number): Promise<{ url: string; close: () => Promise<void> }> {
    const s = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(req.method === "GET" ? 200 : status, { "content-type": "application/json" });
        res.end("[1]");
      });
    });
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, close: () => (s.closeAllConnections(), new Promise((r) => s.close(() => r()))) };
  }

  it("a green that answers 500 is rolled back during the 10% step and blue keeps serving every request", async function () {
    this.timeout(15_000);
    const blue = await server(200);
    const green = await server(500);
    const router = await startWeightedRouter({
      port: 0,
      state: { upstreams: { blue: blue.url, green: green.url }, weights: { blue: 100, green: 0 } },
      admin: { token: "rollout-test-token", log: () => undefined },
    });
    try {
      const control = new RouterRolloutControl({
        router: new RouterClient(router.url, { url: router.adminUrl!, token: "rollout-test-token" }),
        from: "blue",
        to: "green",
        newHealthUrl: `${green.url}/`,
        scorePath: "/score",
        probeBody: "{}",
        probeRps: 20,
      });
      const r = await runStagedRollout({ from: "blue", to: "green", fromVersion: "3", toVersion: "4", settings: { ...settings, observeSeconds: 1 }, control });
      expect(r.outcome).to.equal("rolled-back");
      expect(r.steps.at(-1)).to.include({ percent: 10, requests: 2, errors: 2 });
      expect(router.stats().weights).to.deep.equal({ blue: 100, green: 0 });
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${router.url}/score`, { method: "POST", body: "{}" });
        await res.text();
        expect(res.status).to.equal(200);
        expect(res.headers.get("x-mlops-upstream")).to.equal("blue");
      }
    } finally {
      await router.close();
      await blue.close();
      await green.close();
    }
  });
});
