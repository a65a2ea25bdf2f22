import { expect } from "chai";
import { planTraffic, toServingState } from "../../../components/trafficPlan.js";

describe("traffic plan: traffic only names deployments that already exist", function () {
  it("applies the configured split when every weighted deployment existed before this update", function () {
    expect(planTraffic({ blue: 90, green: 10 }, { liveDeployments: ["blue", "green"], traffic: { blue: 100 } })).to.deep.equal({
      traffic: { blue: 90, green: 10 },
      converged: true,
    });
  });

  it("leaves zero-weight deployments out of the traffic map", function () {
    expect(planTraffic({ blue: 100, green: 0 }, { liveDeployments: ["blue"], traffic: { blue: 100 } })).to.deep.equal({
      traffic: { blue: 100 },
      converged: true,
    });
  });

  it("routes nothing on the first release, until the deployment exists", function () {
    expect(planTraffic({ blue: 100 }, undefined)).to.deep.equal({ traffic: {}, converged: false });
  });

  it("keeps the previous split while a new deployment is created", function () {
    expect(planTraffic({ blue: 50, green: 50 }, { liveDeployments: ["blue"], traffic: { blue: 100 } })).to.deep.equal({
      traffic: { blue: 100 },
      converged: false,
    });
  });

  it("drops a previous split that names a deployment no longer configured", function () {
    expect(planTraffic({ green: 100 }, { liveDeployments: ["blue"], traffic: { blue: 100 } })).to.deep.equal({
      traffic: {},
      converged: false,
    });
  });

  it("is converged with no deployments and no traffic", function () {
    expect(planTraffic({}, undefined)).to.deep.equal({ traffic: {}, converged: true });
  });

  it("reads a previous servingState output defensively", function () {
    expect(toServingState(undefined)).to.equal(undefined);
    expect(toServingState({ liveDeployments: ["blue", 3], traffic: { blue: 100, green: "x" } })).to.deep.equal({
      liveDeployments: ["blue"],
      traffic: { blue: 100 },
    });
  });
});
