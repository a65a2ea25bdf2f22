/**
 * Who approved this workflow run's deployment to a GitHub environment, read from GitHub's REST API with the job's
 * own token, so the approval mlops records for PROD names the required reviewer who approved the environment, not
 * whoever pushed (github.actor).
 *
 * GitHub REST "Get the review history for a workflow run" (operation actions/get-reviews-for-run,
 * github/rest-api-description): GET {GITHUB_API_URL}/repos/{owner}/{repo}/actions/runs/{run_id}/approvals, an array
 * of `environment-approvals`: {environments: [{id, name, ...}], state: "approved" | "rejected" | "pending",
 * user: {login, id, ...}, comment}, with no time stamp. Readable by anyone with read access; a GitHub App token
 * (GITHUB_TOKEN is one) needs the `actions: read` permission. Headers as GitHub's REST docs ask: `Accept:
 * application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`.
 *
 * Names in mlops:approvers: a GitHub login is neither a UPN (`alice@contoso.com`, what Azure DevOps approvals give)
 * nor a laptop `--as` name, so GitHub reviewers are listed as `github:<login>` (or `github-id:<user id>`, which
 * survives a rename); docs/github-actions.md, "Approvals".
 */
import { ApprovalError, ConfigError } from "../../core/errors.js";
import { ciGetJson, type CiApproval } from "./ciApproval.js";

export const GITHUB_REST_API_VERSION = "2022-11-28";

export interface GitHubRun {
  /** GITHUB_API_URL, e.g. https://api.github.com (GitHub Enterprise: https://<host>/api/v3) */
  apiUrl: string;
  /** GITHUB_REPOSITORY: owner/name */
  repository: string;
  /** GITHUB_RUN_ID */
  runId: string;
  /** GITHUB_RUN_ATTEMPT, for the audit comment */
  runAttempt?: string;
  /** MLOPS_GITHUB_ENVIRONMENT: the environment the job deploys to (jobs.<id>.environment; GitHub exports no variable for it) */
  environment: string;
  /** GITHUB_TOKEN, mapped into the step's env (`GITHUB_TOKEN: ${{ github.token }}`) */
  token: string;
}

export interface GitHubApprover {
  login: string;
  id: number;
  comment?: string;
}

const VARS = {
  apiUrl: "GITHUB_API_URL",
  repository: "GITHUB_REPOSITORY",
  runId: "GITHUB_RUN_ID",
  environment: "MLOPS_GITHUB_ENVIRONMENT",
  token: "GITHUB_TOKEN",
} as const;

export function githubRunFromEnv(env: NodeJS.ProcessEnv = process.env): GitHubRun {
  const missing = Object.values(VARS).filter((n) => !env[n]?.trim());
  if (missing.length) {
    const hints = [
      ...(missing.includes(VARS.token) ? ["'GITHUB_TOKEN: ${{ github.token }}'"] : []),
      ...(missing.includes(VARS.environment) ? ["'MLOPS_GITHUB_ENVIRONMENT: <the job's environment>'"] : []),
    ];
    throw new ConfigError(
      `--from-github needs ${missing.join(", ")}: run it in the GitHub Actions job that deploys to the approved environment${hints.length ? `, with ${hints.join(" and ")} in the step's env` : ""}`,
    );
  }
  const get = (k: keyof typeof VARS) => env[VARS[k]]!.trim();
  return {
    apiUrl: get("apiUrl").replace(/\/+$/, ""),
    repository: get("repository"),
    runId: get("runId"),
    ...(env.GITHUB_RUN_ATTEMPT?.trim() ? { runAttempt: env.GITHUB_RUN_ATTEMPT.trim() } : {}),
    environment: get("environment"),
    token: get("token"),
  };
}

interface EnvironmentApproval {
  environments?: { name?: string }[];
  state?: string;
  user?: { login?: string; id?: number } | null;
  comment?: string;
}

/**
 * The reviewers who approved this run's deployment to run.environment, in the API's order, each once. A run that
 * was re-run can hold approvals of several attempts; all of them approved this run's commit and release.
 */
export async function resolveGitHubApprovers(run: GitHubRun, fetchImpl: typeof fetch = fetch): Promise<GitHubApprover[]> {
  const [owner, name] = run.repository.split("/").map(encodeURIComponent);
  const reviews = await ciGetJson<EnvironmentApproval[]>(
    {
      service: "GitHub",
      url: `${run.apiUrl}/repos/${owner}/${name}/actions/runs/${encodeURIComponent(run.runId)}/approvals`,
      token: run.token,
      what: `the review history of run ${run.runId} of ${run.repository}`,
      refusedHint: "give the job 'permissions: actions: read' and map 'GITHUB_TOKEN: ${{ github.token }}' into the step's env",
      address: `GITHUB_API_URL (${run.apiUrl})`,
      headers: { accept: "application/vnd.github+json", "x-github-api-version": GITHUB_REST_API_VERSION, "user-agent": "mlops" },
    },
    fetchImpl,
  );
  // the shape is checked, not trusted: an answer that is not a list of reviews finds no approval (one line, exit 5)
  const forEnv = (Array.isArray(reviews) ? reviews : []).filter(
    (r) => r !== null && typeof r === "object" && Array.isArray(r.environments) && r.environments.some((e) => e?.name === run.environment),
  );
  const approvers: GitHubApprover[] = [];
  for (const r of forEnv) {
    if (r.state !== "approved" || !r.user?.login || typeof r.user.id !== "number") continue;
    if (approvers.some((a) => a.id === r.user!.id)) continue;
    approvers.push({ login: r.user.login, id: r.user.id, ...(r.comment ? { comment: r.comment } : {}) });
  }
  if (approvers.length === 0) {
    const states = forEnv.map((r) => `${r.state ?? "unknown"} by ${r.user?.login ?? "?"}`).join(", ");
    throw new ApprovalError(
      states
        ? `no approved review of environment '${run.environment}' in run ${run.runId} of ${run.repository} (reviews: ${states}); nothing was recorded`
        : `no approval of environment '${run.environment}' found in run ${run.runId} of ${run.repository}: give the environment required reviewers (docs/github-actions.md, "Approvals"); nothing was recorded`,
    );
  }
  return approvers;
}

/** The names a GitHub reviewer may be listed under in mlops:approvers, the recorded one first. */
export function githubNames(a: GitHubApprover): string[] {
  return [`github:${a.login}`, `github-id:${a.id}`];
}

/** The audit comment recorded with the approval. */
export function githubApprovalComment(approvers: readonly GitHubApprover[], run: GitHubRun, extra?: string): string {
  const parts = [
    `approved in GitHub by ${approvers.map((a) => `@${a.login} (user ${a.id})`).join(", ")}`,
    `environment ${run.environment}, run ${run.runId}${run.runAttempt ? ` attempt ${run.runAttempt}` : ""} of ${run.repository}`,
  ];
  for (const a of approvers) if (a.comment) parts.push(`@${a.login}'s comment: ${a.comment}`);
  if (extra) parts.push(extra);
  return parts.join("; ");
}

/** `--from-github`: this run's environment approvers, as the CLI hands them to the release core. */
export async function approvalFromGitHub(env: NodeJS.ProcessEnv, extraComment?: string, fetchImpl: typeof fetch = fetch): Promise<CiApproval> {
  const run = githubRunFromEnv(env);
  const approvers = await resolveGitHubApprovers(run, fetchImpl);
  return { approvers: approvers.map(githubNames), comment: githubApprovalComment(approvers, run, extraComment) };
}
