/**
 * A loopback HTTPS fake of the two Azure DevOps REST calls adoApprover.ts makes, with the paths, api-versions and
 * auth Microsoft documents: the build timeline (REST "Timeline - Get", api-version 7.1) and the approvals query
 * (REST "Approvals - Query", api-version 7.1-preview.1, MicrosoftDocs/vsts-rest-api-specs
 * specification/approvalsAndChecks/7.1/pipelinesapproval.json), both with `Authorization: Bearer <System.AccessToken>`.
 * A wrong token gets what Azure DevOps gives an anonymous caller: 203 with an HTML sign-in page.
 */
import https from "node:https";
import type { AddressInfo } from "node:net";
import { loopbackCert } from "./loopbackTls.js";

export interface FakeApproval {
  id: string;
  status: string;
  steps: {
    status: string;
    actualApprover?: { id: string; displayName: string; uniqueName: string };
    assignedApprover?: { id: string; displayName: string; uniqueName: string };
    comment?: string;
    lastModifiedOn?: string;
  }[];
}

export class FakeAzureDevOps {
  url = "";
  readonly requests: { path: string; query: Record<string, string>; authorization?: string }[] = [];
  /** Timeline records of the build (Stage -> Checkpoint -> Checkpoint.Approval). */
  records: Record<string, unknown>[] = [];
  readonly approvals = new Map<string, FakeApproval>();
  private server?: https.Server;

  constructor(
    readonly org: string,
    readonly projectId: string,
    readonly buildId: string,
    readonly token: string,
  ) {}

  get collectionUri(): string {
    return `${this.url}/${this.org}/`;
  }

  /** A stage whose environment check carries one approval. */
  addStageApproval(stage: string, approval: FakeApproval): void {
    const n = this.records.length;
    this.records.push(
      { id: `stage-${n}`, parentId: null, type: "Stage", name: `Deploy ${stage}`, identifier: stage, state: "completed" },
      { id: `checkpoint-${n}`, parentId: `stage-${n}`, type: "Checkpoint", name: "Checkpoint", identifier: `checkpoint-${n}`, state: "completed" },
      { id: approval.id, parentId: `checkpoint-${n}`, type: "Checkpoint.Approval", name: "Checkpoint.Approval", identifier: approval.id, state: "completed" },
    );
    this.approvals.set(approval.id, approval);
  }

  async start(): Promise<this> {
    const { key, cert } = loopbackCert();
    this.server = https.createServer({ key, cert }, (req, res) => {
      const u = new URL(req.url ?? "/", "https://127.0.0.1");
      const query = Object.fromEntries(u.searchParams.entries());
      this.requests.push({ path: u.pathname, query, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        res.writeHead(203, { "content-type": "text/html" });
        return res.end("<html>Sign in</html>");
      }
      const base = `/${this.org}/${this.projectId}/_apis`;
      if (req.method === "GET" && u.pathname === `${base}/build/builds/${this.buildId}/timeline`) {
        if (query["api-version"] !== "7.1") return json(400, { message: `api-version ${query["api-version"]}` });
        return json(200, { id: "timeline", changeId: 7, records: this.records });
      }
      if (req.method === "GET" && u.pathname === `${base}/pipelines/approvals`) {
        if (query["api-version"] !== "7.1-preview.1") return json(400, { message: `api-version ${query["api-version"]}` });
        const ids = (query.approvalIds ?? "").split(",").filter(Boolean);
        const expand = query.$expand === "steps";
        const value = ids.flatMap((id) => {
          const a = this.approvals.get(id);
          return a ? [{ ...a, steps: expand ? a.steps : [], minRequiredApprovers: 1, executionOrder: "anyOrder", blockedApprovers: [] }] : [];
        });
        return json(200, { count: value.length, value });
      }
      json(404, { message: `fake Azure DevOps: no route ${req.method} ${u.pathname}` });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}
