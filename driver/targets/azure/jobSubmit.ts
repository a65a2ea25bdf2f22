/**
 * Submits a job body to ARM as written. @azure/arm-machinelearning 2.1.1 cannot serialize job outputs: its
 * mapper registers uri_folder/mlflow_model/... outputs under "AssetJobOutput.<type>" while the job's `outputs`
 * map looks them up as "JobOutput.<type>", so `jobs.createOrUpdate` silently drops each output's `uri` and
 * `mode` (found by the contract tests). This sends the same PUT through the same client pipeline (auth, retries,
 * throttling), skipping only the serializer.
 */
import type { JobBase } from "@azure/arm-machinelearning";
import { RestError } from "@azure/core-rest-pipeline";
import { ArmRest } from "./armRest.js";
import { armWorkspaceId } from "./azureSettings.js";
import type { WorkspaceClients } from "./workspaceClients.js";

export async function putJob(ws: WorkspaceClients, name: string, body: JobBase, armEndpoint: string): Promise<JobBase> {
  const a = await new ArmRest(ws.ml, armEndpoint).send<JobBase>(
    "PUT",
    `${armWorkspaceId(ws.ref)}/jobs/${encodeURIComponent(name)}`,
    ws.ml.apiVersion,
    {},
    body,
  );
  if (a.status !== 200 && a.status !== 201) {
    throw new RestError(`PUT job ${name}: ${a.error?.message ?? `HTTP ${a.status}`}`.split("\n")[0]!, {
      statusCode: a.status,
      ...(a.error?.code ? { code: a.error.code } : {}),
    });
  }
  return a.body as JobBase;
}
