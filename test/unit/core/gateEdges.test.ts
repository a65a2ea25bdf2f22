/**
 * The gate's edges, each with the verdict MLflow's MetricThreshold gives it. The judge is MLflow's own code:
 * `_validate` in mlflow/models/evaluation/validation.py (PyPI mlflow 3.17.2, called by
 * `mlflow.validate_evaluation_results`):
 *   threshold            candidate >= threshold (greater_is_better) / candidate <= threshold (lower is better)
 *   min_absolute_change  candidate >= baseline + change / candidate <= baseline - change, computed in floats
 *   min_relative_change  (candidate - baseline) / abs(baseline) >= change (greater_is_better),
 *                        (baseline - candidate) / abs(baseline) >= change (lower is better);
 *                        a baseline of 0 falls back to candidate >= 0 + 1e-10 / candidate <= 0 - 1e-10
 * Every row below was also run through that `_validate` (mlflow 3.17.2) and got the verdict written here.
 */
import { expect } from "chai";
import type { MetricRule } from "../../../driver/config/releaseConfig.js";
import { evaluateGate } from "../../../driver/core/gate.js";
import type { GateOutcome, RegisteredModel } from "../../../driver/core/release.js";

const champion = (m: number): RegisteredModel => ({ name: "m", version: "4", digest: "d", runId: "champ", metrics: { m }, tags: {} });

function verdict(rule: MetricRule, candidate: number, base?: number): GateOutcome {
  return evaluateGate({ mode: "enabled", metrics: { m: rule } }, { runId: "cand", metrics: { m: candidate } }, base === undefined ? undefined : champion(base))
    .outcome;
}

type Verdict = "passed" | "rejected";

/** One rule (with the champion's metric, if any) and candidates on either side of its edge, each with MLflow's verdict. */
interface Edge {
  rule: MetricRule;
  champion?: number;
  candidates: Array<[edge: string, candidate: number, mlflow: Verdict]>;
}

const up = (r: Omit<MetricRule, "greater_is_better">): MetricRule => ({ greater_is_better: true, ...r });
const down = (r: Omit<MetricRule, "greater_is_better">): MetricRule => ({ greater_is_better: false, ...r });

