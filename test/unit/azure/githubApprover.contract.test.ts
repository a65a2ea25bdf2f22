/**
 * Contract tests of `mlops approve --from-github` against a loopback fake of GitHub's REST API
 * (../github/support/fakeGitHub.ts: "Get the review history for a workflow run", GET /repos/{owner}/{repo}/actions/
 * runs/{run_id}/approvals, bearer auth with the job's GITHUB_TOKEN, the `environment-approvals` shape of
 * github/rest-api-description) and the Azure fakes: the approver recorded for PROD is the required reviewer who
 * approved the job's environment (as `github:<login>`), not whoever pushed; no approval -> one line, exit 5, nothing
 * recorded; a reviewer not listed in mlops:approvers -> refused.
 */
import { expect } from "chai";
import { ApprovalError, ConfigError } from "../../../driver/core/errors.js";
import { approveRelease } from "../../../driver/cli/approveRelease.js";
import { listedName } from "../../../driver/targets/azure/ciApproval.js";
import { approvalFromGitHub, githubRunFromEnv, resolveGitHubApprovers } from "../../../driver/targets/azure/githubApprover.js";
import { FakeGitHub } from "../github/support/fakeGitHub.js";
import { azureMachine, expectCliRefusal } from "./support/cliAndTarget.js";
import { FakeStackUpdater, fakeAzureEachTest, RELEASE_KEYS } from "./support/harness.js";

const TOKEN = "ghs_job-token";
const alice = { login: "alice-smith", id: 5811 };
const mallory = { login: "mallory", id: 6666 };

