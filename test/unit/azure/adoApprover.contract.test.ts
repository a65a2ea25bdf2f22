/**
 * Contract tests of `mlops approve --from-azure-devops` against a loopback fake of Azure DevOps' REST API
 * (support/fakeAzureDevOps.ts: the timeline and approvals calls with Microsoft's paths, api-versions and bearer
 * auth) and the Azure fakes: the approver recorded for PROD is the identity that approved the environment check
 * (its UPN), not who queued the run; no approval -> one line, non-zero exit, nothing recorded; an approver not
 * listed in mlops:approvers -> refused.
 */
import { expect } from "chai";
import { ApprovalError, ConfigError } from "../../../driver/core/errors.js";
import { adoApprovalComment, adoRunFromEnv, approvalFromAzureDevOps, approverName, resolveAdoApprover } from "../../../driver/targets/azure/adoApprover.js";
import { approveRelease } from "../../../driver/cli/approveRelease.js";
import { azureMachine, expectCliRefusal } from "./support/cliAndTarget.js";
import { FakeAzureDevOps, type FakeApproval } from "./support/fakeAzureDevOps.js";
import { FakeStackUpdater, fakeAzureEachTest, RELEASE_KEYS } from "./support/harness.js";

const TOKEN = "job-access-token";
const alice = { id: "9d2b7f0e-0000-4000-8000-00000000a11c", displayName: "Alice Smith", uniqueName: "Alice.Smith@contoso.com" };
const mallory = { id: "9d2b7f0e-0000-4000-8000-0000000000aa", displayName: "Mallory", uniqueName: "mallory@contoso.com" };
const approvedBy = (who: typeof alice, id = "6f7c1a2e-1111-4222-8333-444455556666"): FakeApproval => ({
  id,
  status: "approved",
  steps: [{ status: "approved", assignedApprover: who, actualApprover: who, comment: "looks good", lastModifiedOn: "2026-12-02T03:00:00Z" }],
});

