import { expect } from "chai";
import { planTraffic, toServingState, type ServingState } from "../../../components/trafficPlan.js";

const M = "m";
const want = (deployments: Record<string, [version: string, weight: number]>) => ({
  model: M,
  deployments: Object.fromEntries(Object.entries(deployments).map(([name, [version, weight]]) => [name, { version, weight }])),
});
const state = (deployments: Record<string, string>, traffic: Record<string, number>, model = M): ServingState => ({
  model,
  deployments: Object.fromEntries(Object.entries(deployments).map(([name, version]) => [name, { version }])),
  traffic,
});

describe("traffic plan: traffic only names deployments that are live with their configured version", function () {
  it("applies the configured split when every weighted deployment already served its version", function () {
    expect(planTraffic(want({ blue: ["3", 90], green: ["4", 10] }), state({ blue: "3", green: "4" }, { blue: 100 }))).to.deep.equal({
      traffic: { blue: 90, green: 10 },
      converged: true,
    });
  });

  it("leaves zero-weight deployments out of the traffic map", function () {
    expect(planTraffic(want({ blue: ["3", 100], green: ["4", 0] }), state({ blue: "3" }, { blue: 100 }))).to.deep.equal({
      traffic: { blue: 100 },
      converged: true,
    });
  });

  it("routes nothing on the first release, until the deployment exists", function () {
    expect(planTraffic(want({ blue: ["1", 100] }), undefined)).to.deep.equal({ traffic: {}, converged: false });
  });

  it("keeps the previous split while a new deployment is created", function () {
    expect(planTraffic(want({ blue: ["3", 50], green: ["4", 50] }), state({ blue: "3" }, { blue: 100 }))).to.deep.equal({
      traffic: { blue: 100 },
      converged: false,
    });
  });

  it("drops a previous split that names a deployment no longer configured", function () {
    expect(planTraffic(want({ green: ["4", 100] }), state({ blue: "3" }, { blue: 100 }))).to.deep.equal({ traffic: {}, converged: false });
  });

  it("is converged with no deployments and no traffic", function () {
    expect(planTraffic({ model: M, deployments: {} }, undefined)).to.deep.equal({ traffic: {}, converged: true });
  });

  // Audit item 2: the endpoint's traffic is updated before the deployments, so a colour whose model
  // version changes must not take traffic in the update that changes it.
  it("gives a re-versioned colour weight 0 while it changes (INT's third release: blue v1 -> v3 at weight 100)", function () {
    const first = planTraffic(want({ blue: ["3", 100], green: ["2", 0] }), state({ blue: "1", green: "2" }, { green: 100 }));
    expect(first).to.deep.equal({ traffic: { green: 100 }, converged: false });
    // the convergence `up`: blue now serves v3
    expect(planTraffic(want({ blue: ["3", 100], green: ["2", 0] }), state({ blue: "3", green: "2" }, first.traffic))).to.deep.equal({
      traffic: { blue: 100 },
      converged: true,
    });
  });

  it("rollback to a version no colour holds: the idle colour is re-versioned at weight 0 first, the serving one keeps the traffic", function () {
    expect(planTraffic(want({ blue: ["2", 100], green: ["4", 0] }), state({ blue: "3", green: "4" }, { green: 100 }))).to.deep.equal({
      traffic: { green: 100 },
      converged: false,
    });
  });

  it("a colour re-versioned from a canary share hands its share to the live colour, never to the stale version", function () {
    expect(planTraffic(want({ blue: ["3", 0], green: ["5", 100] }), state({ blue: "3", green: "4" }, { blue: 90, green: 10 }))).to.deep.equal({
      traffic: { blue: 100 },
      converged: false,
    });
  });

  it("re-versioning the only deployment routes nothing until it serves the new version", function () {
    expect(planTraffic(want({ blue: ["2", 100] }), state({ blue: "1" }, { blue: 100 }))).to.deep.equal({ traffic: {}, converged: false });
  });

  it("a new model name makes every deployment not live", function () {
    expect(planTraffic(want({ blue: ["1", 100] }), state({ blue: "1" }, { blue: 100 }, "other-model"))).to.deep.equal({ traffic: {}, converged: false });
  });

  it("a weight-0 colour re-versioned next to the serving one (a staged rollout's first step) is converged", function () {
    expect(planTraffic(want({ blue: ["3", 100], green: ["5", 0] }), state({ blue: "3", green: "4" }, { blue: 100 }))).to.deep.equal({
      traffic: { blue: 100 },
      converged: true,
    });
  });
});

describe("traffic plan: reading the previous servingState output", function () {
  it("reads versions and pinned assets defensively", function () {
    expect(toServingState(undefined)).to.equal(undefined);
    expect(
      toServingState({
        model: "m",
        deployments: { blue: { version: "3", codeId: "c", environmentId: "e" }, green: { version: 4 }, bad: "x", none: {} },
        traffic: { blue: 100, green: "x" },
      }),
    ).to.deep.equal({ model: "m", deployments: { blue: { version: "3", codeId: "c", environmentId: "e" }, green: { version: "4" } }, traffic: { blue: 100 } });
  });

  it("takes versions for state from before they were recorded from the previous servedModel output", function () {
    const legacy = { liveDeployments: ["blue", 3, "green"], traffic: { blue: 100 } };
    const served = { name: "m", deployments: { blue: { version: "3", weight: 100 }, green: { version: "4", weight: 0 } } };
    expect(toServingState(legacy, served)).to.deep.equal({
      model: "m",
      deployments: { blue: { version: "3" }, green: { version: "4" } },
      traffic: { blue: 100 },
    });
  });

  it("without servedModel, legacy state names no live deployment (traffic waits one more up)", function () {
    expect(toServingState({ liveDeployments: ["blue"], traffic: { blue: 100 } })).to.deep.equal({ deployments: {}, traffic: { blue: 100 } });
  });
});
