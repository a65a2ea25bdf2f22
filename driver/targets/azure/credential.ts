/**
 * The Azure credential: DefaultAzureCredential (workload identity federation in CI through AzureCLI@2 or
 * AZURE_FEDERATED_TOKEN_FILE, `az login` on a laptop, managed identity on Azure hosts). `probeCredential`
 * gets one token within a time limit so a missing login is reported in seconds, as one line, without any of
 * the token or the provider's raw error text.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { EnvironmentError } from "../../core/errors.js";

export async function defaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import("@azure/identity");
  return new DefaultAzureCredential();
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
        ? `no Azure credential: DefaultAzureCredential found no workload identity, managed identity or Azure CLI login; ${NO_CREDENTIAL_HINT}`
        : `an Azure credential was found but getting a token failed (${name || "error"}); check the login or the service connection's federated credential ('az login' again), see docs/azure-target.md`,
    );
  } finally {
    if (timer) clearTimeout(timer);
  }
  if (outcome === "timeout") {
    throw new EnvironmentError(`no Azure credential within ${(timeoutMs / 1000).toFixed(0)} s (DefaultAzureCredential did not answer); ${NO_CREDENTIAL_HINT}`);
  }
  if (!outcome?.token) throw new EnvironmentError(`no Azure credential: DefaultAzureCredential returned no token; ${NO_CREDENTIAL_HINT}`);
}

/** An auth-header provider for plain HTTP clients (MLflow REST, scoring with AAD): a bearer token per request. */
export function bearerHeaders(credential: TokenCredential, scope: string): () => Promise<Record<string, string>> {
  return async () => {
    const t = await credential.getToken(scope);
    if (!t?.token) throw new EnvironmentError(`no Azure token for ${scope}; ${NO_CREDENTIAL_HINT}`);
    return { authorization: `Bearer ${t.token}` };
  };
}
