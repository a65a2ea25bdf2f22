/**
 * The Azure credential. In an Azure Pipelines task bound to a workload-identity service connection (AzureCLI@2,
 * AzurePowerShell) it is @azure/identity's AzurePipelinesCredential: every new Entra token asks Azure DevOps'
 * OIDC endpoint for a fresh federated assertion with the job's System.AccessToken, so a release that runs for
 * hours keeps working (the assertion the task hands a script lives about 10 minutes and cannot be refreshed:
 * Azure/azure-cli#28708). In a GitHub Actions job with `permissions: id-token: write` it is the same idea with
 * GitHub's OIDC provider: a ClientAssertionCredential whose assertion callback asks GitHub for a fresh OIDC token
 * (audience api://AzureADTokenExchange) whenever Entra needs one, since a GitHub OIDC token lives about 5 minutes
 * and the one azure/login hands `az login` is never renewed. Everywhere else it is DefaultAzureCredential
 * (`az login` on a laptop, managed identity on Azure hosts, the workload identity variables on Kubernetes). `probeCredential` gets one token within a time
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
  const missing = [PIPELINE_VARIABLES.clientId, PIPELINE_VARIABLES.tenantId, PIPELINE_VARIABLES.systemAccessToken, PIPELINE_VARIABLES.oidcRequestUri].filter(
    (n) => !get(n),
  );
  if (missing.length) {
    const hint = missing.includes(PIPELINE_VARIABLES.systemAccessToken)
      ? "map it in the step: 'env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)'"
      : "run mlops inside an AzureCLI@2 task whose service connection uses workload identity federation";
    throw new ConfigError(
      `Azure Pipelines service connection ${serviceConnectionId}: ${missing.join(", ")} not set; ${hint} (docs/azure-target.md, "Service connection and credential")`,
    );
  }
  return {
    serviceConnectionId,
    clientId: get(PIPELINE_VARIABLES.clientId)!,
    tenantId: get(PIPELINE_VARIABLES.tenantId)!,
    systemAccessToken: get(PIPELINE_VARIABLES.systemAccessToken)!,
  };
}

/**
 * What a GitHub Actions job with `permissions: id-token: write` has: the URL and bearer token to request OIDC tokens
 * with (GitHub docs, "OpenID Connect reference", Methods for requesting the OIDC token; @actions/core
 * oidc-utils.ts reads the same two), plus the app registration's ids, mapped into the job's env under the names the
 * Pulumi azure-native provider reads for its own OIDC login (ARM_USE_OIDC=true; pulumi/pulumi-azure-native
 * provider/pkg/provider/auth_azidentity.go, readAuthConfig), so one set of variables serves both.
 */
export const GITHUB_OIDC_VARIABLES = {
  requestUrl: "ACTIONS_ID_TOKEN_REQUEST_URL",
  requestToken: "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
  clientId: "ARM_CLIENT_ID",
  tenantId: "ARM_TENANT_ID",
} as const;

/** The audience Entra's federated credentials expect (azure/login's default; GitHub docs' curl example). */
export const GITHUB_OIDC_AUDIENCE = "api://AzureADTokenExchange";

export interface GitHubOidcLogin {
  tenantId: string;
  clientId: string;
  requestUrl: string;
  requestToken: string;
}

/**
 * The GitHub Actions OIDC login of this job, or undefined outside GitHub Actions or in a job that may not request
 * OIDC tokens (no `id-token: write`). A job that may, but lacks the app registration's ids: one line naming them.
 */
