import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { UnsecuredJWT } from "jose";

/** Who the fake credential is signed in as: the claims Entra ID puts in a user's access token (oid, tid, upn). */
export interface FakePrincipal {
  oid: string;
  tid: string;
  upn?: string;
  appid?: string;
}

export const SIGNED_IN: FakePrincipal = { oid: "5b1f3c2a-0d4e-4c8b-9a7f-1e2d3c4b5a69", tid: "0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5", upn: "alice@contoso.com" };

/**
 * A JWT-shaped access token (unsigned) for `scope`, as Entra ID issues them: the audience is the scope's resource,
 * the principal's claims follow. Deterministic, so tests can compare Authorization headers.
 */
export function fakeToken(scope: string, who: FakePrincipal = SIGNED_IN): string {
  return new UnsecuredJWT({ aud: scope.replace(/\/\.default$/, ""), ...who }).encode();
}

/** Hands out a token naming its scope (as `aud`), so the fake servers can check each client asked for the right audience. */
export class FakeCredential implements TokenCredential {
  readonly scopes: string[] = [];
  constructor(private readonly who: FakePrincipal = SIGNED_IN) {}
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes[0]! : scopes;
    this.scopes.push(scope);
    return { token: fakeToken(scope, this.who), expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

export const ARM_TOKEN = `Bearer ${fakeToken("https://management.azure.com/.default")}`;
export const AML_TOKEN = `Bearer ${fakeToken("https://ml.azure.com/.default")}`;
export const STORAGE_TOKEN = `Bearer ${fakeToken("https://storage.azure.com/.default")}`;
