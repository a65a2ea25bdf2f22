/**
 * The workspace MLflow tracking API of the loopback fake: what the driver reads (runs/get with an AAD token) and
 * what a training job's MLflow client writes through the azureml-mlflow plugin (experiments, runs/get,
 * log-batch, log-metric, log-parameter, set-tag, runs/update, with the job's run token).
 *
 * Paths: `/mlflow/v1.0|v2.0/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.MachineLearningServices/
 * workspaces/<ws>/api/2.0/mlflow/<op>`. The workspace's tracking URI (what `az ml workspace show` reports, and what
 * the driver uses) carries /mlflow/v1.0; azureml-mlflow 1.62 sends MLflow >= 2 clients to /mlflow/v2.0
 * (azureml/mlflow/_store/azureml_reststore.py, get_host_credentials): both are served.
 *
 * Any call this fake does not implement is answered 404 ENDPOINT_NOT_FOUND and listed in `unsupported`, so a
 * test can prove the plugin made no call the fake ignored.
 */
import { randomUUID } from "node:crypto";
import type { RecordedRequest } from "./fakeAzure.js";
import { ARM_TOKEN } from "./fakeCredential.js";

export interface FakeRun {
  /** latest value per key, as runs/get returns them */
  metrics: Record<string, number>;
  tags: Record<string, string>;
  params?: Record<string, string>;
  experimentId?: string;
  status?: string;
  /** every logged metric value, in order */
  history?: { key: string; value: number; step: number; timestamp: number }[];
}

type Json = (status: number, value: unknown) => void;

const API =
  /^\/mlflow\/v[12]\.0\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+\/api\/2\.0\/mlflow\/(.+)$/;
/** The driver's token for the MLflow API: the ARM audience (azureml-mlflow's REST store; azureml-examples using-mlflow/using-rest-api). */
export const AAD_MLFLOW_TOKEN = ARM_TOKEN;

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");

export class FakeMlflowTracking {
  readonly experiments = new Map<string, string>(); // id -> name
  readonly unsupported: string[] = [];
  private readonly runTokens = new Map<string, string>(); // token -> run id
  private nextExperiment = 1;

  constructor(readonly runs: Map<string, FakeRun>) {}

  /**
   * What Azure ML does when it starts a job: the job's run (id = job name) in the job's experiment, and a run
   * token for the job's MLflow client (a JWT: azureml-mlflow reads its `exp` claim without checking the signature).
   */
  startJobRun(jobName: string, experimentName: string): { runId: string; experimentId: string; token: string } {
    const experimentId = this.experimentByName(experimentName) ?? this.createExperiment(experimentName);
    this.runs.set(jobName, { metrics: {}, tags: {}, params: {}, experimentId, status: "RUNNING", history: [] });
    const token = `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({ exp: Math.floor(Date.now() / 1000) + 3600, run: jobName, nonce: randomUUID() })}.c2lnbmF0dXJl`;
    this.runTokens.set(token, jobName);
    return { runId: jobName, experimentId, token };
  }

  private experimentByName(name: string): string | undefined {
    return [...this.experiments.entries()].find(([, n]) => n === name)?.[0];
  }

  private createExperiment(name: string): string {
    const id = String(this.nextExperiment++);
    this.experiments.set(id, name);
    return id;
  }

