import { expect } from "chai";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { ConfigError } from "../../../driver/core/errors.js";
import { evaluateGate } from "../../../driver/core/gate.js";
import type { RegisteredModel } from "../../../driver/core/release.js";

const champion = (metrics: Record<string, number>): RegisteredModel => ({ name: "m", version: "3", digest: "d", runId: "champ", metrics, tags: {} });

describe("metric gate", () => {
  const gate = {
    mode: "enabled" as const,
    metrics: {
      rmse: { greater_is_better: false, threshold: 60, min_relative_change: 0.01 },
      r2: { greater_is_better: true, threshold: 0.4, min_absolute_change: 0.0 },
    },
  };

  it("passes when thresholds hold and no champion exists yet", () => {
    const g = evaluateGate(gate, { runId: "a", metrics: { rmse: 55, r2: 0.45 } }, undefined);
    expect(g.outcome).to.equal("passed");
    expect(g.summary).to.equal("gate passed: 2 checks (no champion yet)");
  });

  it("the champion's own run (reused training) is the champion itself, by run id, also without a sha256", () => {
    const g = evaluateGate(gate, { runId: "champ", metrics: { rmse: 55, r2: 0.45 } }, champion({ rmse: 55, r2: 0.45 }));
    expect(g.outcome).to.equal("passed");
    expect(g.summary).to.equal("gate passed: 2 checks (candidate is champion v3 itself, comparison skipped)");
    expect(evaluateGate(gate, { runId: "other", metrics: { rmse: 55, r2: 0.45 } }, champion({ rmse: 55, r2: 0.45 })).outcome).to.equal("rejected");
  });

  it("lower-is-better relative margin: needs candidate <= champion * (1 - r)", () => {
    expect(evaluateGate(gate, { runId: "a", metrics: { rmse: 54.4, r2: 0.5 } }, champion({ rmse: 55, r2: 0.45 })).outcome).to.equal("passed");
    const g = evaluateGate(gate, { runId: "a", metrics: { rmse: 54.6, r2: 0.5 } }, champion({ rmse: 55, r2: 0.45 }));
    expect(g.outcome).to.equal("rejected");
    expect(g.summary).to.match(/relative improvement 0.7273% \(need >= 1%\)/);
  });

  it("higher-is-better absolute margin of zero accepts a tie and rejects a drop", () => {
    const base = champion({ rmse: 60, r2: 0.45 });
    expect(evaluateGate(gate, { runId: "a", metrics: { rmse: 50, r2: 0.45 } }, base).outcome).to.equal("passed");
    expect(evaluateGate(gate, { runId: "a", metrics: { rmse: 50, r2: 0.44 } }, base).outcome).to.equal("rejected");
  });

  it("a metric the champion lacks is checked against the threshold only", () => {
    const g = evaluateGate(gate, { runId: "a", metrics: { rmse: 50, r2: 0.45 } }, champion({ r2: 0.44 }));
    expect(g.checks.map((c) => `${c.metric}:${c.kind}`)).to.deep.equal(["rmse:threshold", "r2:threshold", "r2:absolute-change"]);
  });

  it("infinite values fail like NaN", () => {
    const g = evaluateGate(gate, { runId: "a", metrics: { rmse: Infinity, r2: 0.5 } }, undefined);
    expect(g.outcome).to.equal("rejected");
    expect(g.summary).to.match(/rmse is Infinity/);
  });

  it("disabled mode records the checks but never rejects", () => {
    const g = evaluateGate({ ...gate, mode: "disabled" }, { runId: "a", metrics: { rmse: 99, r2: 0 } }, undefined);
    expect(g.outcome).to.equal("disabled");
    expect(g.summary).to.equal("gate disabled (2 of 2 checks would fail)");
  });
});

describe("mlops.yaml release config", () => {
  const ok = { model: { name: "m" }, gate: { metrics: { rmse: { greater_is_better: false, threshold: 60 } } } };

  it("fills defaults for mode, smoke request and local ports", () => {
    const c = parseReleaseConfig(ok);
    expect(c.gate.mode).to.equal("enabled");
    expect(c.local.ports).to.deep.equal({ mlflow: 5500, int: 5601, prod: 5602, prodBlue: 5611, prodGreen: 5612 });
    expect(c.smoke.request).to.equal("ml/smoke.json");
  });

  it("names the key and the allowed values for an unknown gate mode", () => {
    expect(() => parseReleaseConfig({ ...ok, gate: { ...ok.gate, mode: "on" } })).to.throw(
      ConfigError,
      /mlops.yaml: gate.mode: .*"disabled"\|"dry_run"\|"enabled"/,
    );
  });

  it("rejects a negative margin and an unknown key", () => {
    expect(() => parseReleaseConfig({ ...ok, gate: { metrics: { rmse: { greater_is_better: false, min_relative_change: -1 } } } })).to.throw(
      ConfigError,
      /gate.metrics.rmse.min_relative_change/,
    );
    expect(() => parseReleaseConfig({ ...ok, gate: { metrics: { rmse: { greater_is_better: false, treshold: 1 } } } })).to.throw(ConfigError, /treshold/);
  });

  it("rejects a gate without rules and ports that collide", () => {
    expect(() => parseReleaseConfig({ ...ok, gate: { metrics: {} } })).to.throw(ConfigError, /at least one metric rule/);
    expect(() => parseReleaseConfig({ ...ok, local: { ports: { mlflow: 5600, int: 5600, prod: 5602 } } })).to.throw(ConfigError, /three different ports/);
  });
});