export function githubOidcLogin(env: NodeJS.ProcessEnv = process.env): GitHubOidcLogin | undefined {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const requestUrl = get(GITHUB_OIDC_VARIABLES.requestUrl);
  if (env.GITHUB_ACTIONS !== "true" || !requestUrl) return undefined;
  const missing = [GITHUB_OIDC_VARIABLES.requestToken, GITHUB_OIDC_VARIABLES.clientId, GITHUB_OIDC_VARIABLES.tenantId].filter((n) => !get(n));
  if (missing.length) {
    const hint = missing.includes(GITHUB_OIDC_VARIABLES.requestToken)
      ? "give the job 'permissions: id-token: write'"
      : "map them in the job's env: 'ARM_CLIENT_ID: ${{ vars.AZURE_CLIENT_ID }}', 'ARM_TENANT_ID: ${{ vars.AZURE_TENANT_ID }}'";
    throw new ConfigError(`GitHub Actions OIDC login: ${missing.join(", ")} not set; ${hint} (docs/github-actions.md, "Azure login")`);
  }
  return {
    requestUrl,
    requestToken: get(GITHUB_OIDC_VARIABLES.requestToken)!,
    clientId: get(GITHUB_OIDC_VARIABLES.clientId)!,
    tenantId: get(GITHUB_OIDC_VARIABLES.tenantId)!,
  };
}

/** GitHub's OIDC endpoint refused or failed; the message carries the HTTP status only, never a token. */
export class GitHubOidcError extends Error {
  override name = "GitHubOidcError";
}

/**
 * The assertion callback: every call asks GitHub's OIDC endpoint for a NEW token (GET <request URL>&audience=...,
 * `Authorization: Bearer <request token>`, answer `{"value": "<jwt>"}`: @actions/core oidc-utils.ts getIDToken).
 * MSAL calls it whenever it requests a token from Entra, so a job that runs for hours presents a fresh assertion
 * each time. A network error, 429 or 5xx is retried twice (1 s, 2 s), as the toolkit's client retries.
 */
export function githubOidcAssertion(login: GitHubOidcLogin, fetchImpl: typeof fetch = fetch): () => Promise<string> {
  return async () => {
    const url = new URL(login.requestUrl);
    url.searchParams.set("audience", GITHUB_OIDC_AUDIENCE);
    let last = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, 1000 * attempt));
      let res: Response;
      try {
        res = await fetchImpl(url, {
          headers: { authorization: `Bearer ${login.requestToken}`, accept: "application/json" },
          signal: AbortSignal.timeout(30_000),
        });
      } catch (e) {
        last = (e as Error).name || "network error";
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        last = `HTTP ${res.status}`;
        continue;
      }
      const body = res.ok ? ((await res.json().catch(() => undefined)) as { value?: unknown } | undefined) : undefined;
      if (typeof body?.value === "string" && body.value) return body.value;
      throw new GitHubOidcError(
        res.ok
          ? "GitHub's OIDC endpoint answered without a token ('value')"
          : `GitHub's OIDC endpoint refused the job's request token (HTTP ${res.status}); the job needs 'permissions: id-token: write'`,
      );
    }
    throw new GitHubOidcError(`GitHub's OIDC endpoint did not answer after 3 attempts (${last})`);
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
  const github = githubOidcLogin(env);
  if (github) return new identity.ClientAssertionCredential(github.tenantId, github.clientId, githubOidcAssertion(github), options);
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
  const ci = ["AzurePipelinesCredential", "ClientAssertionCredential"].includes(credential.constructor?.name ?? "");
  const kind = ci ? credential.constructor.name : "DefaultAzureCredential";
  const refusedHint =
    kind === "ClientAssertionCredential"
      ? "check the app registration's federated credential (issuer, subject, audience api://AzureADTokenExchange) and the job's 'id-token: write', see docs/github-actions.md"
      : "check the login or the service connection's federated credential ('az login' again), see docs/azure-target.md";
  let outcome: AccessToken | null | "timeout";
  try {
    outcome = await Promise.race([credential.getToken(scope, { abortSignal: abort.signal } satisfies GetTokenOptions), timeout]);
  } catch (e) {
    const name = (e as Error)?.name ?? "";
    const inner = (e as { errors?: unknown[] })?.errors;
    // every source unavailable: nobody is logged in; anything else: a source exists but Azure refused it
    const unavailable =
      name === "CredentialUnavailableError" || (Array.isArray(inner) && inner.every((x) => (x as Error)?.name === "CredentialUnavailableError"));
    throw new EnvironmentError(
      unavailable
        ? `no Azure credential: ${kind} found no workload identity, managed identity or Azure CLI login; ${NO_CREDENTIAL_HINT}`
        : `an Azure credential was found but getting a token failed (${kind}: ${name || "error"}); ${refusedHint}`,
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