describe("mlops approve --from-azure-devops (contract tests against a fake Azure DevOps REST API)", function () {
  this.timeout(60_000);
  let ado: FakeAzureDevOps;
  beforeEach(async () => {
    ado = await new FakeAzureDevOps("fabrikam", "proj-1", "4711", TOKEN).start();
  });
  afterEach(() => ado.stop());
  const env = (): NodeJS.ProcessEnv => ({
    SYSTEM_COLLECTIONURI: ado.collectionUri,
    SYSTEM_TEAMPROJECTID: "proj-1",
    BUILD_BUILDID: "4711",
    SYSTEM_STAGENAME: "Prod",
    SYSTEM_ACCESSTOKEN: TOKEN,
    BUILD_REQUESTEDFOR: "Bob Jones", // who queued the run: must not be what is recorded
  });

  it("contract test: reads the approval of this stage's environment check with the job token and returns the approver's UPN and id", async () => {
    ado.addStageApproval("Release", approvedBy(mallory, "00000000-0000-4000-8000-000000000001")); // another stage's check
    ado.addStageApproval("Prod", approvedBy(alice));
    const run = adoRunFromEnv(env());
    const a = await resolveAdoApprover(run);
    expect(a).to.deep.include({
      uniqueName: "Alice.Smith@contoso.com",
      id: alice.id,
      displayName: "Alice Smith",
      approvalId: "6f7c1a2e-1111-4222-8333-444455556666",
    });
    expect(ado.requests.map((r) => [r.path, r.query, r.authorization])).to.deep.equal([
      ["/fabrikam/proj-1/_apis/build/builds/4711/timeline", { "api-version": "7.1" }, `Bearer ${TOKEN}`],
      [
        "/fabrikam/proj-1/_apis/pipelines/approvals",
        { approvalIds: "6f7c1a2e-1111-4222-8333-444455556666", $expand: "steps", "api-version": "7.1-preview.1" },
        `Bearer ${TOKEN}`,
      ],
    ]);
    expect(adoApprovalComment(a, run))
      .to.contain("Alice Smith <Alice.Smith@contoso.com>")
      .and.contain("approval 6f7c1a2e")
      .and.contain("build 4711")
      .and.not.contain(TOKEN);
    // UPNs match case-insensitively; an approver listed by Azure DevOps identity id is recorded by that id
    expect(approverName(a, ["alice.smith@CONTOSO.com"])).to.equal("Alice.Smith@contoso.com");
    expect(approverName(a, [alice.id.toUpperCase()])).to.equal(alice.id);
  });

  it("contract test: no approval check on the stage is one ApprovalError line saying what to do", async () => {
    ado.addStageApproval("Release", approvedBy(alice));
    const err = await resolveAdoApprover(adoRunFromEnv(env())).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApprovalError);
    expect((err as Error).message).to.equal(
      "no approval check found for stage 'Prod' of build 4711: add an Approvals check to the stage's environment (docs/azure-target.md, \"Approvals\"); nothing was recorded",
    );
  });

  it("contract test: a refused job token (Azure DevOps' 203 sign-in page) and a missing SYSTEM_ACCESSTOKEN are one line each", async () => {
    ado.addStageApproval("Prod", approvedBy(alice));
    const err = await resolveAdoApprover({ ...adoRunFromEnv(env()), accessToken: "wrong" }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApprovalError);
    expect((err as Error).message).to.match(/^Azure DevOps refused to show the timeline of build 4711 \(HTTP 203\);/);
    expect(() => adoRunFromEnv({ ...env(), SYSTEM_ACCESSTOKEN: "" })).to.throw(ConfigError, /SYSTEM_ACCESSTOKEN: \$\(System\.AccessToken\)/);
  });

  it("CLI: with no approval found, mlops approve --from-azure-devops exits non-zero with one line and touches nothing", async () => {
    await expectCliRefusal(env(), ["approve", "rel-20261127-101500-3f2a", "--target", "azure", "--from-azure-devops"], {
      code: 5,
      stderr: [
        "mlops: no approval check found for stage 'Prod' of build 4711: add an Approvals check to the stage's environment (docs/azure-target.md, \"Approvals\"); nothing was recorded",
      ],
    });
  });

  it("CLI: a release id that is not one is refused (exit 2) before the job token is sent to Azure DevOps", async () => {
    await expectCliRefusal(env(), ["approve", "r-1", "--target", "azure", "--from-azure-devops"], {
      code: 2,
      stderr: ["mlops: 'r-1' is not a release id (they look like rel-20261127-093000-ab12); list them with 'mlops status'"],
    });
    expect(ado.requests).to.deep.equal([]);
  });

  describe("with a release awaiting approval on the Azure fakes", () => {
    const az = fakeAzureEachTest({ endpointKeys: RELEASE_KEYS, prodApprovers: ["alice.smith@contoso.com", "bob.jones@contoso.com"] });
    const machine = (updater: FakeStackUpdater) => azureMachine(az.repo.root, az.fake, updater);
    /** What the CLI does for --from-azure-devops, through the real target's approvals port and the release core. */
    async function approveFromAdo(updater: FakeStackUpdater, id: string) {
      const ci = await approvalFromAzureDevOps(env());
      const { m, t } = await machine(updater);
      return approveRelease(m, t, id, { ci, source: "azure-devops" });
    }

    it("contract test: the approver recorded for PROD is the Azure DevOps approver's UPN (not Build.RequestedFor), bound to the model version", async () => {
      const updater = new FakeStackUpdater(az.repo.root, az.fake);
      const r = await (await machine(updater)).m.start();
      expect(r.state).to.equal("awaiting-approval");
      ado.addStageApproval("Prod", approvedBy(alice));
      const approved = await approveFromAdo(updater, r.id);
      expect(approved.state).to.equal("approved");
      expect(approved.approval).to.deep.include({ by: "alice.smith@contoso.com", modelVersion: r.model!.version, digest: r.model!.digest });
      expect(approved.approval!.comment).to.contain("Alice Smith <Alice.Smith@contoso.com>").and.not.contain("Bob Jones");
    });

    it("contract test: an Azure DevOps approver not listed in mlops:approvers is refused and nothing is recorded", async () => {
      const updater = new FakeStackUpdater(az.repo.root, az.fake);
      const r = await (await machine(updater)).m.start();
      ado.addStageApproval("Prod", approvedBy(mallory));
      const err = await approveFromAdo(updater, r.id).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ApprovalError);
      expect((err as Error).message).to.equal(
        "'mallory@contoso.com' may not approve releases into prod; approvers listed in Pulumi.prod.yaml: alice.smith@contoso.com, bob.jones@contoso.com",
      );
      const again = await (await machine(updater)).t.store.load(r.id);
      expect(again.state).to.equal("awaiting-approval");
      expect(again.approval).to.equal(undefined);
    });
  });
});
