/**
 * Who approved this run's environment check in Azure DevOps, read from Azure DevOps' REST API with the job's own
 * token, so the approval mlops records for PROD names the person who approved, not whoever queued the run
 * (Build.RequestedFor is a display name, e.g. "Alice Smith").
 *
 * 1. The run's timeline (MS Learn, REST "Timeline - Get": GET {collection}{project}/_apis/build/builds/{buildId}/
 *    timeline?api-version=7.1) holds, under this stage's `Stage` record (identifier = System.StageName), a
 *    `Checkpoint` record whose `Checkpoint.Approval` children carry the approval ids as their record ids.
 * 2. The approvals (MS Learn, REST "Approvals - Query", MicrosoftDocs/vsts-rest-api-specs
 *    specification/approvalsAndChecks/7.1/pipelinesapproval.json: GET {collection}{project}/_apis/pipelines/
 *    approvals?approvalIds=..&$expand=steps&api-version=7.1-preview.1) give each step's `status` and
 *    `actualApprover` (IdentityRef: id, displayName, uniqueName = the UPN for Entra-backed organizations).
 * Both calls authenticate as the job: `Authorization: Bearer $(System.AccessToken)` (MS Learn, "Use predefined
 * variables", System.AccessToken).
 */
import { ApprovalError, ConfigError } from "../../core/errors.js";
import { ciGetJson, listedName, type CiApproval } from "./ciApproval.js";

export const TIMELINE_API_VERSION = "7.1";
export const APPROVALS_API_VERSION = "7.1-preview.1";

export interface AdoRun {
  /** System.CollectionUri, e.g. https://dev.azure.com/fabrikam/ */
  collectionUri: string;
  /** System.TeamProjectId */
  project: string;
  /** Build.BuildId */
  buildId: string;
  /** System.StageName: the stage whose environment check was approved */
  stage: string;
  /** System.AccessToken (mapped into the step's env) */
  accessToken: string;
}

export interface AdoApprover {
  /** IdentityRef.uniqueName: the approver's UPN */
  uniqueName: string;
  /** IdentityRef.id: the approver's Azure DevOps identity id */
  id: string;
  displayName: string;
  approvalId: string;
  approvedOn?: string;
  comment?: string;
}

const VARS: Record<keyof AdoRun, string> = {
  collectionUri: "SYSTEM_COLLECTIONURI",
  project: "SYSTEM_TEAMPROJECTID",
  buildId: "BUILD_BUILDID",
  stage: "SYSTEM_STAGENAME",
  accessToken: "SYSTEM_ACCESSTOKEN",
};

