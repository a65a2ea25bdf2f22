/**
 * Submits a job body to ARM as written. @azure/arm-machinelearning 2.1.1 cannot serialize job outputs: its
 * mapper registers uri_folder/mlflow_model/... outputs under "AssetJobOutput.<type>" while the job's `outputs`
 * map looks them up as "JobOutput.<type>", so `jobs.createOrUpdate` silently drops each output's `uri` and
 * `mode` (found by the contract tests). This sends the same PUT through the same client pipeline (auth, retries,
 * throttling), skipping only the serializer.
 */
import type { JobBase } from "@azure/arm-machinelearning";
import { createPipelineRequest, RestError } from "@azure/core-rest-pipeline";
import { armWorkspaceId } from "./azureSettings.js";
import type { WorkspaceClients } from "./workspaceClients.js";

export async function putJob(ws: WorkspaceClients, name: string, body: JobBase, armEndpoint: string): Promise<JobBase> {
  const url = `${armEndpoint.replace(/\/+$/, "")}${armWorkspaceId(ws.ref)}/jobs/${encodeURIComponent(name)}?api-version=${ws.ml.apiVersion}`;
  const request = createPipelineRequest({ url, method: "PUT", body: JSON.stringify(body) });
  request.headers.set("content-type", "application/json; charset=utf-8");
  request.headers.set("accept", "application/json");
  const res = await ws.ml.sendRequest(request);
  let parsed: unknown;
  try {
    parsed = res.bodyAsText ? JSON.parse(res.bodyAsText) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.status !== 200 && res.status !== 201) {
    const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new RestError(`PUT job ${name}: ${err?.message ?? `HTTP ${res.status}`}`.split("\n")[0]!, {
      statusCode: res.status,
      ...(err?.code ? { code: err.code } : {}),
    });
  }
  return parsed as JobBase;
}
