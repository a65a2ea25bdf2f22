import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { prepareMocks, unwrap } from "./harness.js";

describe("index.ts entry point", function () {
  it("builds the running stack from its config and exports the outputs the driver reads", async function () {
    await prepareMocks("int");
    // The module builds the stack at import time (once per process), as the Pulumi engine runs it.
    const program = (await import("../../../index.js")) as Record<string, unknown>;
    expect(Object.keys(program)).to.include.members([
      "resourceGroupName",
      "workspaceName",
      "workspaceId",
      "mlflowTrackingUri",
      "trainingComputeName",
      "inferenceComputeName",
      "endpointName",
      "scoringUri",
      "servedModel",
      "traffic",
      "trafficConverged",
      "servingState",
      "codeVersion",
    ]);
    expect(await unwrap(program["workspaceName"] as pulumi.Output<string>)).to.equal("mlw-mlops-int");
    expect(await unwrap(program["traffic"] as pulumi.Output<Record<string, number>>)).to.deep.equal({});
    expect(program["codeVersion"]).to.match(/^[0-9a-f]{12}$/);
  });
});
