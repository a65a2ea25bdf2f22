/**
 * Every environment variable the azure target reads, in one place (docs/azure-target.md lists them), and the
 * workspace coordinates taken from a stack's outputs. Nothing here is secret: credentials come from
 * DefaultAzureCredential's own sources (workload identity, `az login`, managed identity).
 */
import { ConfigError } from "../../core/errors.js";
import type { StackOutputValues } from "../../pulumi/stackUpdater.js";

export interface AzureSettings {
  /** ARM endpoint; MLOPS_AZURE_ARM_ENDPOINT (sovereign clouds, tests), default the public cloud's. */
  armEndpoint: string;
  /** Token scope for ARM, derived from the endpoint unless MLOPS_AZURE_ARM_SCOPE is set. */
  armScope: string;
  /** How long the up-front credential check may take; MLOPS_AZURE_CREDENTIAL_TIMEOUT_MS, default 5000. */
  credentialTimeoutMs: number;
  /** First and longest wait between job status polls; MLOPS_AZURE_POLL_SECONDS ("10" or "10,60"). */
  pollMinMs: number;
  pollMaxMs: number;
  /** Training jobs running longer are cancelled; MLOPS_AZURE_JOB_TIMEOUT_MINUTES, default 120. */
  jobTimeoutMs: number;
  /** Base image of the training environment; MLOPS_AZURE_BASE_IMAGE, default the scoring component's. */
  baseImage?: string;
}

export const DEFAULT_ARM_ENDPOINT = "https://management.azure.com";
/**
 * Azure ML's data-plane audience: AAD-token scoring of online endpoints (MS Learn, "Authenticate clients for online
 * endpoints"). NOT the MLflow tracking API: that takes an ARM token (see `mlflowScope`).
 */
export const AML_SCOPE = "https://ml.azure.com/.default";

/**
 * The token scope of the workspace's MLflow tracking API: the ARM audience, as Microsoft's own clients ask for it:
 * azureml-mlflow 1.62.0.post6 (PyPI) `azureml/mlflow/_store/azureml_reststore.py` requests
 * `cloud._get_default_scope()` = `<resource_manager>/.default` (`_common/_cloud/cloud.py`), and Azure/azureml-examples
 * `sdk/python/using-mlflow/using-rest-api/using_mlflow_rest_api.ipynb` gets its token for
 * `resource=https://management.azure.com`.
 */
export function mlflowScope(settings: Pick<AzureSettings, "armScope">): string {
  return settings.armScope;
}
export const STORAGE_SCOPE = "https://storage.azure.com/.default";

function num(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new ConfigError(`${name}='${raw}' must be a number >= ${min}; fix or unset it`);
  return n;
}

export function readAzureSettings(env: NodeJS.ProcessEnv = process.env): AzureSettings {
  const armEndpoint = (env.MLOPS_AZURE_ARM_ENDPOINT?.trim() || DEFAULT_ARM_ENDPOINT).replace(/\/+$/, "");
  const poll = (env.MLOPS_AZURE_POLL_SECONDS?.trim() || "10,60").split(",").map((s) => Number(s.trim()));
  const [pmin, pmax] = [poll[0], poll[1] ?? poll[0]];
  if (!Number.isFinite(pmin) || !Number.isFinite(pmax) || pmin! <= 0 || pmax! < pmin!) {
    throw new ConfigError(`MLOPS_AZURE_POLL_SECONDS='${env.MLOPS_AZURE_POLL_SECONDS}' must be '<first>' or '<first>,<max>' seconds; fix or unset it`);
  }
  const baseImage = env.MLOPS_AZURE_BASE_IMAGE?.trim();
  return {
    armEndpoint,
    armScope: env.MLOPS_AZURE_ARM_SCOPE?.trim() || `${DEFAULT_ARM_ENDPOINT}/.default`,
    credentialTimeoutMs: num(env, "MLOPS_AZURE_CREDENTIAL_TIMEOUT_MS", 5000, 100),
    pollMinMs: pmin! * 1000,
    pollMaxMs: pmax! * 1000,
    jobTimeoutMs: num(env, "MLOPS_AZURE_JOB_TIMEOUT_MINUTES", 120, 0.01) * 60_000,
    ...(baseImage ? { baseImage } : {}),
  };
}

/** Where one stack's Azure ML workspace is, from `pulumi stack output` (see index.ts). */
export interface WorkspaceRef {
  stack: string;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  /** azureml://<region>.api.azureml.ms/mlflow/v1.0/subscriptions/... */
  mlflowTrackingUri?: string;
  trainingCompute?: string;
  endpointName?: string;
  scoringUri?: string;
  trafficConverged?: boolean;
  traffic: Record<string, number>;
}

const WORKSPACE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)$/i;

const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() ? v.trim() : undefined);

export function workspaceFromOutputs(stack: string, out: StackOutputValues): WorkspaceRef {
  const id = str(out.workspaceId);
  const m = id ? WORKSPACE_ID.exec(id) : null;
  if (!m) {
    throw new ConfigError(
      `stack '${stack}' has no workspaceId output (an Azure ML workspace ARM id); run 'pulumi up --stack ${stack}' once to create the environment (docs/azure-target.md)`,
    );
  }
  const traffic: Record<string, number> = {};
  if (out.traffic && typeof out.traffic === "object") {
    for (const [k, v] of Object.entries(out.traffic as Record<string, unknown>)) if (typeof v === "number") traffic[k] = v;
  }
  const ref: WorkspaceRef = {
    stack,
    subscriptionId: m[1]!,
    resourceGroup: str(out.resourceGroupName) ?? m[2]!,
    workspace: str(out.workspaceName) ?? m[3]!,
    traffic,
  };
  const opt: [keyof WorkspaceRef, unknown][] = [
    ["mlflowTrackingUri", str(out.mlflowTrackingUri)],
    ["trainingCompute", str(out.trainingComputeName)],
    ["endpointName", str(out.endpointName)],
    ["scoringUri", str(out.scoringUri)],
    ["trafficConverged", typeof out.trafficConverged === "boolean" ? out.trafficConverged : undefined],
  ];
  for (const [k, v] of opt) if (v !== undefined) (ref as unknown as Record<string, unknown>)[k] = v;
  return ref;
}

/** The workspace's MLflow tracking URI as the https base URL the MLflow REST client takes. */
export function mlflowBaseUrl(trackingUri: string): string {
  const u = trackingUri.trim();
  if (/^azureml:\/\//i.test(u)) return u.replace(/^azureml:\/\//i, "https://").replace(/\/+$/, "");
  if (/^https:\/\//i.test(u)) return u.replace(/\/+$/, "");
  throw new ConfigError(`'${u}' is not an Azure ML MLflow tracking URI (azureml://<region>.api.azureml.ms/mlflow/v1.0/...)`);
}

export function armWorkspaceId(ref: Pick<WorkspaceRef, "subscriptionId" | "resourceGroup" | "workspace">): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${ref.workspace}`;
}

/** The Azure ML studio page of a job (used when the job has no Studio service link). */
export function studioJobUrl(ref: WorkspaceRef, jobName: string): string {
  return `https://ml.azure.com/runs/${encodeURIComponent(jobName)}?wsid=${encodeURIComponent(armWorkspaceId(ref))}`;
}
