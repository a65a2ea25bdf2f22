/** The shadow comparison rules (driver/rollout/shadowCompare.ts), each at its edge. Pure. */
import { expect } from "chai";
import { comparePair, judgeShadow, nearestRank, type ShadowJudgement } from "../../../driver/rollout/shadowCompare.js";
import type { ShadowPair } from "../../../driver/rollout/shadowTypes.js";

const tol = { maxErrorRate: 0.1, maxDisagreement: 0.1, absolute: 0, relative: 0.1 };
const j: ShadowJudgement = {
  from: "blue",
  to: "green",
  percent: 50,
  seconds: 2,
  minRequests: 4,
  tolerance: tol,
  startedAt: "2026-01-01T00:00:00.000Z",
  endedAt: "2026-01-01T00:00:02.000Z",
};
let seq = 0;
const pair = (
  live: number[] | string,
  shadow: number[] | string,
  o: { liveStatus?: number; shadowStatus?: number; liveMs?: number; shadowMs?: number } = {},
): ShadowPair => ({
  seq: ++seq,
  live: { upstream: "blue", status: o.liveStatus ?? 200, ms: o.liveMs ?? 2, body: typeof live === "string" ? live : JSON.stringify({ predictions: live }) },
  shadow: {
    upstream: "green",
    status: o.shadowStatus ?? 200,
    ms: o.shadowMs ?? 2,
    body: typeof shadow === "string" ? shadow : JSON.stringify({ predictions: shadow }),
  },
});

describe("shadow comparison: which answers agree", () => {
  it("predictions agree within absolute + relative × |live| (numpy.isclose's rule), and not just beyond it", () => {
    expect(comparePair(pair([100, 200], [100, 200]), { absolute: 0, relative: 0.1 })).to.deep.include({ comparable: true, agree: true, maxAbsDiff: 0 });
    expect(comparePair(pair([100], [110]), { absolute: 0, relative: 0.1 })).to.deep.include({ agree: true, maxAbsDiff: 10 });
    expect(comparePair(pair([100], [110.01]), { absolute: 0, relative: 0.1 }).agree).to.equal(false);
    expect(comparePair(pair([0], [0.5]), { absolute: 0.5, relative: 0 }).agree).to.equal(true);
    expect(comparePair(pair([0], [0.51]), { absolute: 0.5, relative: 0 }).agree).to.equal(false);
  });

  it("another number of predictions, another status class or a different non-numeric value disagrees", () => {
    expect(comparePair(pair([1, 2], [1]), tol)).to.deep.include({ comparable: true, agree: false });
    expect(comparePair(pair([1], [1], { shadowStatus: 400 }), tol)).to.deep.include({ comparable: true, agree: false });
    expect(comparePair(pair('["a"]', '["b"]'), tol)).to.deep.include({ comparable: true, agree: false });
    expect(comparePair(pair('["a"]', '["a"]'), tol)).to.deep.include({ comparable: true, agree: true });
    expect(comparePair(pair("{}", "{}", { liveStatus: 400, shadowStatus: 422 }), tol)).to.deep.include({ comparable: true, agree: true });
  });

  it("a pair where either side errs, or whose body is missing or not JSON, is not compared", () => {
    expect(comparePair(pair([1], [1], { shadowStatus: 500 }), tol).comparable).to.equal(false);
    expect(comparePair(pair([1], [1], { shadowStatus: 0 }), tol).comparable).to.equal(false);
    expect(comparePair(pair([1], [1], { liveStatus: 503 }), tol).comparable).to.equal(false);
    expect(comparePair(pair([1], "not json"), tol).comparable).to.equal(false);
    const noBody = pair([1], [1]);
    delete noBody.shadow.body;
    expect(comparePair(noBody, tol).comparable).to.equal(false);
  });

  it("nearest-rank p99", () => {
    expect(nearestRank([], 99)).to.equal(undefined);
    expect(nearestRank([5, 1, 3], 99)).to.equal(5);
    expect(
      nearestRank(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).to.equal(99);
  });
});

describe("shadow comparison: the verdict", () => {
  const agreeing = (n: number, o = {}) => Array.from({ length: n }, () => pair([100], [101], o));

  it("passes when errors and disagreements are at most their limits, with the figures recorded", () => {
    const pairs = [...agreeing(9), pair([100], [100], { shadowStatus: 500 })];
    const r = judgeShadow({ pairs, dropped: 2 }, j);
    expect(r).to.deep.include({ mirrored: 10, dropped: 2, errors: 1, errorRate: 0.1, compared: 9, disagreements: 0, passed: true, maxAbsDiff: 1 });
    expect(r.detail).to.equal("10 mirrored, 1 errors (10%), 0/9 answers differ, p99 2.0 ms vs live 2.0 ms, 2 dropped");
  });

  it("fails above maxErrorRate, naming the rate", () => {
    const pairs = [...agreeing(8), pair([1], [1], { shadowStatus: 500 }), pair([1], [1], { shadowStatus: 0 })];
    const r = judgeShadow({ pairs, dropped: 0 }, j);
    expect(r.passed).to.equal(false);
    expect(r.detail).to.equal("error rate 20% (2/10) > 10%");
  });

  it("fails above maxDisagreement, naming the share", () => {
    const pairs = [...agreeing(8), pair([100], [150]), pair([100], [50])];
    const r = judgeShadow({ pairs, dropped: 0 }, j);
    expect(r).to.deep.include({ disagreements: 2, compared: 10, disagreementRate: 0.2, passed: false, maxAbsDiff: 50 });
    expect(r.detail).to.equal("20% of answers differ from the live ones (2/10) > 10%");
  });

  it("too few compared pairs is inconclusive and fails", () => {
    const r = judgeShadow({ pairs: agreeing(3), dropped: 0 }, j);
    expect(r.passed).to.equal(false);
    expect(r.detail).to.equal("only 3 mirrored request(s) could be compared (need 4 to judge)");
    expect(judgeShadow({ pairs: agreeing(4), dropped: 0 }, j).passed).to.equal(true);
  });

  it("p99 latency is judged only when maxP99Ratio is set, and then above the ratio fails", () => {
    const slow = agreeing(10, { liveMs: 10, shadowMs: 31 });
    expect(judgeShadow({ pairs: slow, dropped: 0 }, j)).to.deep.include({ passed: true, p99Ratio: 3.1, liveP99Ms: 10, shadowP99Ms: 31 });
    const r = judgeShadow({ pairs: slow, dropped: 0 }, { ...j, tolerance: { ...tol, maxP99Ratio: 3 } });
    expect(r.passed).to.equal(false);
    expect(r.detail).to.equal("p99 31.0 ms is 3.10x the live 10.0 ms (> 3x)");
    expect(judgeShadow({ pairs: agreeing(10, { liveMs: 10, shadowMs: 30 }), dropped: 0 }, { ...j, tolerance: { ...tol, maxP99Ratio: 3 } }).passed).to.equal(
      true,
    );
  });
});
