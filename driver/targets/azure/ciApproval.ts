/**
 * What `mlops approve --from-azure-devops` (adoApprover.ts) and `--from-github` (githubApprover.ts) share: a read of
 * the CI system's REST API with the job's own token, whose failure is one ApprovalError line (exit 5, nothing
 * recorded), and the choice of the name to record among the names an approver may be listed under in
 * mlops:approvers of Pulumi.prod.yaml (matched case-insensitively, as the release core matches).
 */
import { ApprovalError } from "../../core/errors.js";

/** An approval read from a CI system, ready for the release core's approve(). */
export interface CiApproval {
  /** Who approved, each with the names they may be listed under, the preferred (recorded by default) first. */
  approvers: ReadonlyArray<readonly string[]>;
  /** The audit comment recorded with the approval. */
  comment: string;
}

/**
 * The name to record: the first name, in approver order, that mlops:approvers lists; else the first approver's
 * preferred name, which the core then refuses (exit 5, nothing recorded) with the list of who may approve.
 */
export function listedName(approvers: CiApproval["approvers"], listed: readonly string[]): string {
  const lower = new Set(listed.map((x) => x.toLowerCase()));
  for (const names of approvers) {
    const hit = names.find((n) => n && lower.has(n.toLowerCase()));
    if (hit) return hit;
  }
  return approvers[0]?.[0] ?? "";
}

export interface CiRequest {
  /** "Azure DevOps", "GitHub": named in the error lines */
  service: string;
  url: string;
  /** the job's token, sent as `Authorization: Bearer` and never printed */
  token: string;
  /** what is read, for the error lines: "the timeline of build 4711" */
  what: string;
  /** what to fix when the service refuses the token */
  refusedHint: string;
  headers?: Record<string, string>;
}

/** GET a JSON document with the job's token; anything but 200 + JSON is one ApprovalError line. */
export async function ciGetJson<T>(req: CiRequest, fetchImpl: typeof fetch = fetch): Promise<T> {
  let res: Response;
  try {
    res = await fetchImpl(req.url, {
      headers: { accept: "application/json", ...req.headers, authorization: `Bearer ${req.token}` },
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new ApprovalError(`could not read ${req.what} from ${req.service} (${(e as Error).name}); nothing was recorded`);
  }
  const type = res.headers.get("content-type") ?? "";
  if (res.status !== 200 || !type.includes("json")) {
    throw new ApprovalError(`${req.service} refused to show ${req.what} (HTTP ${res.status}); ${req.refusedHint}; nothing was recorded`);
  }
  return (await res.json()) as T;
}