  handle(rec: RecordedRequest, json: Json): void {
    const auth = rec.headers.authorization ?? "";
    const runToken = auth.startsWith("Bearer ") ? this.runTokens.get(auth.slice(7)) : undefined;
    if (auth !== AAD_MLFLOW_TOKEN && !runToken) return json(401, { error_code: "UNAUTHENTICATED", message: "wrong audience" });
    const op = API.exec(rec.path)?.[1];
    const body = (rec.body ?? {}) as Record<string, unknown>;
    const key = `${rec.method} ${op ?? rec.path}`;
    // a run token is scoped to its own run
    const runId = String(rec.query.run_id ?? body.run_id ?? body.run_uuid ?? "");
    if (runToken && runId && runId !== runToken)
      return json(403, { error_code: "PERMISSION_DENIED", message: `token of run ${runToken} used for run ${runId}` });

    switch (key) {
      case "GET runs/get":
        return this.getRun(runId, json);
      case "GET experiments/get-by-name": {
        const id = this.experimentByName(String(rec.query.experiment_name ?? ""));
        return id
          ? json(200, { experiment: this.experimentView(id) })
          : json(404, { error_code: "RESOURCE_DOES_NOT_EXIST", message: `experiment ${rec.query.experiment_name}` });
      }
      case "GET experiments/get": {
        const id = String(rec.query.experiment_id ?? "");
        return this.experiments.has(id)
          ? json(200, { experiment: this.experimentView(id) })
          : json(404, { error_code: "RESOURCE_DOES_NOT_EXIST", message: `experiment ${id}` });
      }
      case "POST experiments/create": {
        const name = String(body.name ?? "");
        if (!name) return json(400, { error_code: "INVALID_PARAMETER_VALUE", message: "name" });
        if (this.experimentByName(name)) return json(400, { error_code: "RESOURCE_ALREADY_EXISTS", message: name });
        return json(200, { experiment_id: this.createExperiment(name) });
      }
    }
    const run = this.runs.get(runId);
    if (!run) return json(404, { error_code: "RESOURCE_DOES_NOT_EXIST", message: `run ${runId}` });
    switch (key) {
      case "POST runs/log-batch": {
        for (const m of (body.metrics ?? []) as { key: string; value: number; step?: number; timestamp?: number }[]) this.logMetric(run, m);
        for (const p of (body.params ?? []) as { key: string; value: string }[]) {
          const was = run.params?.[p.key];
          if (was !== undefined && was !== p.value) return json(400, { error_code: "INVALID_PARAMETER_VALUE", message: `param ${p.key} changed` });
          run.params = { ...run.params, [p.key]: p.value };
        }
        for (const t of (body.tags ?? []) as { key: string; value: string }[]) run.tags[t.key] = t.value;
        return json(200, {});
      }
      case "POST runs/log-metric":
        this.logMetric(run, body as { key: string; value: number; step?: number; timestamp?: number });
        return json(200, {});
      case "POST runs/log-parameter":
        run.params = { ...run.params, [String(body.key)]: String(body.value) };
        return json(200, {});
      case "POST runs/set-tag":
        run.tags[String(body.key)] = String(body.value);
        return json(200, {});
      case "POST runs/update":
        if (body.status) run.status = String(body.status);
        return json(200, { run_info: this.runView(runId, run).info });
    }
    this.unsupported.push(key);
    return json(404, { error_code: "ENDPOINT_NOT_FOUND", message: rec.path });
  }

  private logMetric(run: FakeRun, m: { key: string; value: number; step?: number; timestamp?: number }): void {
    const entry = { key: m.key, value: Number(m.value), step: Number(m.step ?? 0), timestamp: Number(m.timestamp ?? Date.now()) };
    run.history = [...(run.history ?? []), entry];
    run.metrics[m.key] = entry.value;
  }

  private experimentView(id: string): Record<string, unknown> {
    return { experiment_id: id, name: this.experiments.get(id), artifact_location: "", lifecycle_stage: "active" };
  }

  private getRun(runId: string, json: Json): void {
    const run = this.runs.get(runId);
    if (!run) return json(404, { error_code: "RESOURCE_DOES_NOT_EXIST", message: `run ${runId}` });
    return json(200, { run: this.runView(runId, run) });
  }

  private runView(runId: string, run: FakeRun): { info: Record<string, unknown>; data: Record<string, unknown> } {
    const last = new Map((run.history ?? []).map((h) => [h.key, h]));
    return {
      info: {
        run_id: runId,
        run_uuid: runId,
        experiment_id: run.experimentId ?? "1",
        status: run.status ?? "FINISHED",
        lifecycle_stage: "active",
        artifact_uri: `azureml://experiments/${run.experimentId ?? "1"}/runs/${runId}/artifacts`,
      },
      data: {
        metrics: Object.entries(run.metrics).map(([key, value]) => ({ key, value, step: last.get(key)?.step ?? 0, timestamp: last.get(key)?.timestamp ?? 0 })),
        params: Object.entries(run.params ?? {}).map(([key, value]) => ({ key, value })),
        tags: Object.entries(run.tags).map(([key, value]) => ({ key, value })),
      },
    };
  }
}
