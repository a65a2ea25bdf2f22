/**
 * Audit item 2 under Pulumi mocks: the endpoint's traffic is updated before its deployments (they are
 * its children), so a deployment whose model version changes in an update must get weight 0 in that
 * update and its traffic only in the next (convergence) `up`. Each case builds the real program twice:
 * the second build reads the first build's `servingState` output, as the self StackReference does.
 */
import { expect } from "chai";
import { buildForTest, stackFileConfig, unwrap } from "./harness.js";

const ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint";
const DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment";
type Deployments = Record<string, { version: string; weight: number }>;

function servingWith(stack: string, deployments: Deployments) {
  const serving = stackFileConfig(stack)["mlops:serving"] as Record<string, unknown>;
  return { "mlops:serving": { ...serving, deployments } };
}

/** What the previous `up` recorded: every deployment with its version, and the traffic it applied. */
function previousUp(deployments: Deployments, traffic: Record<string, number>) {
  return {
    servedModel: { name: "diabetes-ridge", deployments },
    servingState: {
      model: "diabetes-ridge",
      deployments: Object.fromEntries(Object.entries(deployments).map(([name, d]) => [name, { version: d.version }])),
      // the shape older programs wrote, so the same case also runs against them
      liveDeployments: Object.keys(deployments),
      traffic,
    },
  };
}

async function up(stack: "int" | "prod", deployments: Deployments, previousOutputs: Record<string, unknown>) {
  const built = await buildForTest(stack, { configOverrides: servingWith(stack, deployments), previousOutputs });
  return {
    endpointTraffic: built.one(ENDPOINT).inputs.properties.traffic as Record<string, number>,
    converged: await unwrap(built.stack.outputs.trafficConverged),
    models: Object.fromEntries(built.ofType(DEPLOYMENT).map((d) => [d.inputs.deploymentName, String(d.inputs.properties.model).split("/").pop()])),
    outputs: { servedModel: built.stack.outputs.servedModel, servingState: await unwrap(built.stack.outputs.servingState) },
  };
}

describe("traffic never moves to a deployment before its model version changes (audit item 2)", function () {
  it("INT's third release (blue v1 -> v3 at weight 100): green keeps the traffic while blue changes, blue takes it on the convergence up", async function () {
    const before = previousUp({ blue: { version: "1", weight: 0 }, green: { version: "2", weight: 100 } }, { green: 100 });
    const next = { blue: { version: "3", weight: 100 }, green: { version: "2", weight: 0 } };
    const first = await up("int", next, before);
    expect(first.models).to.deep.equal({ blue: "3", green: "2" });
    expect(first.endpointTraffic).to.deep.equal({ green: 100 });
    expect(first.converged).to.equal(false);

    const second = await up("int", next, first.outputs);
    expect(second.endpointTraffic).to.deep.equal({ blue: 100 });
    expect(second.converged).to.equal(true);
  });

  it("mlops rollback to a version no colour holds: the idle colour is re-versioned at weight 0 first", async function () {
    const before = previousUp({ blue: { version: "3", weight: 0 }, green: { version: "4", weight: 100 } }, { green: 100 });
    const rollback = { blue: { version: "2", weight: 100 }, green: { version: "4", weight: 0 } };
    const first = await up("prod", rollback, before);
    expect(first.endpointTraffic).to.deep.equal({ green: 100 });
    expect(first.converged).to.equal(false);
    const second = await up("prod", rollback, first.outputs);
    expect(second.endpointTraffic).to.deep.equal({ blue: 100 });
    expect(second.converged).to.equal(true);
  });

  it("PROD without rollout: the canary colour re-versioned to 100 gets nothing until it serves the new version", async function () {
    const before = previousUp({ blue: { version: "3", weight: 90 }, green: { version: "4", weight: 10 } }, { blue: 90, green: 10 });
    const next = { blue: { version: "3", weight: 0 }, green: { version: "5", weight: 100 } };
    const first = await up("prod", next, before);
    expect(first.endpointTraffic).to.deep.equal({ blue: 100 });
    expect(first.converged).to.equal(false);
    const second = await up("prod", next, first.outputs);
    expect(second.endpointTraffic).to.deep.equal({ green: 100 });
  });

  it("an unchanged split of unchanged versions is converged in one up (nothing waits)", async function () {
    const same = { blue: { version: "3", weight: 0 }, green: { version: "4", weight: 100 } };
    const result = await up("int", same, previousUp(same, { green: 100 }));
    expect(result.endpointTraffic).to.deep.equal({ green: 100 });
    expect(result.converged).to.equal(true);
  });
});
