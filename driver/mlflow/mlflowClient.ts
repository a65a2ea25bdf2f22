/**
 * A typed client for the MLflow REST API (tracking + model registry + artifacts), just the calls the release
 * ports need. It talks to any MLflow-compatible server: the local tracking server, or Azure ML's MLflow
 * endpoint given a base URL and an auth-header provider (an AAD bearer token). It never logs or puts headers
 * into errors; error messages carry the method, the API path (no query) and MLflow's error code.
 *
 * Retries: only a refused connection, for `connectRetryMs` (a server that is still starting); anything else is
 * reported at once. "Not found" is decided in one place (`find`): the getters answer undefined for it. Searches
 * follow `next_page_token` until the last page (or the caller's `maxResults`).
 */
import { EnvironmentError } from "../core/errors.js";
import { MlflowApiError, isAlreadyExists, isNotFound } from "./mlflowApiError.js";
import type { MlflowExperiment, MlflowFileInfo, MlflowModelVersion, MlflowRegisteredModel, MlflowRun, MlflowTag } from "./types.js";

/** Returns the headers that authenticate a request (e.g. {Authorization: "Bearer ..."}); called per request. */
export type AuthHeaderProvider = () => Promise<Record<string, string>> | Record<string, string>;

export interface MlflowClientOptions {
  /** e.g. http://127.0.0.1:5500, or Azure ML's tracking URI turned into https://... */
  baseUrl: string;
  authHeaders?: AuthHeaderProvider;
  /** per request, default 30 s */
  timeoutMs?: number;
  /** how long to retry a refused connection (server starting), default 0 */
  connectRetryMs?: number;
  fetchImpl?: typeof fetch;
}

type Query = Record<string, string | number | undefined>;

const API = "/api/2.0/mlflow";

function isConnectionRefused(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string; errors?: { code?: string }[] } })?.cause;
  return cause?.code === "ECONNREFUSED" || (cause?.errors ?? []).some((x) => x.code === "ECONNREFUSED");
}

