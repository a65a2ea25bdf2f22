/**
 * The shadow phase inside the staged rollout (fake traffic plane): a new version that errs or disagrees in
 * shadow is stopped before its weight ever leaves 0; one that agrees goes on to the canary steps.
 */
import { expect } from "chai";
import { emptyCounters, type UpstreamCounters } from "../../../driver/router/routerTypes.js";
import { rolloutFailure, runStagedRollout, type RolloutControl } from "../../../driver/rollout/stagedRollout.js";
import type { ShadowControl, ShadowSettings } from "../../../driver/rollout/shadowPhase.js";
import type { ShadowPair, ShadowPairs } from "../../../driver/rollout/shadowTypes.js";
import type { RolloutSettings } from "../../../driver/rollout/rolloutTypes.js";

const settings: RolloutSettings = { steps: [10, 100], observeSeconds: 1, maxErrorRate: 0.05, minRequests: 2 };
const shadow: ShadowSettings = {
  percent: 50,
  seconds: 1,
  minRequests: 5,
  tolerance: { maxErrorRate: 0.01, maxDisagreement: 0.05, absolute: 0, relative: 0.1 },
};

/** A traffic plane whose mirror records 10 pairs per observation while it mirrors: `answer(i)` gives the copy's status and prediction. */
class FakePlane implements RolloutControl {
  weights: number[] = [];
  calls: string[] = [];
  c: UpstreamCounters = emptyCounters();
  private mirroring = false;
  private recorded: ShadowPair[] = [];
  readonly shadow?: ShadowControl;

  constructor(answer: (i: number) => { status: number; prediction: number }, o: { noMirror?: boolean; observeThrows?: boolean } = {}) {
    this.observeThrows = !!o.observeThrows;
    this.answer = answer;
    if (!o.noMirror)
      this.shadow = {
        start: async (p) => {
          this.calls.push(`start ${p}`);
          this.mirroring = true;
        },
        pairs: async (): Promise<ShadowPairs> => ({ pairs: this.recorded, dropped: 0 }),
        stop: async () => {
          this.calls.push("stop");
          this.mirroring = false;
        },
      };
  }
  private readonly answer: (i: number) => { status: number; prediction: number };
  private readonly observeThrows: boolean;

  async setNewWeight(p: number): Promise<void> {
    this.weights.push(p);
    this.c = { ...this.c };
  }
  async health() {
    return { ok: true, detail: "200" };
  }
  async counters() {
    return { ...this.c };
  }
  async observe(): Promise<void> {
    if (this.observeThrows) throw new Error("probe traffic could not start");
    if (this.mirroring)
      for (let i = 0; i < 10; i++) {
        const a = this.answer(i);
        this.recorded.push({
          seq: this.recorded.length + 1,
          live: { upstream: "blue", status: 200, ms: 2, body: '{"predictions":[100]}' },
          shadow: { upstream: "green", status: a.status, ms: 3, body: JSON.stringify({ predictions: [a.prediction] }) },
        });
      }
    const w = this.weights.at(-1) ?? 0;
    this.c = { ...this.c, requests: this.c.requests + w, ok: this.c.ok + w };
  }
}

const run = (control: RolloutControl) =>
  runStagedRollout({ from: "blue", to: "green", fromVersion: "3", toVersion: "4", settings, shadow, control, now: () => new Date("2026-01-01T00:00:00Z") });

describe("staged rollout with a shadow phase (fake traffic plane)", () => {
  it("a new version that errs on a share of the mirrored requests is stopped in shadow: its weight never leaves 0", async () => {
    const c = new FakePlane((i) => ({ status: i < 3 ? 500 : 200, prediction: 100 }));
    const r = await run(c);
    expect(r.outcome).to.equal("rolled-back");
    expect(c.weights, "no canary step ran").to.deep.equal([0]);
    expect(c.calls).to.deep.equal(["start 50", "stop"]);
    expect(r.steps.map((s) => s.percent)).to.deep.equal([0]);
    expect(r.shadow).to.deep.include({ mirrored: 10, errors: 3, errorRate: 0.3, passed: false, to: "green", from: "blue", percent: 50 });
    expect(r.detail).to.equal("shadow of 50% for 1s failed before any user traffic: error rate 30% (3/10) > 1%; all traffic stays on blue (v3)");
    expect(rolloutFailure("4", r)).to.match(/^v4 failed its prod shadow test and took no user traffic \(shadow of 50%/);
  });

  it("a new version whose predictions differ beyond the tolerance is stopped in shadow", async () => {
    const c = new FakePlane((i) => ({ status: 200, prediction: i === 0 ? 100 : 120 }));
    const r = await run(c);
    expect(c.weights).to.deep.equal([0]);
    expect(r.shadow).to.deep.include({ compared: 10, disagreements: 9, passed: false });
    expect(r.detail).to.match(/90% of answers differ from the live ones \(9\/10\) > 5%/);
  });

  it("a new version that agrees goes on to the canary steps, and the rollout record keeps the shadow verdict", async () => {
    const c = new FakePlane(() => ({ status: 200, prediction: 105 }));
    const r = await run(c);
    expect(r.outcome).to.equal("completed");
    expect(c.weights).to.deep.equal([10, 100]);
    expect(c.calls).to.deep.equal(["start 50", "stop"]);
    expect(r.shadow).to.deep.include({ mirrored: 10, errors: 0, compared: 10, disagreements: 0, passed: true, maxAbsDiff: 5 });
    expect(rolloutFailure("4", { ...r, outcome: "rolled-back" })).to.match(/^v4 failed its prod canary/);
  });

  it("mirroring is switched off when the observation throws, and the rollout stops in shadow", async () => {
    const c = new FakePlane(() => ({ status: 200, prediction: 100 }), { observeThrows: true });
    const r = await run(c);
    expect(c.calls).to.deep.equal(["start 50", "stop"]);
    expect(c.weights).to.deep.equal([0]);
    expect(r.shadow!.detail).to.equal("shadow could not run: probe traffic could not start");
  });

  it("a target that cannot mirror fails the shadow phase rather than skipping it", async () => {
    const r = await run(new FakePlane(() => ({ status: 200, prediction: 100 }), { noMirror: true }));
    expect(r.outcome).to.equal("rolled-back");
    expect(r.shadow!.detail).to.equal("this target cannot mirror traffic to green; turn rollout.shadow off");
  });

  it("without shadow settings no mirroring happens (rollout.shadow off)", async () => {
    const c = new FakePlane(() => ({ status: 500, prediction: 0 }));
    const r = await runStagedRollout({ from: "blue", to: "green", toVersion: "4", settings, control: c });
    expect(r.outcome).to.equal("completed");
    expect(c.calls).to.deep.equal([]);
    expect(r.shadow).to.equal(undefined);
  });
});
