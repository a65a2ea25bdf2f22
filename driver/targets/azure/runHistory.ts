/**
 * A failed job's error text, read where Microsoft's own SDK reads it: Run History's run details on the workspace's
 * API host (azure-ai-ml 1.35 `operations/_job_ops_helper.py` `stream_logs_until_completion` → `RunOperations.get_run_details`,
 * `GET /history/v1.0/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}/runs/{runId}/details`,
 * `RunDetails.error` = `ErrorResponse{ error: RootError{ code, message } }`), with an ARM-audience token as the
 * SDK's MLClient sends to every data-plane client. The ARM job resource defines no error field (api-versions
 * 2022-10-01 and 2025-12-01). The API host is the tracking URI's (`azureml://<region>.api.azureml.ms/mlflow/...`).
 * Best effort: any failure here yields undefined, and the caller still names the job and its studio link.
 */
import { mlflowBaseUrl, type WorkspaceRef } from "./azureSettings.js";

const MAX_CHARS = 300;

export function runDetailsUrl(
  ref: Pick<WorkspaceRef, "subscriptionId" | "resourceGroup" | "workspace" | "mlflowTrackingUri">,
  runId: string,
): string | undefined {
  if (!ref.mlflowTrackingUri) return undefined;
  let origin: string;
  try {
    origin = new URL(mlflowBaseUrl(ref.mlflowTrackingUri)).origin;
  } catch {
    return undefined;
  }
  const ws = `subscriptions/${encodeURIComponent(ref.subscriptionId)}/resourceGroups/${encodeURIComponent(ref.resourceGroup)}/providers/Microsoft.MachineLearningServices/workspaces/${encodeURIComponent(ref.workspace)}`;
  return `${origin}/history/v1.0/${ws}/runs/${encodeURIComponent(runId)}/details`;
}

/** The RunDetails body's error as one line: "<code>: <message>", or undefined when it has none. */
export function runDetailsError(body: unknown): string | undefined {
  const root = (body as { error?: { error?: { code?: unknown; message?: unknown } } } | undefined)?.error?.error;
  const message = typeof root?.message === "string" ? root.message.replace(/\s+/g, " ").trim() : "";
  if (!message) return undefined;
  const code = typeof root?.code === "string" && root.code.trim() ? `${root.code.trim()}: ` : "";
  return `${code}${message}`.slice(0, MAX_CHARS);
}

export async function failedRunError(
  ref: Pick<WorkspaceRef, "subscriptionId" | "resourceGroup" | "workspace" | "mlflowTrackingUri">,
  runId: string,
  authHeaders: () => Promise<Record<string, string>>,
  timeoutMs = 30_000,
): Promise<string | undefined> {
  const url = runDetailsUrl(ref, runId);
  if (!url) return undefined;
  try {
    const res = await fetch(url, { headers: { accept: "application/json", ...(await authHeaders()) }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    return runDetailsError(await res.json());
  } catch {
    return undefined;
  }
}
