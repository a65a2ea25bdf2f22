/**
 * One loopback HTTPS server that answers as the parts of Azure the azure target talks to, closely enough for
 * the real SDK clients: ARM for Azure ML (api-version 2022-10-01: datastores, code/environment/model assets,
 * jobs with a cancel LRO, online endpoints), the workspace MLflow tracking API, Blob storage (path-style
 * account URLs: upload with If-Match/If-None-Match, ranged download, list, lease, metadata) and a scoring URI.
 * It records every request and can inject faults (429 + Retry-After, 5xx) and scripted job outcomes.
 */
import { createHash, randomUUID } from "node:crypto";
import { sha256Hex } from "../../../../config/sha256.js";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { FakeMlflowTracking, type FakeRun } from "./fakeMlflowTracking.js";
import { loopbackCert } from "./loopbackTls.js";
import { ARM_TOKEN, STORAGE_TOKEN } from "./fakeCredential.js";

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: unknown;
  at: number;
  /** status and parsed JSON body of the fake's answer (set for JSON answers; the SDK oracle judges them) */
  answer?: { status: number; body?: unknown };
}

export interface JobScript {
  /** statuses returned by successive GETs; the last one sticks */
  statuses: string[];
  error?: string;
  metrics?: Record<string, number>;
  modelBytes?: Buffer;
  /** sha256 the run logs as its model_sha256 tag (defaults to the real one) */
  loggedSha?: string;
}

interface Fault {
  method: string;
  path: RegExp;
  status: number;
  headers: Record<string, string>;
  times: number;
}

interface Blob {
  data: Buffer;
  etag: string;
  metadata: Record<string, string>;
  lease?: { id: string; until: number };
  contentType?: string;
}

const WS = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)(\/.*)?$/;

export const accountOf = (ws: string): string => `acct${ws.replace(/[^a-z0-9]/g, "")}`.slice(0, 24);
export const CONTAINER = "azureml-blobstore-1";

export class FakeAzure {
  url = "";
  readonly requests: RecordedRequest[] = [];
  readonly blobs = new Map<string, Blob>();
  readonly assets = new Map<string, Record<string, unknown>>();
  readonly jobs = new Map<string, { body: Record<string, unknown>; script: JobScript; polls: number; ws: string; created: string }>();
  readonly runs = new Map<string, FakeRun>();
  /** the workspace MLflow tracking API (support/fakeMlflowTracking.ts), over the same runs */
  readonly tracking = new FakeMlflowTracking(this.runs);
  readonly faults: Fault[] = [];
  readonly endpointKeys = new Map<string, string>();
  jobScript: (name: string) => JobScript = () => ({ statuses: ["Queued", "Running", "Completed"] });
  /** Endpoint traffic per stack (deployment -> weight); requests without a deployment header are spread by it. */
  readonly traffic = new Map<string, Record<string, number>>();
  private readonly current = new Map<string, number>();
  /** Whether answers carry the `azureml-model-deployment` header naming the deployment that served. */
  namesDeployment = true;
  scoring: (stack: string, body: unknown, deployment?: string) => { status: number; body: unknown } = (_s, body) => ({
    status: 200,
    body: { predictions: ((body as { data?: unknown[] }).data ?? []).map(() => 150.5) },
  });
  /** Disagreeing answers for the smoke test's prediction check: values outside ml/smoke.json's prediction_range,
   * no predictions array, one prediction short, or a value that is not a finite number. */
  answerPredictions(kind: "out-of-range" | "missing" | "one-short" | "not-finite"): void {
    this.scoring = (_s, body) => {
      const rows = ((body as { data?: unknown[] }).data ?? []).length;
      const predictions = {
        "out-of-range": Array(rows).fill(9999),
        missing: undefined,
        "one-short": Array(Math.max(rows - 1, 0)).fill(150.5),
        "not-finite": Array(rows).fill("NaN"),
      }[kind];
      return { status: 200, body: predictions === undefined ? { result: "ok" } : { predictions } };
    };
  }
  /** The most blob names one List Blobs answer carries (Azure: 5000); lower it to make listings page. */
  listPageSize = 5000;
  /**
   * Online deployments as ARM returns them (REST "Online Deployments - Get"), keyed `<workspace>/<endpoint>/<deployment>`:
   * the model asset id it runs and when it was last modified (systemData).
   */
  readonly onlineDeployments = new Map<string, { model: string; lastModifiedAt: string }>();
  /** Extra routes tried before the built-in ones (e.g. fakeArmDoctor.ts); one that answered returns true. */
  readonly routes: ((rec: RecordedRequest, res: import("node:http").ServerResponse) => boolean)[] = [];
  private server?: https.Server;

