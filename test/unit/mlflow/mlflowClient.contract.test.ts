/**
 * Contract tests of the MLflow REST client: the exact requests it sends (method, path, query, JSON body)
 * and how it maps MLflow's answers, against a loopback fake server that records every request.
 */
import http from "node:http";
import net from "node:net";
import { expect } from "chai";
import { MlflowClient, proxiedPath } from "../../../driver/mlflow/mlflowClient.js";
import { MlflowApiError } from "../../../driver/mlflow/mlflowApiError.js";

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}
type Reply = { status?: number; json?: unknown; raw?: Buffer | string };

class FakeMlflow {
  readonly seen: Seen[] = [];
  replies: Reply[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const u = new URL(req.url ?? "/", "http://x");
      const text = Buffer.concat(chunks).toString("utf8");
      this.seen.push({
        method: req.method ?? "",
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        body: text ? JSON.parse(text) : undefined,
        headers: req.headers,
      });
      const r = this.replies.shift() ?? { json: {} };
      res.statusCode = r.status ?? 200;
      res.end(r.raw ?? JSON.stringify(r.json ?? {}));
    });
  });
  port = 0;
  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
  get last(): Seen {
    return this.seen[this.seen.length - 1]!;
  }
}

const notFound = (message: string): Reply => ({ status: 404, json: { error_code: "RESOURCE_DOES_NOT_EXIST", message } });

