/**
 * Who the azure target's credential is, from the claims of an access token it gets for Azure Resource Manager
 * (Microsoft identity platform, "Access token claims reference": `oid` the object id of the principal in the
 * tenant, `tid` the tenant; for users `upn` (v1 tokens) / `preferred_username` (v2) / `unique_name`; for a service
 * principal or managed identity no UPN: `appid` (v1) or `azp` (v2) names the application). The token is only
 * read, never verified: it came straight from our own credential over TLS, and it is never printed or stored.
 */
import type { TokenCredential } from "@azure/core-auth";
import { decodeJwt } from "jose";
import { ApprovalError } from "../../core/errors.js";
import type { ApproverIdentity } from "../../core/release.js";

/** The identity in an access token's claims; throws ApprovalError when the token carries no object id. */
export function identityFromAccessToken(token: string): ApproverIdentity {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new ApprovalError(
      "the Azure credential's token is not a JWT, so who is signed in cannot be told; sign in with 'az login' (or a service principal) and retry",
    );
  }
  const text = (k: string) => (typeof claims[k] === "string" && claims[k] ? (claims[k] as string) : undefined);
  const objectId = text("oid");
  if (!objectId)
    throw new ApprovalError("the Azure credential's token has no object id (oid claim); sign in as a user or service principal of the tenant and retry");
  const user = text("upn") ?? text("preferred_username") ?? text("unique_name");
  const app = text("appid") ?? text("azp");
  const names = [...new Set([user, objectId, user ? undefined : app].filter((n): n is string => Boolean(n)))];
  const tenantId = text("tid");
  return { authenticated: true, source: "entra-id", names, objectId, ...(tenantId ? { tenantId } : {}) };
}

/** The credential's identity (one ARM token; the credential caches it for the calls that follow). */
export async function entraIdentity(credential: TokenCredential, armScope: string): Promise<ApproverIdentity> {
  const token = await credential.getToken(armScope);
  if (!token?.token) throw new ApprovalError("the Azure credential gave no token, so who is signed in cannot be told; run 'az login' and retry");
  return identityFromAccessToken(token.token);
}
