/**
 * The training cluster read-back after `up` (driver/targets/azure/computeCapacity.ts): a pure comparison of the
 * stack file's mlops:training with what ARM returns for the AmlCompute (REST "Compute - Get", api-version
 * 2022-10-01), and contract tests of the read against the loopback Azure fake.
 */
import { expect } from "chai";
import { capacityWarning, compareCapacity, isoSeconds, withCapacityCheck } from "../../../driver/targets/azure/computeCapacity.js";
import { clientsFor, FakeStackUpdater, RecordingProgress, fakeAzureEachTest } from "./support/harness.js";

const wanted = { vmSize: "STANDARD_D3_V2", vmPriority: "Dedicated" as const, minNodes: 0, maxNodes: 4, idleScaleDown: "PT120S" };
const amlCompute = (scale: { minNodeCount: number; maxNodeCount: number; nodeIdleTimeBeforeScaleDown: string }, vmSize = "Standard_D3_v2") => ({
  computeType: "AmlCompute",
  properties: { vmSize, vmPriority: "Dedicated", scaleSettings: scale },
});

describe("training cluster capacity read back after up", function () {
  this.timeout(20_000);

  it("compares by value: PT120S equals PT2M, VM sizes case-insensitively; min/max/idle/size differences are named", () => {
    expect(isoSeconds("PT2M")).to.equal(120);
    expect(isoSeconds("P1DT1H")).to.equal(90000);
    expect(isoSeconds("garbage")).to.equal(undefined);
    expect(compareCapacity(wanted, { vmSize: "Standard_D3_v2", vmPriority: "Dedicated", minNodes: 0, maxNodes: 4, idleScaleDown: "PT2M" })).to.deep.equal([]);
    expect(
      compareCapacity(wanted, { vmSize: "Standard_DS2_v2", vmPriority: "Dedicated", minNodes: 1, maxNodes: 2, idleScaleDown: "PT30M" }).map((d) => [
        d.key,
        d.actual,
      ]),
    ).to.deep.equal([
      ["vmSize", "Standard_DS2_v2"],
      ["minNodes", 1],
      ["maxNodes", 2],
      ["idleScaleDown", "PT30M"],
    ]);
  });

  it("the warning names the stack, the values Azure kept and the documented fix", () => {
    const drift = compareCapacity(wanted, { vmSize: "Standard_DS2_v2", vmPriority: "Dedicated", minNodes: 1, maxNodes: 2, idleScaleDown: "PT120S" });
    expect(capacityWarning("prod", "train-cluster", { resourceGroup: "rg-prod", workspace: "ws-prod" }, drift)).to.equal(
      "stack 'prod': the training cluster 'train-cluster' in Azure kept vmSize Standard_DS2_v2 (stack file: STANDARD_D3_V2), minNodes 1 (stack file: 0), maxNodes 2 (stack file: 4); " +
        "pulumi up does not update an existing AmlCompute (Azure/bicep#17617): run 'az ml compute update --name train-cluster --resource-group rg-prod --workspace-name ws-prod --min-instances 0 --max-instances 4'; " +
        "vmSize cannot change on an existing cluster: delete compute 'train-cluster' (when no job runs) and run 'pulumi up --stack prod' to recreate it",
    );
    expect(capacityWarning("prod", "train-cluster", { resourceGroup: "r", workspace: "w" }, [])).to.equal(undefined);
  });

  describe("against the Azure fake", () => {
    const az = fakeAzureEachTest();

    it("contract test: after the first up of a stack the compute is read through ARM and a capacity Azure did not apply is reported; later ups do not read it again", async () => {
      az.fake.computes.set("ws-int/train-cluster", amlCompute({ minNodeCount: 0, maxNodeCount: 2, nodeIdleTimeBeforeScaleDown: "PT2M" }));
      const updater = withCapacityCheck(new FakeStackUpdater(az.repo.root, az.fake), {
        readWanted: () => wanted,
        workspace: async (s) => clientsFor(az.fake, s),
      });
      const progress = new RecordingProgress();
      await updater.up("int", progress);
      await updater.up("int", progress);
      const gets = az.fake.requests.filter((r) => r.method === "GET" && r.path.endsWith("/computes/train-cluster"));
      expect(gets).to.have.length(1);
      expect(gets[0]!.path).to.equal(
        "/subscriptions/sub-int/resourceGroups/rg-int/providers/Microsoft.MachineLearningServices/workspaces/ws-int/computes/train-cluster",
      );
      expect(gets[0]!.query["api-version"]).to.equal("2022-10-01");
      const warnings = progress.lines.filter((l) => l.startsWith("warning:"));
      expect(warnings).to.deep.equal([
        "warning: stack 'int': the training cluster 'train-cluster' in Azure kept maxNodes 2 (stack file: 4); pulumi up does not update an existing AmlCompute (Azure/bicep#17617): run 'az ml compute update --name train-cluster --resource-group rg-int --workspace-name ws-int --max-instances 4'",
      ]);
    });

    it("contract test: a cluster that matches the stack file gives no warning; a compute that cannot be read is a warning, not a failure", async () => {
      az.fake.computes.set("ws-int/train-cluster", amlCompute({ minNodeCount: 0, maxNodeCount: 4, nodeIdleTimeBeforeScaleDown: "PT2M" }));
      const progress = new RecordingProgress();
      const updater = withCapacityCheck(new FakeStackUpdater(az.repo.root, az.fake), {
        readWanted: () => wanted,
        workspace: async (s) => clientsFor(az.fake, s),
      });
      await updater.up("int", progress);
      const up = await updater.up("prod", progress); // no compute in ws-prod: ARM answers 404
      expect(up.result).to.equal("succeeded");
      expect(progress.lines.filter((l) => l.startsWith("warning:"))).to.deep.equal([
        "warning: stack 'prod': could not read the training cluster 'train-cluster' back to check its capacity (RestError); check it in the Azure portal",
      ]);
    });
  });
});
