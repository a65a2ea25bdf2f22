/**
 * `mlops approve --from-github` when GitHub's answer is not a list of reviews as GitHub's REST reference describes
 * (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals`): not JSON, a huge body, null entries, another shape.
 * Each is one ApprovalError line ending in "nothing was recorded", never an internal error.
 */
import { expect } from "chai";
import { jsonAnswer, refusalOf } from "../../support/ciAnswers.js";
import { MAX_CI_BODY_BYTES } from "../../../driver/targets/azure/ciApproval.js";
import { resolveGitHubApprovers, type GitHubRun } from "../../../driver/targets/azure/githubApprover.js";

const RUN: GitHubRun = { apiUrl: "https://api.github.example", repository: "octo-org/mlops", runId: "4711", environment: "mlops-prod", token: "job-token" };
const json = jsonAnswer;

const refusal = (fetchImpl: typeof fetch): Promise<string> => refusalOf(() => resolveGitHubApprovers(RUN, fetchImpl), RUN.token);

describe("mlops approve --from-github: answers that are not GitHub's (one line each, nothing recorded)", () => {
  it("a body that is not JSON names the address it came from", async () => {
    expect(await refusal(json("<html>"))).to.equal(
      "GitHub answered the review history of run 4711 of octo-org/mlops with a body that is not JSON; check GITHUB_API_URL (https://api.github.example); nothing was recorded",
    );
  });

  it("null entries, entries of another shape, or an object instead of a list find no approval", async () => {
    for (const body of ['[null, 3, "x", {"environments": "mlops-prod"}]', '{"total_count": 1}', "null"]) {
      expect(await refusal(json(body)), body).to.match(/^no approval of environment 'mlops-prod' found in run 4711 of octo-org\/mlops/);
    }
  });

  it("a body larger than any review history is not read whole", async () => {
    const chunk = new Uint8Array(1024 * 1024).fill(32);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent > MAX_CI_BODY_BYTES * 4) return c.close();
        sent += chunk.byteLength;
        c.enqueue(chunk);
      },
    });
    expect(await refusal(json(stream))).to.match(/^GitHub answered the review history of run 4711 of octo-org\/mlops with more than 16 MiB/);
    expect(sent).to.be.lessThan(MAX_CI_BODY_BYTES * 2);
  });
});
