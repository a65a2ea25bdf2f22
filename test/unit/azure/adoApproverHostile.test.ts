/**
 * `mlops approve --from-azure-devops` when the Azure DevOps answer is not what Microsoft's REST reference
 * describes: a body that is not JSON, JSON of another shape, a body far larger than a timeline, a connection
 * refused. Each is one ApprovalError line ending in "nothing was recorded", never an internal error, and a
 * huge body is not read into memory whole.
 */
import { expect } from "chai";
import { jsonAnswer, refusalOf } from "../../support/ciAnswers.js";
import { resolveAdoApprover, type AdoRun } from "../../../driver/targets/azure/adoApprover.js";
import { MAX_CI_BODY_BYTES } from "../../../driver/targets/azure/ciApproval.js";

const RUN: AdoRun = { collectionUri: "https://ado.example/fabrikam/", project: "proj-1", buildId: "4711", stage: "Prod", accessToken: "job-token" };
const json = jsonAnswer;

const refusal = (fetchImpl: typeof fetch): Promise<string> => refusalOf(() => resolveAdoApprover(RUN, fetchImpl), RUN.accessToken);

describe("mlops approve --from-azure-devops: answers that are not Azure DevOps' (one line each, nothing recorded)", function () {
  it("a body that is not JSON", async () => {
    expect(await refusal(json("{not json"))).to.equal(
      "Azure DevOps answered the timeline of build 4711 with a body that is not JSON; check SYSTEM_COLLECTIONURI (https://ado.example/fabrikam/); nothing was recorded",
    );
  });

  it("JSON of another shape: null, records that is not a list, approvals that are not a list", async () => {
    expect(await refusal(json("null"))).to.match(/^Azure DevOps answered the timeline of build 4711 with JSON that is not a timeline/);
    expect(await refusal(json('{"records":"x"}'))).to.match(/^Azure DevOps answered the timeline of build 4711 with JSON that is not a timeline/);
    const timeline = JSON.stringify({
      records: [
        { id: "s1", type: "Stage", identifier: "Prod", name: "Prod" },
        { id: "c1", parentId: "s1", type: "Checkpoint" },
        { id: "a1", parentId: "c1", type: "Checkpoint.Approval" },
      ],
    });
    const thenApprovals =
      (body: string): typeof fetch =>
      async (url) =>
        new Response(String(url).includes("/timeline") ? timeline : body, { status: 200, headers: { "content-type": "application/json" } });
    expect(await refusal(thenApprovals('{"value":"x"}'))).to.match(/^Azure DevOps answered approvals a1 with JSON that is not a list of approvals/);
    expect(await refusal(thenApprovals('"x"'))).to.match(/^Azure DevOps answered approvals a1 with JSON that is not a list of approvals/);
  });

  it(`a body above ${MAX_CI_BODY_BYTES / 1024 ** 2} MiB is refused without reading it all`, async () => {
    let sent = 0;
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.length;
        if (sent > 4 * MAX_CI_BODY_BYTES) controller.close();
        else controller.enqueue(chunk);
      },
    });
    expect(await refusal(json(endless))).to.match(/^Azure DevOps answered the timeline of build 4711 with more than 16 MiB/);
    expect(sent).to.be.below(2 * MAX_CI_BODY_BYTES);
  });

  it("a connection refused names the cause", async () => {
    const refused: typeof fetch = async () => {
      throw Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }) });
    };
    expect(await refusal(refused)).to.equal(
      "could not read the timeline of build 4711 from Azure DevOps (ECONNREFUSED); check SYSTEM_COLLECTIONURI (https://ado.example/fabrikam/); nothing was recorded",
    );
  });
});
