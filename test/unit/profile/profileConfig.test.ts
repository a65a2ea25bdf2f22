import { expect } from "chai";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { ConfigError } from "../../../driver/core/errors.js";

const ok = { model: { name: "m" }, gate: { metrics: { rmse: { greater_is_better: false } } } };

describe("mlops.yaml profile: and rollout: sections", () => {
  it("fills defaults when both sections are left out", () => {
    const c = parseReleaseConfig(ok);
    expect(c.profile).to.deep.include({ enabled: true, concurrency: [1, 2, 4, 8], secondsPerLevel: 5, targetRps: 20, headroom: 0.7, minInstances: 2 });
    expect(c.profile.slo).to.deep.equal({ p95Ms: 200, p99Ms: 500, maxErrorRate: 0.01 });
    expect(c.rollout).to.deep.include({ steps: [10, 50, 100], observeSeconds: 5, maxErrorRate: 0.01 });
  });

  it("an SLO of zero and a negative rate are named, each with what is allowed, in one line", () => {
    let err: unknown;
    try {
      parseReleaseConfig({ ...ok, profile: { slo: { p95Ms: 0 }, targetRps: -5 } });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).to.equal("mlops.yaml: profile.slo.p95Ms: must be > 0; profile.targetRps: must be > 0 (requests per second); fix the values and run again");
    expect(msg).to.not.contain("\n");
  });

  it("refuses levels that do not increase, an error rate above 1, a headroom of 0 and p99 below p95", () => {
    expect(() => parseReleaseConfig({ ...ok, profile: { concurrency: [4, 2] } })).to.throw(ConfigError, /profile.concurrency: must be strictly increasing/);
    expect(() => parseReleaseConfig({ ...ok, profile: { slo: { maxErrorRate: 5 } } })).to.throw(
      ConfigError,
      /profile.slo.maxErrorRate: must be a number from 0 to 1/,
    );
    expect(() => parseReleaseConfig({ ...ok, profile: { headroom: 0 } })).to.throw(ConfigError, /profile.headroom: must be > 0 and <= 1/);
    expect(() => parseReleaseConfig({ ...ok, profile: { slo: { p95Ms: 300, p99Ms: 100 } } })).to.throw(ConfigError, /profile.slo.p99Ms: must be >= p95Ms/);
    expect(() => parseReleaseConfig({ ...ok, profile: { secondsPerLevel: -1 } })).to.throw(ConfigError, /profile.secondsPerLevel: must be > 0/);
    expect(() => parseReleaseConfig({ ...ok, profile: { slo: { p95ms: 100 } } })).to.throw(ConfigError, /p95ms/);
  });

  it("refuses rollout steps that do not end at 100 and blue/green ports that collide", () => {
    expect(() => parseReleaseConfig({ ...ok, rollout: { steps: [10, 50] } })).to.throw(ConfigError, /rollout.steps: must end at 100/);
    expect(() => parseReleaseConfig({ ...ok, rollout: { observeSeconds: 0 } })).to.throw(ConfigError, /rollout.observeSeconds: must be > 0/);
    expect(() => parseReleaseConfig({ ...ok, local: { ports: { prodBlue: 5602 } } })).to.throw(ConfigError, /prodBlue and prodGreen need ports of their own/);
  });
});