  async start(): Promise<this> {
    const { key, cert } = loopbackCert();
    this.server = https.createServer({ key, cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        try {
          this.handle(req, Buffer.concat(chunks), res);
        } catch (e) {
          res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "FakeBug", message: String(e) } }));
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", () => r()));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  fault(method: string, path: RegExp, status: number, headers: Record<string, string> = {}, times = 1): void {
    this.faults.push({ method, path, status, headers, times });
  }

  /** ARM requests only (MLflow, blob and scoring filtered out), as "METHOD /path-after-workspace". */
  armCalls(): string[] {
    return this.requests.filter((r) => WS.test(r.path) && !r.path.startsWith("/mlflow")).map((r) => `${r.method} ${WS.exec(r.path)![4] ?? "/"}`);
  }

  blob(account: string, name: string): Blob | undefined {
    return this.blobs.get(`${account}/${CONTAINER}/${name}`);
  }

  putBlob(account: string, name: string, data: Buffer): void {
    this.blobs.set(`${account}/${CONTAINER}/${name}`, { data, etag: `"0x${randomUUID().replace(/-/g, "").slice(0, 16)}"`, metadata: {} });
  }

  /** Deterministic weighted spread (smooth weighted round-robin: at 50/50 it alternates, at 90/10 one in ten). */
  private route(stack: string): string | undefined {
    const t = Object.entries(this.traffic.get(stack) ?? {}).filter(([, w]) => w > 0);
    if (t.length === 0) return undefined;
    const total = t.reduce((n, [, w]) => n + w, 0);
    let best: string | undefined;
    for (const [name, w] of t) {
      const c = (this.current.get(name) ?? 0) + w;
      this.current.set(name, c);
      if (best === undefined || c > this.current.get(best)!) best = name;
    }
    this.current.set(best!, this.current.get(best!)! - total);
    return best;
  }

  // ------------------------------------------------------------------------------------------------
  private handle(req: import("node:http").IncomingMessage, raw: Buffer, res: import("node:http").ServerResponse): void {
    const u = new URL(req.url ?? "/", this.url);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    let body: unknown;
    const ctype = headers["content-type"] ?? "";
    if (raw.length && ctype.includes("json")) body = JSON.parse(raw.toString("utf8"));
    const rec: RecordedRequest = {
      method: req.method!,
      path: decodeURIComponent(u.pathname),
      query: Object.fromEntries(u.searchParams),
      headers,
      at: Date.now(),
      ...(body !== undefined ? { body } : {}),
    };
    this.requests.push(rec);

    const fault = this.faults.find((f) => f.times > 0 && f.method === rec.method && f.path.test(rec.path));
    if (fault) {
      fault.times -= 1;
      res
        .writeHead(fault.status, { "content-type": "application/json", ...fault.headers })
        .end(JSON.stringify({ error: { code: "Injected", message: `injected ${fault.status}` } }));
      return;
    }
    if (this.routes.some((route) => route(rec, res))) return;
    const json = (status: number, value: unknown, extra: Record<string, string> = {}): void => {
      rec.answer = { status, ...(value !== undefined ? { body: structuredClone(value) } : {}) };
      res.writeHead(status, { "content-type": "application/json", ...extra }).end(value === undefined ? "" : JSON.stringify(value));
    };
    const armError = (status: number, code: string, message: string): void => json(status, { error: { code, message } });

    if (rec.path.startsWith("/mlflow/")) return this.mlflow(rec, json);
    if (rec.path.startsWith("/history/")) return this.runDetails(rec, json);
    if (rec.path.startsWith("/score/")) {
      const stack = rec.path.split("/")[2]!;
      if (headers.authorization !== `Bearer ${this.endpointKeys.get(stack) ?? "none"}`) return json(401, { message: "bad key" });
      const deployment = headers["azureml-model-deployment"] ?? this.route(stack);
      const out = this.scoring(stack, JSON.parse(raw.toString("utf8")), deployment);
      return json(out.status, out.body, deployment && this.namesDeployment ? { "azureml-model-deployment": deployment } : {});
    }
    if (rec.path.startsWith("/operations/")) {
      const op = rec.path.split("/")[2]!;
      const job = this.jobs.get(op.replace(/^cancel-/, ""));
      const polls = Number(this.assets.get(`op:${op}`)?.polls ?? 0);
      this.assets.set(`op:${op}`, { polls: polls + 1 });
      if (polls === 0) return json(202, undefined, { location: `${this.url}/operations/${op}?api-version=2022-10-01`, "retry-after": "0" });
      if (job) job.script = { ...job.script, statuses: ["Canceled"] };
      if (job) job.polls = 0;
      return json(200, undefined);
    }
    const m = WS.exec(rec.path);
    if (m) {
      if (rec.query["api-version"] !== "2022-10-01") return armError(400, "InvalidApiVersion", `api-version ${rec.query["api-version"]}`);
      if (headers.authorization !== ARM_TOKEN) return armError(401, "InvalidAuthenticationToken", "wrong audience");
      return this.arm(rec, m[3]!, m[4] ?? "/", json, armError);
    }
    return this.blobService(rec, raw, res);
  }

  /**
   * Computes as ARM returns them (REST "Compute - Get", ComputeResource, api-version 2022-10-01), keyed
   * `<workspace>/<compute name>`: the `properties` object of the resource (computeType, properties.scaleSettings...).
   */
  readonly computes = new Map<string, Record<string, unknown>>();

  private computeGet(
    rec: RecordedRequest,
    ws: string,
    rest: string,
    id: string,
    json: (s: number, v: unknown) => void,
    armError: (s: number, c: string, m: string) => void,
  ): boolean {
    const m = /^\/computes\/([^/]+)$/.exec(rest);
    if (!m || rec.method !== "GET") return false;
    const props = this.computes.get(`${ws}/${m[1]}`);
    if (!props) armError(404, "ResourceNotFound", `compute ${m[1]} not found in workspace ${ws}`);
    else
      json(200, {
        id,
        name: m[1],
        type: "Microsoft.MachineLearningServices/workspaces/computes",
        location: "westeurope",
        properties: { provisioningState: "Succeeded", ...props },
      });
    return true;
  }

  private arm(
    rec: RecordedRequest,
    ws: string,
    rest: string,
    json: (s: number, v: unknown, h?: Record<string, string>) => void,
    armError: (s: number, c: string, m: string) => void,
  ): void {
    const id = `${WS.exec(rec.path)![0].replace(rest === "/" ? "" : rest, "")}${rest}`;
    const key = `${ws}${rest}`;
    if (this.computeGet(rec, ws, rest, id, json, armError)) return;
    if (rest === "/datastores" && rec.method === "GET") {
      return json(200, {
        value: [
          {
            id: `${id}/workspaceblobstore`,
            name: "workspaceblobstore",
            properties: {
              datastoreType: "AzureBlob",
              accountName: accountOf(ws),
              containerName: CONTAINER,
              endpoint: "core.windows.net",
              protocol: "https",
              isDefault: true,
              credentials: { credentialsType: "None" },
            },
          },
        ],
      });
    }
    let mm: RegExpExecArray | null;
    if ((mm = /^\/(codes|environments|models)\/([^/]+)\/versions\/([^/]+)$/.exec(rest))) {
      if (rec.method === "PUT") {
        const sent = (rec.body as { properties: Record<string, unknown> }).properties;
        // Azure answers a model version with its flavors map (azure-ai-ml's Model._from_rest_object iterates it unconditionally)
        const properties = mm[1] === "models" ? { flavors: {}, ...sent } : { ...sent };
        const stored = { id, name: mm[3], type: `Microsoft.MachineLearningServices/workspaces/${mm[1]}/versions`, properties };
        const existed = this.assets.has(key);
        this.assets.set(key, stored);
        return json(existed ? 200 : 201, stored);
      }
      const a = this.assets.get(key);
      return a ? json(200, a) : armError(404, "UserError", `${mm[1]} ${mm[2]}:${mm[3]} not found`);
    }
    if ((mm = /^\/models\/([^/]+)\/versions$/.exec(rest)) && rec.method === "GET") {
      const prefix = `${ws}/models/${mm[1]}/versions/`;
      let value = [...this.assets.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
      const tags = rec.query.tags;
      if (tags) {
        const [k, v] = tags.split("=");
        value = value.filter((x) => ((x.properties as { tags?: Record<string, string> }).tags ?? {})[k!] === v);
      }
      return json(200, { value });
    }
    if ((mm = /^\/models\/([^/]+)$/.exec(rest))) {
      if (rec.method === "PUT") {
        const stored = { id, name: mm[1], properties: { ...(rec.body as { properties: object }).properties } };
        this.assets.set(key, stored);
        return json(200, stored);
      }
      const a = this.assets.get(key);
      if (!a) return armError(404, "UserError", `model ${mm[1]} not found`);
      // as Azure answers a model container: with its read-only latest/next version numbers
      const versions = [...this.assets.keys()]
        .filter((k) => k.startsWith(`${key}/versions/`))
        .map((k) => Number(k.split("/").pop()))
        .filter(Number.isInteger);
      const latest = versions.length ? Math.max(...versions) : undefined;
      return json(200, {
        ...a,
        type: "Microsoft.MachineLearningServices/workspaces/models",
        properties: { ...(a.properties as object), ...(latest !== undefined ? { latestVersion: String(latest) } : {}), nextVersion: String((latest ?? 0) + 1) },
      });
    }
    if (rest === "/jobs" && rec.method === "GET") {
      const value = [...this.jobs.entries()]
        .filter(([, j]) => j.ws === ws)
        .map(([name]) => this.jobView(name, id.replace(/\/jobs$/, "") + `/jobs/${name}`, false))
        .filter((j) => !rec.query.tag || rec.query.tag in ((j.properties as { tags?: object }).tags ?? {}));
      return json(200, { value });
    }
    if ((mm = /^\/jobs\/([^/]+)\/cancel$/.exec(rest)) && rec.method === "POST") {
      return json(202, undefined, { location: `${this.url}/operations/cancel-${mm[1]}?api-version=2022-10-01`, "retry-after": "0" });
    }
    if ((mm = /^\/jobs\/([^/]+)$/.exec(rest))) {
      const name = mm[1]!;
      if (rec.method === "PUT") {
        this.jobs.set(name, { body: rec.body as Record<string, unknown>, script: this.jobScript(name), polls: 0, ws, created: new Date().toISOString() });
        return json(201, this.jobView(name, id, false));
      }
      if (!this.jobs.has(name)) return armError(404, "UserError", `job ${name} not found`);
      return json(200, this.jobView(name, id, true));
    }
    if ((mm = /^\/onlineEndpoints\/([^/]+)\/deployments\/([^/]+)$/.exec(rest)) && rec.method === "GET") {
      const d = this.onlineDeployments.get(`${ws}/${mm[1]}/${mm[2]}`);
      if (!d) return armError(404, "ResourceNotFound", `deployment ${mm[2]} of endpoint ${mm[1]} not found`);
      return json(200, {
        id,
        name: mm[2],
        type: "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",
        location: "westeurope",
        systemData: { createdAt: d.lastModifiedAt, lastModifiedAt: d.lastModifiedAt, lastModifiedByType: "Application" },
        properties: { endpointComputeType: "Kubernetes", model: d.model, provisioningState: "Succeeded" },
      });
    }
    if ((mm = /^\/onlineEndpoints\/([^/]+)(\/listKeys)?$/.exec(rest))) {
      const stack = mm[1]!.split("-")[1] ?? "int";
      if (mm[2]) return json(200, { primaryKey: this.endpointKeys.get(stack), secondaryKey: "unused" });
      // as Azure answers for a Kubernetes online endpoint: the compute it runs on and the traffic of the last update
      const computes = id.replace(/\/onlineEndpoints\/.*$/, "/computes/aks-inference");
      return json(200, {
        id,
        name: mm[1],
        type: "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
        location: "westeurope",
        identity: { type: "SystemAssigned", principalId: "00000000-0000-0000-0000-0000000000e1", tenantId: "00000000-0000-0000-0000-0000000000aa" },
        properties: {
          authMode: "Key",
          compute: computes,
          traffic: this.traffic.get(stack) ?? {},
          provisioningState: "Succeeded",
          scoringUri: `${this.url}/score/${stack}`,
        },
      });
    }
    return armError(404, "NoRoute", `${rec.method} ${rest}`);
  }

  /** A job as GET returns it; `advance` moves its scripted status on and, at Completed, writes its outputs. */
  private jobView(name: string, id: string, advance: boolean): Record<string, unknown> {
    const j = this.jobs.get(name)!;
    const i = Math.min(j.polls, j.script.statuses.length - 1);
    const status = j.polls === 0 && !advance ? "NotStarted" : j.script.statuses[i]!;
    if (advance) {
      j.polls += 1;
      if (status === "Completed") this.complete(name);
    }
    const props = (j.body.properties ?? {}) as Record<string, unknown>;
    return {
      id,
      name,
      type: "Microsoft.MachineLearningServices/workspaces/jobs",
      systemData: { createdAt: j.created },
      properties: {
        ...props,
        status,
        services: {
          Studio: { jobServiceType: "Studio", endpoint: `https://ml.azure.com/runs/${name}?wsid=/subscriptions/sub/resourcegroups/rg/workspaces/${j.ws}` },
        },
      },
    };
  }

  private complete(name: string): void {
    const j = this.jobs.get(name)!;
    if (this.runs.has(name)) return;
    const out = (((j.body.properties as Record<string, unknown>).outputs as Record<string, { uri: string }>) ?? {}).training?.uri ?? "";
    const path = out.replace(/^azureml:\/\/datastores\/[^/]+\/paths\//, "");
    const model = j.script.modelBytes ?? Buffer.from(`model of ${name}`);
    const sha = sha256Hex(model);
    this.putBlob(accountOf(j.ws), `${path}model/model.pkl`, model);
    this.putBlob(accountOf(j.ws), `${path}model/MLmodel`, Buffer.from("flavors: {}\n"));
    this.runs.set(name, { metrics: j.script.metrics ?? { rmse: 53.1, mae: 43.2, r2: 0.45 }, tags: { model_sha256: j.script.loggedSha ?? sha } });
  }

  /**
   * Run History's run details on the workspace's API host, where azure-ai-ml reads a failed job's error
   * (RunDetails.error = ErrorResponse{ error: RootError }); the ARM job carries none. ARM-audience token.
   */
  private runDetails(rec: RecordedRequest, json: (s: number, v: unknown) => void): void {
    if (rec.headers.authorization !== ARM_TOKEN) return json(401, { error: { code: "Unauthorized", message: "wrong audience" } });
    const m =
      /^\/history\/v1\.0\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+\/runs\/([^/]+)\/details$/.exec(
        rec.path,
      );
    const j = m ? this.jobs.get(decodeURIComponent(m[1]!)) : undefined;
    if (!m || !j) return json(404, { error: { code: "NotFound", message: `run ${m?.[1] ?? rec.path}` } });
    const status = j.script.statuses[Math.min(Math.max(j.polls - 1, 0), j.script.statuses.length - 1)]!;
    return json(200, {
      runId: m[1],
      status,
      ...(status === "Failed" && j.script.error ? { error: { error: { code: "UserError", message: j.script.error } } } : {}),
    });
  }

  private mlflow(rec: RecordedRequest, json: (s: number, v: unknown) => void): void {
    this.tracking.handle(rec, json);
  }

  private blobService(rec: RecordedRequest, raw: Buffer, res: import("node:http").ServerResponse): void {
    const xmlError = (status: number, code: string): void => {
      res
        .writeHead(status, { "content-type": "application/xml", "x-ms-error-code": code, "x-ms-request-id": randomUUID() })
        .end(`<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
    };
    if (rec.headers.authorization !== STORAGE_TOKEN) return xmlError(403, "AuthenticationFailed");
    const [, account, container, ...rest] = rec.path.split("/");
    const name = rest.join("/");
    const key = `${account}/${container}/${name}`;
    const q = rec.query;
    const base = { "x-ms-request-id": randomUUID(), "x-ms-version": "2025-01-05", date: new Date().toUTCString() };
    if (q.restype === "container" && q.comp === "list") {
      // List Blobs: names in lexical order from `marker`, at most `maxresults` (and the fake's page size), with a
      // NextMarker when more remain (Blob REST "List Blobs": the service may return fewer results than maxresults)
      const prefix = `${account}/${container}/${q.prefix ?? ""}`;
      const names = [...this.blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
      const nameOf = (k: string) => k.slice(`${account}/${container}/`.length);
      const found = q.marker ? names.findIndex((k) => nameOf(k) >= q.marker!) : 0;
      const at = found < 0 ? names.length : found;
      const size = Math.min(Number(q.maxresults ?? 5000), this.listPageSize);
      const next = names[at + size] ? nameOf(names[at + size]!) : "";
      const items = names
        .slice(at, at + size)
        .map((k) => [k, this.blobs.get(k)!] as const)
        .map(
          ([k, b]) =>
            `<Blob><Name>${nameOf(k)}</Name><Properties><Content-Length>${b.data.length}</Content-Length><Etag>${b.etag}</Etag><BlobType>BlockBlob</BlobType><Last-Modified>${new Date().toUTCString()}</Last-Modified></Properties></Blob>`,
        )
        .join("");
      res
        .writeHead(200, { ...base, "content-type": "application/xml" })
        .end(
          `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${this.url}/${account}" ContainerName="${container}"><Prefix>${q.prefix ?? ""}</Prefix>${q.marker ? `<Marker>${q.marker}</Marker>` : ""}${q.maxresults ? `<MaxResults>${q.maxresults}</MaxResults>` : ""}<Blobs>${items}</Blobs>${next ? `<NextMarker>${next}</NextMarker>` : "<NextMarker />"}</EnumerationResults>`,
        );
      return;
    }
    const blob = this.blobs.get(key);
    const leased = blob?.lease && blob.lease.until > Date.now() ? blob.lease : undefined;
    const newEtag = () => `"0x${randomUUID().replace(/-/g, "").slice(0, 16)}"`;
    if (rec.method === "PUT" && q.comp === "lease") {
      if (!blob) return xmlError(404, "BlobNotFound");
      const action = rec.headers["x-ms-lease-action"];
      if (action === "acquire") {
        if (leased) return xmlError(409, "LeaseAlreadyPresent");
        const id = rec.headers["x-ms-proposed-lease-id"] ?? randomUUID();
        const secs = Number(rec.headers["x-ms-lease-duration"] ?? 60);
        blob.lease = { id, until: Date.now() + (secs < 0 ? 1e12 : secs * 1000) };
        res.writeHead(201, { ...base, etag: blob.etag, "x-ms-lease-id": id }).end();
        return;
      }
      if (!leased || leased.id !== rec.headers["x-ms-lease-id"]) return xmlError(409, "LeaseIdMismatchWithLeaseOperation");
      if (action === "release") delete blob.lease;
      else leased.until = Date.now() + 60_000;
      res.writeHead(200, { ...base, etag: blob.etag, ...(action === "renew" ? { "x-ms-lease-id": leased.id } : {}) }).end();
      return;
    }
    if (rec.method === "PUT" && q.comp === "metadata") {
      if (!blob) return xmlError(404, "BlobNotFound");
      if (leased && leased.id !== rec.headers["x-ms-lease-id"]) return xmlError(412, "LeaseIdMismatchWithBlobOperation");
      blob.metadata = Object.fromEntries(
        Object.entries(rec.headers)
          .filter(([k]) => k.startsWith("x-ms-meta-"))
          .map(([k, v]) => [k.slice(10), v]),
      );
      blob.etag = newEtag();
      res.writeHead(200, { ...base, etag: blob.etag }).end();
      return;
    }
    if (rec.method === "PUT") {
      const ifMatch = rec.headers["if-match"];
      const ifNoneMatch = rec.headers["if-none-match"];
      if (ifNoneMatch === "*" && blob) return xmlError(409, "BlobAlreadyExists");
      if (ifMatch && (!blob || blob.etag !== ifMatch)) return xmlError(412, "ConditionNotMet");
      if (leased && leased.id !== rec.headers["x-ms-lease-id"]) return xmlError(412, "LeaseIdMissing");
      const b: Blob = {
        data: raw,
        etag: newEtag(),
        metadata: blob?.metadata ?? {},
        ...(rec.headers["x-ms-blob-content-type"] ? { contentType: rec.headers["x-ms-blob-content-type"] } : {}),
      };
      if (blob?.lease) b.lease = blob.lease;
      this.blobs.set(key, b);
      res
        .writeHead(201, { ...base, etag: b.etag, "last-modified": new Date().toUTCString(), "content-md5": createHash("md5").update(raw).digest("base64") })
        .end();
      return;
    }
    if (!blob) return xmlError(404, "BlobNotFound");
    if (rec.method === "DELETE") {
      // Delete Blob: 202 Accepted; If-Match honoured; a leased blob needs its lease id
      const ifMatch = rec.headers["if-match"];
      if (ifMatch && blob.etag !== ifMatch) return xmlError(412, "ConditionNotMet");
      if (leased && leased.id !== rec.headers["x-ms-lease-id"]) return xmlError(412, "LeaseIdMissing");
      this.blobs.delete(key);
      res.writeHead(202, { ...base, "x-ms-delete-type-permanent": "true" }).end();
      return;
    }
    const meta = Object.fromEntries(Object.entries(blob.metadata).map(([k, v]) => [`x-ms-meta-${k}`, v]));
    const common = {
      ...base,
      etag: blob.etag,
      "x-ms-blob-type": "BlockBlob",
      "last-modified": new Date().toUTCString(),
      "content-type": blob.contentType ?? "application/octet-stream",
      ...meta,
    };
    if (rec.method === "HEAD") {
      res
        .writeHead(200, {
          ...common,
          "content-length": String(blob.data.length),
          ...(leased ? { "x-ms-lease-state": "leased", "x-ms-lease-status": "locked" } : {}),
        })
        .end();
      return;
    }
    const range = /bytes=(\d+)-(\d*)/.exec(rec.headers["x-ms-range"] ?? rec.headers.range ?? "");
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), blob.data.length - 1) : blob.data.length - 1;
      const part = blob.data.subarray(start, end + 1);
      res.writeHead(206, { ...common, "content-length": String(part.length), "content-range": `bytes ${start}-${end}/${blob.data.length}` }).end(part);
      return;
    }
    res.writeHead(200, { ...common, "content-length": String(blob.data.length) }).end(blob.data);
  }
}
