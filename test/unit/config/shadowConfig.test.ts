/** mlops.yaml's rollout.shadow: defaults, and each rule at its edge with the key named in one line. */
import { expect } from "chai";
import { configRefusal, MINIMAL_CONFIG } from "../../support/configRefusal.js";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";

const ok = MINIMAL_CONFIG;
const withShadow = (shadow: unknown) => ({ ...ok, rollout: { shadow } });

const refusal = configRefusal;

describe("mlops.yaml rollout.shadow", () => {
  it("is off by default, with documented defaults once enabled", () => {
    expect(parseReleaseConfig(ok).rollout.shadow).to.deep.equal({
      enabled: false,
      percent: 50,
      seconds: 5,
      minRequests: 20,
      tolerance: { maxErrorRate: 0.01, maxDisagreement: 0.05, absolute: 0, relative: 0.1 },
    });
    expect(parseReleaseConfig(withShadow({ enabled: true })).rollout.shadow.enabled).to.equal(true);
  });

  it("percent is a whole percentage from 1 to 100", () => {
    expect(parseReleaseConfig(withShadow({ percent: 1 })).rollout.shadow.percent).to.equal(1);
    expect(parseReleaseConfig(withShadow({ percent: 100 })).rollout.shadow.percent).to.equal(100);
    expect(refusal(withShadow({ percent: 0 }))).to.match(/^mlops.yaml: rollout.shadow.percent: must be a whole percentage from 1 to 100/);
    expect(refusal(withShadow({ percent: 101 }))).to.match(/rollout.shadow.percent: must be a whole percentage from 1 to 100/);
    expect(refusal(withShadow({ percent: 12.5 }))).to.match(/rollout.shadow.percent: must be a whole percentage from 1 to 100/);
  });

  it("seconds must be > 0 (and at most 600); minRequests an integer >= 1", () => {
    expect(refusal(withShadow({ seconds: 0 }))).to.match(/rollout.shadow.seconds: must be > 0/);
    expect(refusal(withShadow({ seconds: 601 }))).to.match(/rollout.shadow.seconds: must be <= 600/);
    expect(parseReleaseConfig(withShadow({ seconds: 0.5 })).rollout.shadow.seconds).to.equal(0.5);
    expect(refusal(withShadow({ minRequests: 0 }))).to.match(/rollout.shadow.minRequests: must be an integer >= 1/);
  });

  it("tolerance: rates and relative are fractions, absolute >= 0, maxP99Ratio >= 1 and optional", () => {
    const tol = (t: unknown) => withShadow({ tolerance: t });
    expect(refusal(tol({ maxErrorRate: 1.5 }))).to.match(/rollout.shadow.tolerance.maxErrorRate: must be a number from 0 to 1/);
    expect(refusal(tol({ maxDisagreement: -0.1 }))).to.match(/rollout.shadow.tolerance.maxDisagreement: must be a number from 0 to 1/);
    expect(refusal(tol({ absolute: -1 }))).to.match(/rollout.shadow.tolerance.absolute: must be >= 0/);
    expect(refusal(tol({ relative: 2 }))).to.match(/rollout.shadow.tolerance.relative: must be from 0 to 1/);
    expect(refusal(tol({ maxP99Ratio: 0.9 }))).to.match(/rollout.shadow.tolerance.maxP99Ratio: must be >= 1/);
    expect(parseReleaseConfig(tol({ maxP99Ratio: 1 })).rollout.shadow.tolerance.maxP99Ratio).to.equal(1);
    expect(parseReleaseConfig(ok).rollout.shadow.tolerance).to.not.have.property("maxP99Ratio");
  });

  it("an unknown key is refused by name", () => {
    expect(refusal(withShadow({ precent: 10 }))).to.match(/rollout.shadow: .*precent/);
  });
});