const edges: Edge[] = [
  // a value equal to the threshold passes, in both directions; the smallest step past it fails
  {
    rule: up({ threshold: 0.4 }),
    candidates: [
      ["higher-is-better value equal to the threshold", 0.4, "passed"],
      ["higher-is-better value just under the threshold", 0.39999999999999997, "rejected"],
    ],
  },
  {
    rule: down({ threshold: 60 }),
    candidates: [
      ["lower-is-better value equal to the threshold", 60, "passed"],
      ["lower-is-better value just over the threshold", 60.00000000000001, "rejected"],
    ],
  },
  // the absolute margin, compared as candidate >= baseline + change: 0.45 + 0.05 is 0.5 in floats, while
  // 0.5 - 0.45 is 0.04999999999999999 (< 0.05), so a gate computing the gain first rejects this tie
  {
    rule: up({ min_absolute_change: 0.05 }),
    champion: 0.45,
    candidates: [
      ["higher-is-better absolute margin exactly met (0.45 + 0.05 = 0.5)", 0.5, "passed"],
      ["higher-is-better absolute margin just missed", 0.49999999999999994, "rejected"],
    ],
  },
  { rule: down({ min_absolute_change: 0.5 }), champion: 54, candidates: [["lower-is-better absolute margin exactly met (54 - 0.5)", 53.5, "passed"]] },
  // 0.3 - 0.1 is 0.19999999999999998 in floats: 0.2 is not <= it
  {
    rule: down({ min_absolute_change: 0.1 }),
    champion: 0.3,
    candidates: [["lower-is-better absolute margin missed by float rounding (0.3 - 0.1)", 0.2, "rejected"]],
  },
  // the relative margin, exactly at it and just past it
  {
    rule: up({ min_relative_change: 0.1 }),
    champion: 50,
    candidates: [
      ["higher-is-better relative margin exactly at 10% (50 -> 55)", 55, "passed"],
      ["higher-is-better relative margin just short of 10% (50 -> 54.99)", 54.99, "rejected"],
    ],
  },
  {
    rule: down({ min_relative_change: 0.1 }),
    champion: 50,
    candidates: [
      ["lower-is-better relative margin exactly at 10% (50 -> 45)", 45, "passed"],
      ["lower-is-better relative margin just short of 10% (50 -> 45.01)", 45.01, "rejected"],
    ],
  },
  // a negative champion: the change is divided by |baseline|; dividing by the signed baseline would pass the worse model
  {
    rule: up({ min_relative_change: 0.1 }),
    champion: -0.2,
    candidates: [
      ["negative champion, higher-is-better, better candidate (-0.2 -> -0.1)", -0.1, "passed"],
      ["negative champion, higher-is-better, worse candidate (-0.2 -> -0.3)", -0.3, "rejected"],
    ],
  },
  {
    rule: down({ min_relative_change: 0.1 }),
    champion: -10,
    candidates: [
      ["negative champion, lower-is-better, better candidate (-10 -> -11)", -11, "passed"],
      ["negative champion, lower-is-better, worse candidate (-10 -> -9)", -9, "rejected"],
    ],
  },
  // a champion metric of zero: no relative scale, MLflow asks for an improvement of at least 1e-10
  { rule: up({ min_relative_change: 0 }), champion: 0, candidates: [["zero champion, higher-is-better, a tie with a 0% margin", 0, "rejected"]] },
  {
    rule: up({ min_relative_change: 0.5 }),
    champion: 0,
    candidates: [
      ["zero champion, higher-is-better, improvement under 1e-10", 1e-11, "rejected"],
      ["zero champion, higher-is-better, improvement of exactly 1e-10", 1e-10, "passed"],
    ],
  },
  { rule: up({ min_relative_change: 0.1 }), champion: 0, candidates: [["zero champion, higher-is-better, worse candidate", -0.01, "rejected"]] },
  {
    rule: down({ min_relative_change: 0.1 }),
    champion: 0,
    candidates: [
      ["zero champion, lower-is-better, better candidate", -0.01, "passed"],
      ["zero champion, lower-is-better, a tie", 0, "rejected"],
      ["zero champion, lower-is-better, worse candidate", 0.01, "rejected"],
    ],
  },
  { rule: down({ min_relative_change: 0.5 }), champion: 0, candidates: [["zero champion, lower-is-better, improvement of exactly 1e-10", -1e-10, "passed"]] },
  // a tie with a 0% relative margin over a non-zero champion passes
  { rule: down({ min_relative_change: 0 }), champion: 54, candidates: [["non-zero champion, a tie with a 0% relative margin", 54, "passed"]] },
];

describe("metric gate edges, with MLflow MetricThreshold's verdicts (mlflow 3.17.2 validation.py _validate)", () => {
  for (const { rule, champion, candidates } of edges) {
    for (const [edge, candidate, mlflow] of candidates) {
      it(`${edge}: ${mlflow}`, () => {
        expect(verdict(rule, candidate, champion)).to.equal(mlflow);
      });
    }
  }

  it("the zero-champion verdict names the missing relative scale instead of an infinite percentage", () => {
    const g = evaluateGate({ mode: "enabled", metrics: { m: up({ min_relative_change: 0.1 }) } }, { runId: "c", metrics: { m: -0.01 } }, champion(0));
    expect(g.checks[0]!.detail).to.equal("m -0.01000 vs champion v4 0: no relative scale, improvement -0.01000 (need >= 1e-10)");
  });

  it("each check's line says what was compared, and which failed", () => {
    const rule = up({ threshold: 0.4, min_absolute_change: 0.01 });
    const pass = evaluateGate({ mode: "enabled", metrics: { m: rule } }, { runId: "c", metrics: { m: 0.5 } }, champion(0.45));
    expect(pass.checks.map((c) => c.detail)).to.deep.equal(["m 0.5000 >= 0.4000", "m 0.5000 vs champion v4 0.4500: improvement 0.05000 (need >= 0.01000)"]);
    expect(pass.summary).to.equal("gate passed: 2 checks (champion v4)");
    const fail = evaluateGate({ mode: "enabled", metrics: { m: rule } }, { runId: "c", metrics: { m: 0.3 } }, undefined);
    expect(fail.checks[0]!.detail).to.equal("m 0.3000 >= 0.4000 failed");
  });

  it("a deliberate difference from MLflow: without a champion, margins are not checked (MLflow fails a missing baseline)", () => {
    expect(verdict(up({ threshold: 0.1, min_relative_change: 0.1, min_absolute_change: 0.1 }), 0.5)).to.equal("passed");
  });
});