export function adoRunFromEnv(env: NodeJS.ProcessEnv = process.env): AdoRun {
  const missing = Object.values(VARS).filter((n) => !env[n]?.trim());
  if (missing.length) {
    throw new ConfigError(
      `--from-azure-devops needs ${missing.join(", ")}: run it in the Azure Pipelines job that passed the environment's approval check${missing.includes("SYSTEM_ACCESSTOKEN") ? ", with 'env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)' on the step" : ""}`,
    );
  }
  const get = (k: keyof AdoRun) => env[VARS[k]]!.trim();
  return {
    collectionUri: get("collectionUri").replace(/\/*$/, "/"),
    project: get("project"),
    buildId: get("buildId"),
    stage: get("stage"),
    accessToken: get("accessToken"),
  };
}

interface TimelineRecord {
  id: string;
  parentId?: string | null;
  type?: string;
  name?: string;
  identifier?: string | null;
}
interface IdentityRef {
  id?: string;
  displayName?: string;
  uniqueName?: string;
}
interface ApprovalStep {
  status?: string;
  actualApprover?: IdentityRef;
  comment?: string;
  lastModifiedOn?: string;
}
interface Approval {
  id: string;
  status?: string;
  steps?: ApprovalStep[];
}

function getJson<T>(run: AdoRun, url: string, what: string, fetchImpl: typeof fetch): Promise<T> {
  // Azure DevOps answers a refused token with 203/302 + a sign-in page, or 401
  const refusedHint = "the job's build service needs read access to the pipeline and the environment, and the step must map SYSTEM_ACCESSTOKEN";
  return ciGetJson<T>(
    { service: "Azure DevOps", url, token: run.accessToken, what, refusedHint, address: `SYSTEM_COLLECTIONURI (${run.collectionUri})` },
    fetchImpl,
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The approved actual approver of this stage's environment check. */
export async function resolveAdoApprover(run: AdoRun, fetchImpl: typeof fetch = fetch): Promise<AdoApprover> {
  const base = `${run.collectionUri}${encodeURIComponent(run.project)}`;
  const timelineWhat = `the timeline of build ${run.buildId}`;
  const timeline = await getJson(
    run,
    `${base}/_apis/build/builds/${encodeURIComponent(run.buildId)}/timeline?api-version=${TIMELINE_API_VERSION}`,
    timelineWhat,
    fetchImpl,
  );
  if (!isObject(timeline) || (timeline.records !== undefined && timeline.records !== null && !Array.isArray(timeline.records))) {
    throw new ApprovalError(
      `Azure DevOps answered ${timelineWhat} with JSON that is not a timeline (no records list); check SYSTEM_COLLECTIONURI (${run.collectionUri}); nothing was recorded`,
    );
  }
  const records = ((timeline.records as unknown[] | null | undefined) ?? []).filter(isObject) as unknown as TimelineRecord[];
  const stage = records.find((r) => r.type === "Stage" && (r.identifier === run.stage || (!r.identifier && r.name === run.stage)));
  const checkpoints = new Set(records.filter((r) => r.type === "Checkpoint" && stage && r.parentId === stage.id).map((r) => r.id));
  const approvalIds = records.filter((r) => r.type === "Checkpoint.Approval" && r.parentId && checkpoints.has(r.parentId)).map((r) => r.id);
  if (approvalIds.length === 0) {
    throw new ApprovalError(
      `no approval check found for stage '${run.stage}' of build ${run.buildId}: add an Approvals check to the stage's environment (docs/azure-target.md, "Approvals"); nothing was recorded`,
    );
  }
  const q = new URLSearchParams({ approvalIds: approvalIds.join(","), $expand: "steps", "api-version": APPROVALS_API_VERSION });
  const approvalsWhat = `approvals ${approvalIds.join(", ")}`;
  const answer = await getJson(run, `${base}/_apis/pipelines/approvals?${q}`, approvalsWhat, fetchImpl);
  const list: unknown = Array.isArray(answer) ? answer : isObject(answer) ? (answer.value ?? []) : undefined;
  if (!Array.isArray(list)) {
    throw new ApprovalError(
      `Azure DevOps answered ${approvalsWhat} with JSON that is not a list of approvals; check SYSTEM_COLLECTIONURI (${run.collectionUri}); nothing was recorded`,
    );
  }
  const approvals = list.filter(isObject).map((a) => ({ ...a, steps: Array.isArray(a.steps) ? a.steps.filter(isObject) : [] })) as unknown as Approval[];
  const approved = approvals.filter((a) => a.status === "approved");
  const steps = approved
    .flatMap((a) => (a.steps ?? []).filter((s) => s.status === "approved" && s.actualApprover?.uniqueName).map((s) => ({ a, s })))
    .sort((x, y) => (x.s.lastModifiedOn ?? "").localeCompare(y.s.lastModifiedOn ?? ""));
  const first = steps[0];
  if (!first) {
    const states = approvals.map((a) => a.status ?? "unknown").join(", ") || "none returned";
    throw new ApprovalError(
      `the approval check of stage '${run.stage}' (build ${run.buildId}) has no approved step with an approver (status: ${states}); nothing was recorded`,
    );
  }
  const who = first.s.actualApprover!;
  return {
    uniqueName: who.uniqueName!,
    id: who.id ?? "",
    displayName: who.displayName ?? who.uniqueName!,
    approvalId: first.a.id,
    ...(first.s.lastModifiedOn ? { approvedOn: first.s.lastModifiedOn } : {}),
    ...(first.s.comment ? { comment: first.s.comment } : {}),
  };
}

/** The audit comment recorded with the approval. */
export function adoApprovalComment(a: AdoApprover, run: AdoRun, extra?: string): string {
  const parts = [
    `approved in Azure DevOps by ${a.displayName} <${a.uniqueName}> (identity ${a.id || "?"})`,
    `approval ${a.approvalId}, stage ${run.stage}, build ${run.buildId}${a.approvedOn ? `, at ${a.approvedOn}` : ""}`,
  ];
  if (a.comment) parts.push(`their comment: ${a.comment}`);
  if (extra) parts.push(extra);
  return parts.join("; ");
}

/**
 * Which name to record for the approver: the UPN, or the Azure DevOps identity id when only that is listed in
 * mlops:approvers (matching is case-insensitive, as the release core's). An approver listed under neither is passed
 * on as the UPN, and the core refuses it (exit 5, nothing recorded).
 */
export function approverName(a: AdoApprover, listed: readonly string[]): string {
  return listedName([[a.uniqueName, a.id]], listed);
}

/** `--from-azure-devops`: this stage's approver, as the CLI hands it to the release core. */
export async function approvalFromAzureDevOps(env: NodeJS.ProcessEnv, extraComment?: string, fetchImpl: typeof fetch = fetch): Promise<CiApproval> {
  const run = adoRunFromEnv(env);
  const a = await resolveAdoApprover(run, fetchImpl);
  return { approvers: [[a.uniqueName, a.id]], comment: adoApprovalComment(a, run, extraComment) };
}
