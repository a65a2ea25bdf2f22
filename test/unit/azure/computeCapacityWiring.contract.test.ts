/**
 * The azure target checks the training cluster after its own `pulumi up`s: a release whose INT deployment runs
 * `up` reports, on progress, a capacity that Azure kept different from Pulumi.int.yaml's mlops:training
 * (contract test against the loopback Azure fake; see computeCapacity.contract.test.ts for the comparison).
 */
import { expect } from "chai";
import { azureMachine } from "./support/cliAndTarget.js";
import { FakeStackUpdater, fakeAzureEachTest } from "./support/harness.js";

describe("azure target: capacity read-back wired after up (contract test)", function () {
  this.timeout(30_000);
  const az = fakeAzureEachTest({ endpointKeys: { int: "int-key" } });

  it("contract test: a release that deploys INT warns that the training cluster kept minNodes 1 / maxNodes 2 while Pulumi.int.yaml says 0 / 4", async () => {
    az.fake.computes.set("ws-int/train-cluster", {
      computeType: "AmlCompute",
      properties: {
        vmSize: "STANDARD_D3_V2",
        vmPriority: "Dedicated",
        scaleSettings: { minNodeCount: 1, maxNodeCount: 2, nodeIdleTimeBeforeScaleDown: "PT2M" },
      },
    });
    const { m, progress } = await azureMachine(az.repo.root, az.fake, new FakeStackUpdater(az.repo.root, az.fake));
    const r = await m.start();
    expect(r.state).to.equal("awaiting-approval"); // a warning, not a failure
    const warnings = progress.lines.filter((l) => /training cluster/.test(l));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(
      /^warning: stack 'int': the training cluster 'train-cluster' in Azure kept minNodes 1 \(stack file: 0\), maxNodes 2 \(stack file: 4\);/,
    );
    expect(warnings[0]).to.contain(
      "az ml compute update --name train-cluster --resource-group rg-int --workspace-name ws-int --min-instances 0 --max-instances 4",
    );
  });
});
