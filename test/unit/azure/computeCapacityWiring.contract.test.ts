/**
 * The azure target checks the training cluster after its own `pulumi up`s: a release whose INT deployment runs
 * `up` reports, on progress, a capacity that Azure kept different from Pulumi.int.yaml's mlops:training
 * (contract test against the loopback Azure fake; see computeCapacity.contract.test.ts for the comparison).
 */
import { expect } from "chai";
import { readReleaseConfig } from "../../../driver/config/releaseConfig.js";
import type { Target } from "../../../driver/core/ports.js";
import { ReleaseStateMachine } from "../../../driver/core/releaseStateMachine.js";
import { createAzureTarget } from "../../../driver/targets/azure/index.js";
import { FakeCredential } from "./support/fakeCredential.js";
import { FakeStackUpdater, RecordingProgress, settingsFor, fakeAzureEachTest } from "./support/harness.js";

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
    const base = await readReleaseConfig(az.repo.root);
    const config = { ...base, profile: { ...base.profile, concurrency: [1], secondsPerLevel: 0.2, warmupSeconds: 0 } };
    const progress = new RecordingProgress();
    const t = await createAzureTarget(
      { repoRoot: az.repo.root, config, progress },
      {
        credential: new FakeCredential(),
        updater: new FakeStackUpdater(az.repo.root, az.fake),
        settings: settingsFor(az.fake),
        blobUrlFor: (a) => `${az.fake.url}/${a}`,
      },
    );
    const target: Target = { ...t, tests: { runUnitTests: async () => ({ passed: 1, failed: 0, durationMs: 1, outputTail: "1 passed" }) } };
    const r = await new ReleaseStateMachine({ target, config, progress }).start();
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