const oneLine = (s: string, max = 300): string => {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max)}...` : t;
};

export interface SearchRunsOptions {
  experimentIds: string[];
  /** MLflow search syntax, e.g. "tags.`mlops.code_digest` = 'abc' and attributes.status = 'FINISHED'" */
  filter?: string;
  orderBy?: string[];
  /** At most this many runs (also the page size); default every matching run, 100 a page. */
  maxResults?: number;
}

/** One page of a search: its items and the token of the next page (absent or empty on the last). */
interface Page<T> {
  items: T[];
  next?: string;
}

export class MlflowClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: MlflowClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = opts.fetchImpl ?? fetch;
  }

  private url(apiPath: string, query?: Query): string {
    const u = new URL(this.baseUrl + apiPath);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** One HTTP exchange, with the refused-connection retry. Returns the raw response (any status). */
  private async send(method: "GET" | "POST" | "PATCH" | "DELETE", apiPath: string, query?: Query, body?: unknown): Promise<Response> {
    const deadline = Date.now() + (this.opts.connectRetryMs ?? 0);
    const headers: Record<string, string> = { accept: "application/json", ...(await this.opts.authHeaders?.()) };
    if (body !== undefined) headers["content-type"] = "application/json";
    for (;;) {
      try {
        return await this.fetchImpl(this.url(apiPath, query), {
          method,
          headers,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
        });
      } catch (e) {
        if (isConnectionRefused(e) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        const origin = new URL(this.baseUrl).origin;
        if (isConnectionRefused(e)) {
          throw new EnvironmentError(`the MLflow tracking server at ${origin} refused the connection; start it (or check 'mlops status') and retry`);
        }
        if ((e as Error)?.name === "TimeoutError") {
          throw new EnvironmentError(`the MLflow tracking server at ${origin} did not answer ${method} ${apiPath} in time; check its log and retry`);
        }
        throw new EnvironmentError(`cannot reach the MLflow tracking server at ${origin}: ${oneLine((e as Error)?.message ?? String(e))}`);
      }
    }
  }

  private async call<T>(method: "GET" | "POST" | "PATCH" | "DELETE", apiPath: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    const res = await this.send(method, apiPath, opts.query, opts.body);
    const text = await res.text();
    if (!res.ok) {
      let code = `HTTP_${res.status}`;
      let msg = text;
      try {
        const j = JSON.parse(text) as { error_code?: string; message?: string };
        code = j.error_code ?? code;
        msg = j.message ?? text;
      } catch {
        /* not JSON: keep the text */
      }
      throw new MlflowApiError(`MLflow ${method} ${apiPath} failed with ${res.status} ${code}: ${oneLine(msg)}`, res.status, code);
    }
    if (text === "") return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new MlflowApiError(`MLflow ${method} ${apiPath} answered ${res.status} with a body that is not JSON`, res.status, "BAD_RESPONSE");
    }
  }

  private async download(apiPath: string, query?: Query): Promise<Buffer> {
    const res = await this.send("GET", apiPath, query);
    if (!res.ok) {
      const code = res.status === 404 ? "RESOURCE_DOES_NOT_EXIST" : `HTTP_${res.status}`;
      throw new MlflowApiError(`MLflow GET ${apiPath} failed with ${res.status}: ${oneLine(await res.text())}`, res.status, code);
    }
    return Buffer.from(await res.arrayBuffer());
  }

  /** A GET that answers undefined where MLflow says the resource does not exist (`isMissing`), else its body. */
  private async find<T>(apiPath: string, query: Query, isMissing: (e: unknown) => boolean = isNotFound): Promise<T | undefined> {
    try {
      return await this.call<T>("GET", apiPath, { query });
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  /** Every item of a search, page after page by `next_page_token`, stopping at `max` items. */
  private async allPages<T>(page: (token: string | undefined) => Promise<Page<T>>, max = Infinity): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    do {
      const p = await page(token);
      out.push(...p.items);
      token = p.next || undefined;
    } while (token && out.length < max);
    return out.slice(0, max);
  }

  /** GET /health: true when the server answers 200. Never throws. */
  async healthy(): Promise<boolean> {
    try {
      const res = await this.fetchImpl(this.url("/health"), { signal: AbortSignal.timeout(3000), headers: await this.opts.authHeaders?.() });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  // ---- experiments
  async getExperimentByName(name: string): Promise<MlflowExperiment | undefined> {
    return (await this.find<{ experiment: MlflowExperiment }>(`${API}/experiments/get-by-name`, { experiment_name: name }))?.experiment;
  }

  async createExperiment(name: string): Promise<string> {
    const r = await this.call<{ experiment_id: string }>("POST", `${API}/experiments/create`, { body: { name } });
    return r.experiment_id;
  }

  // ---- runs
  async getRun(runId: string): Promise<MlflowRun | undefined> {
    return (await this.find<{ run: MlflowRun }>(`${API}/runs/get`, { run_id: runId }))?.run;
  }

  async searchRuns(o: SearchRunsOptions): Promise<MlflowRun[]> {
    return this.allPages(async (token) => {
      const r = await this.call<{ runs?: MlflowRun[]; next_page_token?: string }>("POST", `${API}/runs/search`, {
        body: {
          experiment_ids: o.experimentIds,
          ...(o.filter ? { filter: o.filter } : {}),
          run_view_type: "ACTIVE_ONLY",
          max_results: o.maxResults ?? 100,
          ...(o.orderBy ? { order_by: o.orderBy } : {}),
          ...(token ? { page_token: token } : {}),
        },
      });
      return { items: r.runs ?? [], ...(r.next_page_token ? { next: r.next_page_token } : {}) };
    }, o.maxResults);
  }

  /** POST runs/create: a new run (status RUNNING) in an experiment. */
  async createRun(experimentId: string, runName?: string): Promise<MlflowRun> {
    const r = await this.call<{ run: MlflowRun }>("POST", `${API}/runs/create`, {
      body: { experiment_id: experimentId, start_time: Date.now(), ...(runName ? { run_name: runName } : {}) },
    });
    return r.run;
  }

  /** POST runs/update: sets a run's status (e.g. FAILED for a run whose process died) and end time. */
  async updateRun(runId: string, status: "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED", endTime = Date.now()): Promise<void> {
    await this.call("POST", `${API}/runs/update`, { body: { run_id: runId, status, end_time: endTime } });
  }

  async setRunTag(runId: string, key: string, value: string): Promise<void> {
    await this.call("POST", `${API}/runs/set-tag`, { body: { run_id: runId, key, value } });
  }

  // ---- registered models
  async getRegisteredModel(name: string): Promise<MlflowRegisteredModel | undefined> {
    return (await this.find<{ registered_model: MlflowRegisteredModel }>(`${API}/registered-models/get`, { name }))?.registered_model;
  }

  /** Creates the registered model; `created: false` when it already existed (not an error). */
  async createRegisteredModel(name: string, tags: MlflowTag[] = [], description?: string): Promise<{ created: boolean }> {
    try {
      await this.call("POST", `${API}/registered-models/create`, { body: { name, tags, ...(description ? { description } : {}) } });
      return { created: true };
    } catch (e) {
      if (isAlreadyExists(e)) return { created: false };
      throw e;
    }
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call("POST", `${API}/registered-models/alias`, { body: { name, alias, version } });
  }

  /** An unknown alias is undefined: MLflow answers it with 400 INVALID_PARAMETER_VALUE "... not found". */
  async getModelVersionByAlias(name: string, alias: string): Promise<MlflowModelVersion | undefined> {
    const unknownAlias = (e: unknown) =>
      isNotFound(e) || (e instanceof MlflowApiError && e.errorCode === "INVALID_PARAMETER_VALUE" && /not found/i.test(e.message));
    return (await this.find<{ model_version: MlflowModelVersion }>(`${API}/registered-models/alias`, { name, alias }, unknownAlias))?.model_version;
  }

  // ---- model versions
  async createModelVersion(v: { name: string; source: string; runId?: string; tags?: MlflowTag[]; description?: string }): Promise<MlflowModelVersion> {
    const r = await this.call<{ model_version: MlflowModelVersion }>("POST", `${API}/model-versions/create`, {
      body: {
        name: v.name,
        source: v.source,
        ...(v.runId ? { run_id: v.runId } : {}),
        tags: v.tags ?? [],
        ...(v.description ? { description: v.description } : {}),
      },
    });
    return r.model_version;
  }

  async getModelVersion(name: string, version: string): Promise<MlflowModelVersion | undefined> {
    return (await this.find<{ model_version: MlflowModelVersion }>(`${API}/model-versions/get`, { name, version }))?.model_version;
  }

  /** Every version matching `filter` (e.g. "name='m' and run_id='abc'"), `pageSize` a page. */
  async searchModelVersions(filter: string, pageSize = 200): Promise<MlflowModelVersion[]> {
    return this.allPages(async (token) => {
      const r = await this.call<{ model_versions?: MlflowModelVersion[]; next_page_token?: string }>("GET", `${API}/model-versions/search`, {
        query: { filter, max_results: pageSize, page_token: token },
      });
      return { items: r.model_versions ?? [], ...(r.next_page_token ? { next: r.next_page_token } : {}) };
    });
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.call("POST", `${API}/model-versions/set-tag`, { body: { name, version, key, value } });
  }

  // ---- artifacts
  /** Lists a run's artifacts under `path` (one level). */
  async listRunArtifacts(runId: string, artifactPath?: string): Promise<MlflowFileInfo[]> {
    const r = await this.call<{ files?: MlflowFileInfo[] }>("GET", `${API}/artifacts/list`, { query: { run_id: runId, path: artifactPath } });
    return r.files ?? [];
  }

  /** One artifact file of a run, through the server (works for every artifact store the server can read). */
  async downloadRunArtifact(runId: string, artifactPath: string): Promise<Buffer> {
    return this.download("/get-artifact", { path: artifactPath, run_uuid: runId });
  }

  /** One file of a registered model version, relative to the version's source. */
  async downloadModelVersionArtifact(name: string, version: string, artifactPath: string): Promise<Buffer> {
    return this.download("/model-versions/get-artifact", { name, version, path: artifactPath });
  }

  /** Lists `mlflow-artifacts:/<path>` (one level) through the artifact proxy (server started with --artifacts-destination). */
  async listProxiedArtifacts(uri: string): Promise<MlflowFileInfo[]> {
    const r = await this.call<{ files?: MlflowFileInfo[] }>("GET", "/api/2.0/mlflow-artifacts/artifacts", { query: { path: proxiedPath(uri) } });
    return r.files ?? [];
  }

  /** Downloads `mlflow-artifacts:/<path>` through the artifact proxy. */
  async downloadProxiedArtifact(uri: string): Promise<Buffer> {
    const p = proxiedPath(uri)
      .split("/")
      .map((s) => encodeURIComponent(s))
      .join("/");
    return this.download(`/api/2.0/mlflow-artifacts/artifacts/${p}`);
  }
}

/** `mlflow-artifacts:/1/abc/artifacts/model` or `mlflow-artifacts://host:port/1/...` -> `1/abc/artifacts/model`. */
export function proxiedPath(uri: string): string {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(uri);
  if (!m) throw new MlflowApiError(`'${uri}' is not an mlflow-artifacts: URI`, 0, "INVALID_URI");
  return m[1]!.replace(/^\/+|\/+$/g, "");
}