describe("MLflow REST client (contract against a loopback fake)", () => {
  const fake = new FakeMlflow();
  let client: MlflowClient;
  before(async () => {
    await fake.start();
    client = new MlflowClient({ baseUrl: `http://127.0.0.1:${fake.port}/prefix/`, authHeaders: () => ({ authorization: "Bearer s3cret-token" }) });
  });
  after(() => fake.stop());
  beforeEach(() => {
    fake.seen.length = 0;
    fake.replies = [];
  });

  it("gets an experiment by name with GET experiments/get-by-name under the base URL's path, sending the auth header", async () => {
    fake.replies = [{ json: { experiment: { experiment_id: "3", name: "diabetes" } } }];
    const exp = await client.getExperimentByName("diabetes");
    expect(exp?.experiment_id).to.equal("3");
    expect(fake.last).to.deep.include({ method: "GET", path: "/prefix/api/2.0/mlflow/experiments/get-by-name", query: { experiment_name: "diabetes" } });
    expect(fake.last.headers.authorization).to.equal("Bearer s3cret-token");
  });

  it("maps RESOURCE_DOES_NOT_EXIST to undefined for experiments, runs, registered models and versions", async () => {
    fake.replies = [notFound("no exp"), notFound("no run"), notFound("no model"), notFound("no version")];
    expect(await client.getExperimentByName("x")).to.equal(undefined);
    expect(await client.getRun("r")).to.equal(undefined);
    expect(await client.getRegisteredModel("m")).to.equal(undefined);
    expect(await client.getModelVersion("m", "1")).to.equal(undefined);
  });

  it("searches runs with POST runs/search: experiment ids, filter, order, active only", async () => {
    fake.replies = [
      { json: { runs: [{ info: { run_id: "r1", experiment_id: "3", status: "FINISHED", artifact_uri: "mlflow-artifacts:/3/r1/artifacts" }, data: {} }] } },
    ];
    const runs = await client.searchRuns({
      experimentIds: ["3"],
      filter: "tags.`mlops.code_digest` = 'abc'",
      orderBy: ["attributes.start_time DESC"],
      maxResults: 5,
    });
    expect(runs).to.have.length(1);
    expect(fake.last.method).to.equal("POST");
    expect(fake.last.path).to.equal("/prefix/api/2.0/mlflow/runs/search");
    expect(fake.last.body).to.deep.equal({
      experiment_ids: ["3"],
      filter: "tags.`mlops.code_digest` = 'abc'",
      run_view_type: "ACTIVE_ONLY",
      max_results: 5,
      order_by: ["attributes.start_time DESC"],
    });
  });

  it("sets run and model version tags with POST set-tag bodies", async () => {
    await client.setRunTag("r1", "mlops.code_digest", "abc");
    expect(fake.last).to.deep.include({ path: "/prefix/api/2.0/mlflow/runs/set-tag", body: { run_id: "r1", key: "mlops.code_digest", value: "abc" } });
    await client.setModelVersionTag("m", "2", "mlops.status", "verified");
    expect(fake.last).to.deep.include({
      path: "/prefix/api/2.0/mlflow/model-versions/set-tag",
      body: { name: "m", version: "2", key: "mlops.status", value: "verified" },
    });
  });

  it("treats RESOURCE_ALREADY_EXISTS on registered-models/create as 'already there', not an error", async () => {
    fake.replies = [{ json: { registered_model: { name: "m" } } }, { status: 400, json: { error_code: "RESOURCE_ALREADY_EXISTS", message: "exists" } }];
    expect(await client.createRegisteredModel("m", [{ key: "k", value: "v" }])).to.deep.equal({ created: true });
    expect(fake.seen[0]).to.deep.include({
      method: "POST",
      path: "/prefix/api/2.0/mlflow/registered-models/create",
      body: { name: "m", tags: [{ key: "k", value: "v" }] },
    });
    expect(await client.createRegisteredModel("m")).to.deep.equal({ created: false });
  });

  it("creates a model version with name, source, run_id and tags", async () => {
    fake.replies = [{ json: { model_version: { name: "m", version: "4", source: "mlflow-artifacts:/3/r1/artifacts/model", run_id: "r1" } } }];
    const mv = await client.createModelVersion({ name: "m", source: "mlflow-artifacts:/3/r1/artifacts/model", runId: "r1", tags: [{ key: "a", value: "b" }] });
    expect(mv.version).to.equal("4");
    expect(fake.last.body).to.deep.equal({ name: "m", source: "mlflow-artifacts:/3/r1/artifacts/model", run_id: "r1", tags: [{ key: "a", value: "b" }] });
  });

  it("searches model versions with GET model-versions/search and a filter query", async () => {
    fake.replies = [{ json: { model_versions: [{ name: "m", version: "1", source: "s" }] } }];
    await client.searchModelVersions("name='m' and run_id='r1'");
    expect(fake.last).to.deep.include({
      method: "GET",
      path: "/prefix/api/2.0/mlflow/model-versions/search",
      query: { filter: "name='m' and run_id='r1'", max_results: "200" },
    });
  });

  it("sets and reads the champion alias; an unknown alias (400 'not found') is undefined", async () => {
    await client.setRegisteredModelAlias("m", "champion", "4");
    expect(fake.last).to.deep.include({
      method: "POST",
      path: "/prefix/api/2.0/mlflow/registered-models/alias",
      body: { name: "m", alias: "champion", version: "4" },
    });
    fake.replies = [
      { json: { model_version: { name: "m", version: "4", source: "s", aliases: ["champion"] } } },
      { status: 400, json: { error_code: "INVALID_PARAMETER_VALUE", message: "Registered model alias champion not found." } },
    ];
    expect((await client.getModelVersionByAlias("m", "champion"))?.version).to.equal("4");
    expect(fake.seen[1]).to.deep.include({ method: "GET", query: { name: "m", alias: "champion" } });
    expect(await client.getModelVersionByAlias("m", "champion")).to.equal(undefined);
  });

  it("lists run artifacts and downloads files through get-artifact, model-versions/get-artifact and the artifact proxy", async () => {
    fake.replies = [{ json: { files: [{ path: "model/model.pkl", is_dir: false, file_size: 3 }] } }, { raw: "abc" }, { raw: "def" }, { raw: "ghi" }];
    expect(await client.listRunArtifacts("r1", "model")).to.deep.equal([{ path: "model/model.pkl", is_dir: false, file_size: 3 }]);
    expect(fake.seen[0]).to.deep.include({ path: "/prefix/api/2.0/mlflow/artifacts/list", query: { run_id: "r1", path: "model" } });
    expect((await client.downloadRunArtifact("r1", "model/model.pkl")).toString()).to.equal("abc");
    expect(fake.seen[1]).to.deep.include({ path: "/prefix/get-artifact", query: { path: "model/model.pkl", run_uuid: "r1" } });
    expect((await client.downloadModelVersionArtifact("m", "4", "model.pkl")).toString()).to.equal("def");
    expect(fake.seen[2]).to.deep.include({ path: "/prefix/model-versions/get-artifact", query: { name: "m", version: "4", path: "model.pkl" } });
    expect((await client.downloadProxiedArtifact("mlflow-artifacts:/3/r1/artifacts/model/model.pkl")).toString()).to.equal("ghi");
    expect(fake.seen[3]!.path).to.equal("/prefix/api/2.0/mlflow-artifacts/artifacts/3/r1/artifacts/model/model.pkl");
  });

  it("turns other errors into a one-line MlflowApiError with status and code, never the token", async () => {
    fake.replies = [{ status: 500, json: { error_code: "INTERNAL_ERROR", message: "boom\nsecond line" } }];
    const err = await client.getRun("r1").catch((e: unknown) => e);
    expect(err).to.be.instanceOf(MlflowApiError);
    const e = err as MlflowApiError;
    expect([e.status, e.errorCode]).to.deep.equal([500, "INTERNAL_ERROR"]);
    expect(e.message).to.equal("MLflow GET /api/2.0/mlflow/runs/get failed with 500 INTERNAL_ERROR: boom second line");
    expect(e.message).to.not.contain("s3cret");
  });

  it("retries a refused connection only within connectRetryMs, then says the server refused", async () => {
    const free = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const c = new MlflowClient({ baseUrl: `http://127.0.0.1:${free}`, connectRetryMs: 300 });
    const t0 = Date.now();
    const err = (await c.getRun("r").catch((e: Error) => e)) as Error;
    expect(Date.now() - t0).to.be.at.least(250);
    expect(err.name).to.equal("EnvironmentError");
    expect(err.message).to.equal(`the MLflow tracking server at http://127.0.0.1:${free} refused the connection; start it (or check 'mlops status') and retry`);
  });

  it("reads mlflow-artifacts URIs with or without an authority", () => {
    expect(proxiedPath("mlflow-artifacts:/1/r/artifacts/model")).to.equal("1/r/artifacts/model");
    expect(proxiedPath("mlflow-artifacts://127.0.0.1:5500/1/r/artifacts/model/")).to.equal("1/r/artifacts/model");
  });
});
