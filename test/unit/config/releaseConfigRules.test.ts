/**
 * mlops.yaml's rules, each with a value at its edge that is accepted and one past it that is refused with the
 * key named. Each test fails when its rule is taken out of driver/config/*.ts.
 */
import { expect } from "chai";
import { configRefusal, MINIMAL_CONFIG } from "../../support/configRefusal.js";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { parseReleaseConfig, readReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { ConfigError } from "../../../driver/core/errors.js";
import { tempDir } from "../../support/tempDirs.js";

const ok = MINIMAL_CONFIG;
const withRollout = (rollout: Record<string, unknown>) => ({ ...ok, rollout });
const withRule = (rule: Record<string, unknown>) => ({ ...ok, gate: { metrics: { rmse: { greater_is_better: false, ...rule } } } });

const refusal = configRefusal;

describe("mlops.yaml rules (driver/config), each guarded at its edge", () => {
  it("rollout steps must be strictly increasing: a repeated step is refused", () => {
    expect(refusal(withRollout({ steps: [10, 10, 100] }))).to.match(/^mlops.yaml: rollout.steps: must be strictly increasing, such as \[10, 50, 100\]/);
    expect(refusal(withRollout({ steps: [50, 10, 100] }))).to.match(/rollout.steps: must be strictly increasing/);
    expect(parseReleaseConfig(withRollout({ steps: [1, 2, 100] })).rollout.steps).to.deep.equal([1, 2, 100]);
  });

  it("rollout steps are whole percentages from 1 to 100, at most 10 of them", () => {
    expect(refusal(withRollout({ steps: [0, 100] }))).to.match(/rollout.steps.0: must be from 1 to 100/);
    expect(refusal(withRollout({ steps: [50, 101] }))).to.match(/rollout.steps.1: must be from 1 to 100/);
    expect(refusal(withRollout({ steps: [10.5, 100] }))).to.match(/rollout.steps.0: must be whole percentages/);
    expect(refusal(withRollout({ steps: [] }))).to.match(/rollout.steps: must list at least one step/);
    expect(refusal(withRollout({ steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100] }))).to.match(/rollout.steps: must list at most 10 steps/);
    expect(parseReleaseConfig(withRollout({ steps: [100] })).rollout.steps).to.deep.equal([100]);
  });

  it("rollout.maxErrorRate is a fraction from 0 to 1, both ends allowed", () => {
    expect(refusal(withRollout({ maxErrorRate: -0.01 }))).to.match(/rollout.maxErrorRate: must be a number from 0 to 1 \(0.01 = 1%\)/);
    expect(refusal(withRollout({ maxErrorRate: 1.01 }))).to.match(/rollout.maxErrorRate: must be a number from 0 to 1/);
    expect(parseReleaseConfig(withRollout({ maxErrorRate: 0 })).rollout.maxErrorRate).to.equal(0);
    expect(parseReleaseConfig(withRollout({ maxErrorRate: 1 })).rollout.maxErrorRate).to.equal(1);
  });

  it("rollout.probeRps is from 0 to 200, both ends allowed", () => {
    expect(refusal(withRollout({ probeRps: -1 }))).to.match(/rollout.probeRps: must be from 0 to 200/);
    expect(refusal(withRollout({ probeRps: 200.5 }))).to.match(/rollout.probeRps: must be from 0 to 200/);
    expect(refusal(withRollout({ probeRps: "20" }))).to.match(/rollout.probeRps: must be from 0 to 200/);
    expect(parseReleaseConfig(withRollout({ probeRps: 0 })).rollout.probeRps).to.equal(0);
    expect(parseReleaseConfig(withRollout({ probeRps: 200 })).rollout.probeRps).to.equal(200);
  });

  it("rollout.minRequests is a whole number >= 0", () => {
    expect(refusal(withRollout({ minRequests: -1 }))).to.match(/rollout.minRequests: must be an integer >= 0/);
    expect(refusal(withRollout({ minRequests: 2.5 }))).to.match(/rollout.minRequests: must be an integer >= 0/);
    expect(parseReleaseConfig(withRollout({ minRequests: 0 })).rollout.minRequests).to.equal(0);
  });

  it("rollout.observeSeconds is > 0 and <= 600", () => {
    expect(refusal(withRollout({ observeSeconds: 601 }))).to.match(/rollout.observeSeconds: must be <= 600/);
    expect(parseReleaseConfig(withRollout({ observeSeconds: 600 })).rollout.observeSeconds).to.equal(600);
  });

  it("min_absolute_change must be >= 0 (0 allowed: no worse than the champion)", () => {
    expect(refusal(withRule({ min_absolute_change: -0.1 }))).to.match(/gate.metrics.rmse.min_absolute_change/);
    expect(parseReleaseConfig(withRule({ min_absolute_change: 0 })).gate.metrics.rmse!.min_absolute_change).to.equal(0);
  });

  it("min_relative_change is a fraction from 0 to 1, as MLflow's MetricThreshold requires", () => {
    expect(refusal(withRule({ min_relative_change: 1.5 }))).to.match(/gate.metrics.rmse.min_relative_change/);
    expect(parseReleaseConfig(withRule({ min_relative_change: 1 })).gate.metrics.rmse!.min_relative_change).to.equal(1);
    expect(parseReleaseConfig(withRule({ min_relative_change: 0 })).gate.metrics.rmse!.min_relative_change).to.equal(0);
  });

  it("a threshold must be a finite number", () => {
    expect(refusal(withRule({ threshold: Infinity }))).to.match(/gate.metrics.rmse.threshold/);
    expect(refusal(withRule({ threshold: "60" }))).to.match(/gate.metrics.rmse.threshold/);
    expect(refusal(withRule({ min_absolute_change: Infinity }))).to.match(/gate.metrics.rmse.min_absolute_change/);
    expect(refusal(withRule({ min_relative_change: Number.NaN }))).to.match(/gate.metrics.rmse.min_relative_change/);
  });

  it("every metric rule needs greater_is_better, and metric names are lowercase words", () => {
    expect(refusal({ ...ok, gate: { metrics: { rmse: { threshold: 60 } } } })).to.match(/gate.metrics.rmse.greater_is_better/);
    expect(refusal({ ...ok, gate: { metrics: { "R2-score": { greater_is_better: true } } } })).to.match(/gate.metrics.R2-score/);
  });

  it("the model name follows the registry's pattern: letters, digits, '.', '_' or '-', starting with a letter or digit, at most 255", () => {
    expect(refusal({ ...ok, model: { name: "-ridge" } })).to.match(/^mlops.yaml: model.name: letters, digits, '.', '_' or '-'/);
    expect(refusal({ ...ok, model: { name: "my model" } })).to.match(/model.name: letters, digits/);
    expect(refusal({ ...ok, model: { name: "" } })).to.match(/model.name: letters, digits/);
    expect(refusal({ ...ok, model: { name: "m\nx" } })).to.match(/model.name: letters, digits/);
    expect(refusal({ ...ok, model: { name: "a".repeat(256) } })).to.match(/model.name: letters, digits/);
    expect(parseReleaseConfig({ ...ok, model: { name: `A${"b".repeat(254)}` } }).model.name).to.have.length(255);
    expect(parseReleaseConfig({ ...ok, model: { name: "9diabetes_ridge.v2-x" } }).model.name).to.equal("9diabetes_ridge.v2-x");
  });

  it("the MLflow experiment name may not be empty", () => {
    expect(refusal({ ...ok, model: { name: "m", experiment: "" } })).to.match(/model.experiment/);
  });

  it("an unknown key in gate: is refused, naming it", () => {
    expect(refusal({ ...ok, gate: { ...ok.gate, mod: "enabled" } })).to.match(/gate: .*mod/);
  });

  it("an unknown key at the top level is refused, naming it", () => {
    expect(refusal({ ...ok, rollouts: { steps: [100] } })).to.match(/^mlops.yaml: \(top level\): .*rollouts/);
  });

  it("unknown keys in model:, smoke:, local: and local.ports: are refused", () => {
    expect(refusal({ ...ok, model: { name: "m", nmae: "x" } })).to.match(/model: .*nmae/);
    expect(refusal({ ...ok, smoke: { reqest: "x" } })).to.match(/smoke: .*reqest/);
    expect(refusal({ ...ok, local: { hots: "127.0.0.1" } })).to.match(/local: .*hots/);
    expect(refusal({ ...ok, local: { ports: { mlfow: 5500 } } })).to.match(/local.ports: .*mlfow/);
    expect(refusal({ ...ok, rollout: { step: [100] } })).to.match(/rollout: .*step/);
  });

  it("local ports are from 1024 to 65535 and the host is the loopback address", () => {
    expect(refusal({ ...ok, local: { ports: { mlflow: 1023 } } })).to.match(/local.ports.mlflow/);
    expect(refusal({ ...ok, local: { ports: { prodGreen: 65536 } } })).to.match(/local.ports.prodGreen/);
    expect(refusal({ ...ok, local: { host: "0.0.0.0" } })).to.match(/local.host/);
    expect(parseReleaseConfig({ ...ok, local: { ports: { mlflow: 1024, prodGreen: 65535 } } }).local.ports).to.include({ mlflow: 1024, prodGreen: 65535 });
  });

  it("several problems are reported together, in one line", () => {
    const msg = refusal({ ...ok, model: { name: " x" }, rollout: { probeRps: 999 } });
    expect(msg).to.equal("mlops.yaml: model.name: letters, digits, '.', '_' or '-'; rollout.probeRps: must be from 0 to 200; fix the values and run again");
  });

  it("one problem is reported with 'fix the value'", () => {
    expect(refusal(withRollout({ probeRps: 999 }))).to.equal("mlops.yaml: rollout.probeRps: must be from 0 to 200; fix the value and run again");
  });
});

