/**
 * What `mlops approve --from-azure-devops` (adoApprover.ts) and `--from-github` (githubApprover.ts) share: a read of
 * the CI system's REST API with the job's own token, whose failure is one ApprovalError line (exit 5, nothing
 * recorded), and the choice of the name to record among the names an approver may be listed under in
 * mlops:approvers of Pulumi.prod.yaml (matched case-insensitively, as the release core matches).
 */
import { ApprovalError } from "../../core/errors.js";
import type { ApproverIdentity } from "../../core/release.js";

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

/** The CI system's record of who approved, as the identity the release core checks the recorded name against. */
export function ciIdentity(ci: CiApproval, source: "azure-devops" | "github"): ApproverIdentity {
  return { authenticated: true, source, names: ci.approvers.flat().filter(Boolean) };
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
  /** where the address came from, for the error lines: "SYSTEM_COLLECTIONURI (https://dev.azure.com/org/)" */
  address: string;
  headers?: Record<string, string>;
}

/** A build timeline or a run's reviews are a few hundred KB; a larger answer is not the CI system's and is not read further. */
export const MAX_CI_BODY_BYTES = 16 * 1024 ** 2;

/** The body as text, or undefined once it passes MAX_CI_BODY_BYTES (the rest is not read). */
async function boundedText(res: Response): Promise<string | undefined> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_CI_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * GET a JSON document with the job's token. Anything but 200 + JSON, a refused connection, a timeout (30 s), a body
 * over MAX_CI_BODY_BYTES or one that is not JSON is one ApprovalError line (exit 5, nothing recorded). The shape of
 * the JSON is the caller's to check.
 */
export async function ciGetJson<T>(req: CiRequest, fetchImpl: typeof fetch = fetch): Promise<T> {
  const where = `check ${req.address}; nothing was recorded`;
  let res: Response;
  let text: string | undefined;
  try {
    res = await fetchImpl(req.url, {
      headers: { accept: "application/json", ...req.headers, authorization: `Bearer ${req.token}` },
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
    const type = res.headers.get("content-type") ?? "";
    if (res.status !== 200 || !type.includes("json")) {
      await res.body?.cancel().catch(() => undefined);
      throw new ApprovalError(`${req.service} refused to show ${req.what} (HTTP ${res.status}); ${req.refusedHint}; nothing was recorded`);
    }
    text = await boundedText(res);
  } catch (e) {
    if (e instanceof ApprovalError) throw e;
    const cause = (e as { cause?: { code?: unknown } }).cause?.code;
    throw new ApprovalError(`could not read ${req.what} from ${req.service} (${typeof cause === "string" ? cause : (e as Error).name}); ${where}`);
  }
  if (text === undefined) throw new ApprovalError(`${req.service} answered ${req.what} with more than ${MAX_CI_BODY_BYTES / 1024 ** 2} MiB; ${where}`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApprovalError(`${req.service} answered ${req.what} with a body that is not JSON; ${where}`);
  }
}
