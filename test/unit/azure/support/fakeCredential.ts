import type { AccessToken, TokenCredential } from "@azure/core-auth";

/** Hands out a token naming its scope, so the fake servers can check each client asked for the right audience. */
export class FakeCredential implements TokenCredential {
  readonly scopes: string[] = [];
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes[0]! : scopes;
    this.scopes.push(scope);
    return { token: `token-for:${scope}`, expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

export const ARM_TOKEN = "Bearer token-for:https://management.azure.com/.default";
export const AML_TOKEN = "Bearer token-for:https://ml.azure.com/.default";
export const STORAGE_TOKEN = "Bearer token-for:https://storage.azure.com/.default";