describe("mlops approve --from-github (contract tests against a fake GitHub REST API)", function () {
  this.timeout(60_000);
  let gh: FakeGitHub;
  beforeEach(async () => {
    gh = await new FakeGitHub("octo-org/mlops", "4711", TOKEN, "oidc-request-token").start();
  });
  afterEach(() => gh.stop());
  const env = (): NodeJS.ProcessEnv => ({
    GITHUB_API_URL: gh.url,
    GITHUB_REPOSITORY: "octo-org/mlops",
    GITHUB_RUN_ID: "4711",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_TOKEN: TOKEN,
    MLOPS_GITHUB_ENVIRONMENT: "mlops-prod",
    GITHUB_ACTOR: "bob-pusher", // who pushed: must not be what is recorded
  });

  it("contract test: reads this run's review history with the job token and returns who approved the job's environment", async () => {
    gh.review("staging", "approved", mallory); // another environment's review
    gh.review("mlops-prod", "rejected", mallory, "not yet"); // an earlier attempt, rejected
    gh.review("mlops-prod", "approved", alice, "ship it");
    const approvers = await resolveGitHubApprovers(githubRunFromEnv(env()));
    expect(approvers).to.deep.equal([{ login: "alice-smith", id: 5811, comment: "ship it" }]);
    expect(gh.apiCalls).to.deep.equal([
      {
        method: "GET",
        path: "/repos/octo-org/mlops/actions/runs/4711/approvals",
        query: {},
        authorization: `Bearer ${TOKEN}`,
        accept: "application/vnd.github+json",
        apiVersion: "2022-11-28",
      },
    ]);
    const approval = await approvalFromGitHub(env(), "release r-1");
    expect(approval.approvers).to.deep.equal([["github:alice-smith", "github-id:5811"]]);
    expect(approval.comment).to.equal(
      "approved in GitHub by @alice-smith (user 5811); environment mlops-prod, run 4711 attempt 1 of octo-org/mlops; @alice-smith's comment: ship it; release r-1",
    );
    expect(approval.comment).to.not.contain(TOKEN).and.not.contain("bob-pusher");
    // logins match case-insensitively (GitHub logins are); a reviewer listed by user id is recorded by that id
    expect(listedName(approval.approvers, ["GitHub:Alice-Smith"])).to.equal("github:alice-smith");
    expect(listedName(approval.approvers, ["github-id:5811"])).to.equal("github-id:5811");
    // a bare login is not a listed GitHub reviewer (it could be anyone's --as name)
    expect(listedName(approval.approvers, ["alice-smith"])).to.equal("github:alice-smith");
  });

  it("contract test: with several approvals of the environment (re-run attempts), a listed reviewer is the one recorded", async () => {
    gh.review("mlops-prod", "approved", mallory).review("mlops-prod", "approved", alice).review("mlops-prod", "approved", mallory);
    const approval = await approvalFromGitHub(env());
    expect(approval.approvers).to.deep.equal([
      ["github:mallory", "github-id:6666"],
      ["github:alice-smith", "github-id:5811"],
    ]);
    expect(listedName(approval.approvers, ["github:alice-smith"])).to.equal("github:alice-smith");
    expect(listedName(approval.approvers, ["github:nobody"])).to.equal("github:mallory");
  });

  it("contract test: no approval of the environment in the run is one ApprovalError line saying what to do", async () => {
    gh.review("staging", "approved", alice);
    const err = await resolveGitHubApprovers(githubRunFromEnv(env())).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApprovalError);
    expect((err as Error).message).to.equal(
      "no approval of environment 'mlops-prod' found in run 4711 of octo-org/mlops: give the environment required reviewers (docs/github-actions.md, \"Approvals\"); nothing was recorded",
    );
    gh.review("mlops-prod", "rejected", mallory).review("mlops-prod", "pending", alice);
    const rejected = await resolveGitHubApprovers(githubRunFromEnv(env())).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(rejected?.message).to.equal(
      "no approved review of environment 'mlops-prod' in run 4711 of octo-org/mlops (reviews: rejected by mallory, pending by alice-smith); nothing was recorded",
    );
  });

  it("contract test: a refused token (401), a token without actions: read (403) and a missing GITHUB_TOKEN are one line each, with the fix", async () => {
    gh.review("mlops-prod", "approved", alice);
    const bad = await resolveGitHubApprovers({ ...githubRunFromEnv(env()), token: "wrong" }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(bad).to.be.instanceOf(ApprovalError);
    expect(bad?.message).to.equal(
      "GitHub refused to show the review history of run 4711 of octo-org/mlops (HTTP 401); give the job 'permissions: actions: read' and map 'GITHUB_TOKEN: ${{ github.token }}' into the step's env; nothing was recorded",
    );
    gh.tokenWithoutActionsRead = "ghs_contents-only";
    const forbidden = await resolveGitHubApprovers({ ...githubRunFromEnv(env()), token: "ghs_contents-only" }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(forbidden?.message)
      .to.match(/^GitHub refused to show the review history of run 4711 of octo-org\/mlops \(HTTP 403\); give the job 'permissions: actions: read'/)
      .and.not.contain("ghs_contents-only");
    expect(() => githubRunFromEnv({ ...env(), GITHUB_TOKEN: "" })).to.throw(
      ConfigError,
      /^--from-github needs GITHUB_TOKEN: .*'GITHUB_TOKEN: \$\{\{ github\.token \}\}' in the step's env$/,
    );
    expect(() => githubRunFromEnv({ ...env(), MLOPS_GITHUB_ENVIRONMENT: undefined })).to.throw(ConfigError, /MLOPS_GITHUB_ENVIRONMENT/);
  });

  it("CLI: with no approval found, mlops approve --from-github exits 5 with one line and touches nothing", async () => {
    await expectCliRefusal(env(), ["approve", "rel-20261127-101500-3f2a", "--target", "azure", "--from-github"], {
      code: 5,
      stderr: [
        "mlops: no approval of environment 'mlops-prod' found in run 4711 of octo-org/mlops: give the environment required reviewers (docs/github-actions.md, \"Approvals\"); nothing was recorded",
      ],
    });
  });

  it("CLI: --as, --from-azure-devops and --from-github are exclusive (usage error, exit 2)", async () => {
    await expectCliRefusal(env(), ["approve", "rel-20261127-101500-3f2a", "--target", "azure", "--from-github", "--as", "alice"], {
      code: 2,
      stderr: ["mlops: pass only one of --as <name>, --from-azure-devops or --from-github"],
    });
    expect(gh.apiCalls).to.deep.equal([]);
  });

  describe("with a release awaiting approval on the Azure fakes", () => {
    const az = fakeAzureEachTest({ endpointKeys: RELEASE_KEYS, prodApprovers: ["alice.smith@contoso.com", "github:alice-smith"] });
    const machine = (updater: FakeStackUpdater) => azureMachine(az.repo.root, az.fake, updater);
    /** What the CLI does for --from-github, through the real target's approvals port and the release core. */
    async function approveFromGitHub(updater: FakeStackUpdater, id: string) {
      const ci = await approvalFromGitHub(env());
      const { m, t } = await machine(updater);
      return approveRelease(m, t, id, { ci, source: "github" });
    }

    it("contract test: the approver recorded for PROD is the GitHub reviewer as github:<login> (not the pusher), bound to the model version", async () => {
      const updater = new FakeStackUpdater(az.repo.root, az.fake);
      const r = await (await machine(updater)).m.start();
      expect(r.state).to.equal("awaiting-approval");
      gh.review("mlops-prod", "approved", alice, "ship it");
      const approved = await approveFromGitHub(updater, r.id);
      expect(approved.state).to.equal("approved");
      expect(approved.approval).to.deep.include({ by: "github:alice-smith", modelVersion: r.model!.version, digest: r.model!.digest });
      expect(approved.approval!.comment).to.contain("@alice-smith (user 5811)").and.not.contain("bob-pusher");
    });

    it("contract test: a GitHub reviewer not listed in mlops:approvers is refused and nothing is recorded", async () => {
      const updater = new FakeStackUpdater(az.repo.root, az.fake);
      const r = await (await machine(updater)).m.start();
      gh.review("mlops-prod", "approved", mallory);
      const err = await approveFromGitHub(updater, r.id).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ApprovalError);
      expect((err as Error).message).to.equal(
        "'github:mallory' may not approve releases into prod; approvers listed in Pulumi.prod.yaml: alice.smith@contoso.com, github:alice-smith",
      );
      const again = await (await machine(updater)).t.store.load(r.id);
      expect(again.state).to.equal("awaiting-approval");
      expect(again.approval).to.equal(undefined);
    });
  });
});