describe("mlops.yaml on disk (readReleaseConfig)", () => {
  async function readRefusal(text: string | undefined): Promise<{ dir: string; message: string }> {
    const dir = tempDir("mlops-yaml-");
    if (text !== undefined) await writeFile(path.join(dir, "mlops.yaml"), text);
    const e = await readReleaseConfig(dir).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).to.be.instanceOf(ConfigError);
    return { dir, message: (e as Error).message };
  }

  it("a missing mlops.yaml names the folder and says to run from the repository root", async () => {
    const { dir, message } = await readRefusal(undefined);
    expect(message).to.equal(`mlops.yaml not found in ${dir}; run mlops from the repository root`);
  });

  it("mlops.yaml that is not YAML is refused in one line", async () => {
    const { message } = await readRefusal("model: [unclosed\n  name: x\n");
    expect(message).to.match(/^mlops.yaml is not valid YAML: \S.{10,}$/);
    expect(message).to.not.include("\n");
  });

  it("profile.slo.p99Ms may equal p95Ms (only below it is refused)", () => {
    expect(parseReleaseConfig({ ...ok, profile: { slo: { p95Ms: 300, p99Ms: 300 } } }).profile.slo).to.include({ p95Ms: 300, p99Ms: 300 });
    expect(refusal({ ...ok, profile: { slo: { p95Ms: 300, p99Ms: 299 } } })).to.match(/profile.slo.p99Ms: must be >= p95Ms/);
  });
});
