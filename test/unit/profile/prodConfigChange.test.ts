import { expect } from "chai";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { ConfigError } from "../../../driver/core/errors.js";
import { planConfigChange } from "../../../driver/profile/prodConfigChange.js";
import type { SizingRecommendation } from "../../../driver/profile/profileTypes.js";

const prod = readFileSync(new URL("../../../Pulumi.prod.yaml", import.meta.url), "utf8");

const rec = (over: Partial<SizingRecommendation> = {}): SizingRecommendation => ({
  feasible: true,
  sustainableRps: 80,
  atConcurrency: 2,
  instances: 3,
  requests: { cpu: "250m", memory: "384Mi" },
  limits: { cpu: "1", memory: "768Mi" },
  inputs: { targetRps: 100, headroom: 0.7, memoryMargin: 1.5, limitFactor: 2 },
  reasoning: [],
  ...over,
});

describe("sizing as the exact Pulumi.prod.yaml change", () => {
  it("edits only the serving keys, keeps every comment, and shows a unified diff", () => {
    const c = planConfigChange(prod, "prod", rec());
    expect(c.changes.map((x) => `${x.key}: ${x.from} -> ${x.to}`)).to.deep.equal([
      "mlops:serving.instanceType.requests.cpu: 500m -> 250m",
      "mlops:serving.instanceType.requests.memory: 1Gi -> 384Mi",
      "mlops:serving.instanceType.limits.memory: 1536Mi -> 768Mi",
      "mlops:serving.scale.minInstances: 2 -> 3",
    ]);
    const comments = (t: string) => t.split("\n").filter((l) => l.trim().startsWith("#"));
    expect(comments(c.after)).to.deep.equal(comments(prod));
    expect(c.diff).to.contain("-        cpu: 500m\n-        memory: 1Gi\n+        cpu: 250m\n+        memory: 384Mi");
    expect(c.diff.split("\n").filter((l) => /^[-+] /.test(l) || /^[-+]\s/.test(l)).length).to.equal(8);
    const after = parse(c.after).config["mlops:serving"];
    expect(after.instanceType.limits.cpu).to.equal("1"); // still a string, not the number 1
  });

  it("raises maxInstances with minInstances when autoscaling, and sets instanceCount for a fixed scale", () => {
    expect(planConfigChange(prod, "prod", rec({ instances: 6 })).changes.map((x) => x.key)).to.include("mlops:serving.scale.maxInstances");
    const fixed = prod.replace(
      /scale:\n\s+type: TargetUtilization\n\s+minInstances: 2\n\s+maxInstances: 4\n\s+targetUtilizationPercentage: 70/,
      "scale:\n      type: Default\n      instanceCount: 1",
    );
    expect(planConfigChange(fixed, "prod", rec()).changes.at(-1)).to.deep.equal({ key: "mlops:serving.scale.instanceCount", from: 1, to: 3 });
  });

  it("writes nothing for an infeasible profile and refuses limits that no longer fit the AKS node", () => {
    expect(() => planConfigChange(prod, "prod", rec({ feasible: false }))).to.throw(ConfigError, /no load level within the SLO/);
    expect(() => planConfigChange(prod, "prod", rec({ limits: { cpu: "16", memory: "1Gi" } }))).to.throw(
      ConfigError,
      /would make Pulumi.prod.yaml invalid .*must fit on one/,
    );
  });

  it("an unchanged sizing gives no diff", () => {
    const same = rec({ instances: 2, requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1", memory: "1536Mi" } });
    expect(planConfigChange(prod, "prod", same)).to.deep.include({ changes: [], diff: "" });
  });
});
