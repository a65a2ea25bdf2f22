/**
 * What `mlops approve` does once it knows who approved: the name to record (from a CI system's record of the
 * approver, or `--as`) and the identity the core checks it against (the CI record, or the target's own: token
 * claims on azure, the OS user locally). The CLI and the approver contract tests both go through here.
 */
import type { Target } from "../core/ports.js";
import type { Release } from "../core/release.js";
import type { ReleaseStateMachine } from "../core/releaseStateMachine.js";
import { ciIdentity, listedName, type CiApproval } from "../targets/azure/ciApproval.js";

export type ApproveRequest = { as?: string; comment?: string } | { ci: CiApproval; source: "azure-devops" | "github" };

export async function approveRelease(m: ReleaseStateMachine, t: Pick<Target, "approvals">, id: string, req: ApproveRequest): Promise<Release> {
  if ("ci" in req) {
    const by = listedName(req.ci.approvers, await t.approvals.approvers("prod"));
    return m.approve(id, by, req.ci.comment, ciIdentity(req.ci, req.source));
  }
  return m.approve(id, req.as ?? "", req.comment);
}
