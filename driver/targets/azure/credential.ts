/**
 * The Azure credential. In an Azure Pipelines task bound to a workload-identity service connection (AzureCLI@2,
 * AzurePowerShell) it is @azure/identity's AzurePipelinesCredential: every new Entra token asks Azure DevOps'
 * OIDC endpoint for a fresh federated assertion with the job's System.AccessToken, so a release that runs for
 * hours keeps working (the assertion the task hands a script lives about 10 minutes and cannot be refreshed:
 * Azure/azure-cli#28708). Everywhere else it is DefaultAzureCredential (`az login` on a laptop, managed identity
 * on Azure hosts, the workload identity variables on Kubernetes). `probeCredential` gets one token within a time
 * limit so a missing login is reported in seconds, as one line, without any of the token or the provider's raw
 * error text.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { ConfigError, EnvironmentError } from "../../core/errors.js";

/**
 * What AzureCLI@2 exports for a workload-identity service connection (microsoft/azure-pipelines-tasks,
 * Tasks/AzureCLIV2/azureclitask.ts, loginAzureRM), plus the job's access token, which reaches a script only when
 * mapped (`env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)`), and the predefined System.OidcRequestUri.
 */
export const PIPELINE_VARIABLES = {
  serviceConnectionId: "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
  clientId: "AZURESUBSCRIPTION_CLIENT_ID",
  tenantId: "AZURESUBSCRIPTION_TENANT_ID",
  systemAccessToken: "SYSTEM_ACCESSTOKEN",
  oidcRequestUri: "SYSTEM_OIDCREQUESTURI",
} as const;

export interface PipelineServiceConnection {
  tenantId: string;
  clientId: string;
  serviceConnectionId: string;
  systemAccessToken: string;
}

/**
 * The service connection of the Azure Pipelines task this process runs in, or undefined outside such a task.
 * A task that exports the connection but lacks one of the other values is a set-up mistake: one line naming it.
 */
export function pipelineServiceConnection(env: NodeJS.ProcessEnv = process.env): PipelineServiceConnection | undefined {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const serviceConnectionId = get(PIPELINE_VARIABLES.serviceConnectionId);
  if (!serviceConnectionId) return undefined;
  const missing = [PIPELINE_VARIABLES.clientId, PIPELINE_VARIABLES.tenantId, PIPELINE_VARIABLES.systemAccessToken, PIPELINE_VARIABLES.oidcRequestUri].filter((n) => !get(n));
  if (missing.length) {
    const hint = missing.includes(PIPELINE_VARIABLES.systemAccessToken)
      ? "map it in the step: 'env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)'"
      : "run mlops inside an AzureCLI@2 task whose service connection uses workload identity federation";
    throw new ConfigError(`Azure Pipelines service connection ${serviceConnectionId}: ${missing.join(", ")} not set; ${hint} (docs/azure-target.md, "Service connection and credential")`);
  }
  return {
    serviceConnectionId,
    clientId: get(PIPELINE_VARIABLES.clientId)!,
    tenantId: get(PIPELINE_VARIABLES.tenantId)!,
    systemAccessToken: get(PIPELINE_VARIABLES.systemAccessToken)!,
  };
}

/** Options passed through to @azure/identity (tests point the authority at a loopback fake). */
export interface CredentialOptions {
  authorityHost?: string;
  disableInstanceDiscovery?: boolean;
}

export async function defaultCredential(env: NodeJS.ProcessEnv = process.env, options: CredentialOptions = {}): Promise<TokenCredential> {
  const identity = await import("@azure/identity");
  const conn = pipelineServiceConnection(env);
  if (conn) {
    // AzurePipelinesCredential reads the OIDC request URI from process.env in its constructor: lend it the one
    // of `env` for that moment (the same value in a real task), then put process.env back as it was.
    const saved = process.env.SYSTEM_OIDCREQUESTURI;
    process.env.SYSTEM_OIDCREQUESTURI = env.SYSTEM_OIDCREQUESTURI!.trim();
    try {
      return new identity.AzurePipelinesCredential(conn.tenantId, conn.clientId, conn.serviceConnectionId, conn.systemAccessToken, options);
    } finally {
      if (saved === undefined) delete process.env.SYSTEM_OIDCREQUESTURI;
      else process.env.SYSTEM_OIDCREQUESTURI = saved;
    }
  }
  return new identity.DefaultAzureCredential(options);
}

export const NO_CREDENTIAL_HINT =
  "run 'az login' (laptop) or run mlops in an AzureCLI@2 task with a workload-identity service connection (CI); see docs/azure-target.md";

export async function probeCredential(credential: TokenCredential, scope: string, timeoutMs: number): Promise<void> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve("timeout");
    }, timeoutMs);
    timer.unref();
  });
  const kind = credential.constructor?.name === "AzurePipelinesCredential" ? "AzurePipelinesCredential" : "DefaultAzureCredential";
  let outcome: AccessToken | null | "timeout";
  try {
    outcome = await Promise.race([credential.getToken(scope, { abortSignal: abort.signal } satisfies GetTokenOptions), timeout]);
  } catch (e) {
    const name = (e as Error)?.name ?? "";
    const inner = (e as { errors?: unknown[] })?.errors;
    // every source unavailable: nobody is logged in; anything else: a source exists but Azure refused it
    const unavailable =
      name === "CredentialUnavailableError" ||
      (Array.isArray(inner) && inner.every((x) => (x as Error)?.name === "CredentialUnavailableError"));
    throw new EnvironmentError(
      unavailable
        ? `no Azure credential: ${kind} found no workload identity, managed identity or Azure CLI login; ${NO_CREDENTIAL_HINT}`
        : `an Azure credential was found but getting a token failed (${kind}: ${name || "error"}); check the login or the service connection's federated credential ('az login' again), see docs/azure-target.md`,
    );
  } finally {
    if (timer) clearTimeout(timer);
  }
  if (outcome === "timeout") {
    throw new EnvironmentError(`no Azure credential within ${(timeoutMs / 1000).toFixed(0)} s (${kind} did not answer); ${NO_CREDENTIAL_HINT}`);
  }
  if (!outcome?.token) throw new EnvironmentError(`no Azure credential: ${kind} returned no token; ${NO_CREDENTIAL_HINT}`);
}

/**
 * An auth-header provider for plain HTTP clients (MLflow REST, scoring with AAD): a bearer token per request,
 * reused until 5 minutes before it expires (or its refresh time), as the Azure SDK's bearer-token policy does.
 * Without the reuse every MLflow call would cost AzurePipelinesCredential a round trip to Azure DevOps' OIDC
 * endpoint: MSAL asks for the client assertion on every getToken, even when it then answers from its cache.
 */
export function bearerHeaders(credential: TokenCredential, scope: string, now: () => number = Date.now): () => Promise<Record<string, string>> {
  let cached: AccessToken | undefined;
  return async () => {
    const renewAt = cached ? Math.min(cached.expiresOnTimestamp - 5 * 60_000, cached.refreshAfterTimestamp ?? Infinity) : 0;
    if (!cached || now() >= renewAt) {
      const t = await credential.getToken(scope);
      if (!t?.token) throw new EnvironmentError(`no Azure token for ${scope}; ${NO_CREDENTIAL_HINT}`);
      cached = t;
    }
    return { authorization: `Bearer ${cached.token}` };
  };
}
