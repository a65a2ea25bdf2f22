/**
 * A loopback HTTPS fake of the two GitHub services a release job talks to, as GitHub documents them:
 * - the Actions OIDC provider a job with `permissions: id-token: write` reaches through ACTIONS_ID_TOKEN_REQUEST_URL:
 *   GET `<url>&audience=<aud>` with `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answering
 *   `{"value": "<jwt>"}` (GitHub docs, "OpenID Connect reference", Methods for requesting the OIDC token;
 *   @actions/core src/oidc-utils.ts). Its tokens are minted by `mint` (a FakeEntra's, so Entra accepts them for
 *   the lifetime it gives assertions: a GitHub OIDC token expires 5 minutes after it is issued, per the docs'
 *   example token, iat -> exp).
 * - the REST API's "Get the review history for a workflow run": GET /repos/{owner}/{repo}/actions/runs/{run_id}/
 *   approvals, an array of `environment-approvals` objects ({environments: [{id, name, ...}], state:
 *   approved|rejected|pending, user: {login, id, ...}, comment}; github/rest-api-description, operation
 *   actions/get-reviews-for-run), readable with the job's GITHUB_TOKEN given `actions: read`. A wrong token gets
 *   401 "Bad credentials", a token without the permission 403 "Resource not accessible by integration".
 */
import https from "node:https";
import type { AddressInfo } from "node:net";
import { loopbackCert } from "../../azure/support/loopbackTls.js";

export interface FakeReview {
  environments: string[];
  state: "approved" | "rejected" | "pending";
  user: { login: string; id: number };
  comment: string;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization?: string;
  accept?: string;
  apiVersion?: string;
}

export class FakeGitHub {
  url = "";
  readonly requests: FakeRequest[] = [];
  readonly reviews: FakeReview[] = [];
  /** Answers of the OIDC endpoint to send before serving tokens (e.g. [503] for one transient failure). */
  oidcFailures: number[] = [];
  /** The token the approvals endpoint accepts without `actions: read` (403). */
  tokenWithoutActionsRead = "";
  private server?: https.Server;

  constructor(
    readonly repository: string,
    readonly runId: string,
    readonly jobToken: string,
    readonly oidcRequestToken: string,
    readonly mint: () => string = () => "github-oidc-token",
  ) {}

  /** What the runner exports as ACTIONS_ID_TOKEN_REQUEST_URL (it already carries a query). */
  get oidcRequestUrl(): string {
    return `${this.url}/00000000-0000-0000-0000-000000000000/_apis/distributedtask/hubs/Actions/plans/plan-1/jobs/job-1/idtoken?api-version=2.0`;
  }

  get oidcCalls(): FakeRequest[] {
    return this.requests.filter((r) => r.path.endsWith("/idtoken"));
  }

  get apiCalls(): FakeRequest[] {
    return this.requests.filter((r) => r.path.startsWith("/repos/"));
  }

  review(environment: string, state: FakeReview["state"], user: FakeReview["user"], comment = ""): this {
    this.reviews.push({ environments: [environment], state, user, comment });
    return this;
  }

  async start(): Promise<this> {
    const { key, cert } = loopbackCert();
    this.server = https.createServer({ key, cert }, (req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  private handle(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse): void {
    const u = new URL(req.url ?? "/", "https://127.0.0.1");
    const header = (n: string) => req.headers[n] as string | undefined;
    this.requests.push({
      method: req.method ?? "",
      path: u.pathname,
      query: Object.fromEntries(u.searchParams.entries()),
      ...(header("authorization") ? { authorization: header("authorization") } : {}),
      ...(header("accept") ? { accept: header("accept") } : {}),
      ...(header("x-github-api-version") ? { apiVersion: header("x-github-api-version") } : {}),
    });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && u.pathname.endsWith("/idtoken")) {
      const failure = this.oidcFailures.shift();
      if (failure) return json(failure, { message: "transient" });
      if (header("authorization") !== `Bearer ${this.oidcRequestToken}`) return json(401, { message: "Unauthorized" });
      if (u.searchParams.get("api-version") !== "2.0") return json(400, { message: "api-version missing" });
      return json(200, { count: 1, value: this.mint() });
    }
    const approvals = `/repos/${this.repository}/actions/runs/${this.runId}/approvals`;
    if (req.method === "GET" && u.pathname.startsWith("/repos/")) {
      const auth = header("authorization");
      if (auth === `Bearer ${this.tokenWithoutActionsRead}` && this.tokenWithoutActionsRead) {
        return json(403, {
          message: "Resource not accessible by integration",
          documentation_url: "https://docs.github.com/rest/actions/workflow-runs#get-the-review-history-for-a-workflow-run",
          status: "403",
        });
      }
      if (auth !== `Bearer ${this.jobToken}`) return json(401, { message: "Bad credentials", status: "401" });
      if (u.pathname !== approvals) return json(404, { message: "Not Found", status: "404" });
      return json(
        200,
        this.reviews.map((r, i) => ({
          environments: r.environments.map((name, j) => ({
            id: 1000 + j,
            node_id: `EN_${name}`,
            name,
            url: `${this.url}/repos/${this.repository}/environments/${name}`,
            html_url: `https://github.example/${this.repository}/deployments/activity_log?environments_filter=${name}`,
            created_at: "2026-11-01T10:00:00Z",
            updated_at: "2026-11-01T10:00:00Z",
          })),
          state: r.state,
          user: { login: r.user.login, id: r.user.id, node_id: `U_${i}`, type: "User", site_admin: false, html_url: `https://github.example/${r.user.login}` },
          comment: r.comment,
        })),
      );
    }
    json(404, { message: `fake GitHub: no route for ${req.method} ${u.pathname}` });
  }
}
