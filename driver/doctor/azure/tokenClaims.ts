/**
 * Who an ARM access token speaks for, read from its claims (the JWT payload, base64url JSON) on this machine: no
 * call, no signature check (ARM checks it), and the token itself is never kept or printed. Claims per Microsoft's
 * "Access token claims reference" (learn.microsoft.com/entra/identity-platform/access-token-claims-reference):
 * `tid` tenant, `oid` object id of the caller, `idtyp` "app" for an application (service principal, managed
 * identity, workload identity), `upn`/`unique_name`/`preferred_username` for a user, `appid` (v1) or `azp` (v2)
 * the client application, `exp` expiry (seconds since the epoch).
 */
export interface TokenIdentity {
  tenantId: string;
  objectId: string;
  kind: "user" | "app";
  /** UPN for a user; the application (client) id for an app */
  name: string;
  appId?: string;
  expiresAt?: Date;
}

function b64urlJson(part: string): Record<string, unknown> | undefined {
  try {
    const json = Buffer.from(part.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8");
    const v = JSON.parse(json) as unknown;
    return v && typeof v === "object" ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const s = (v: unknown): string | undefined => (typeof v === "string" && v.trim() ? v.trim() : undefined);

/** undefined when the token is not a JWT with at least `tid` and `oid`. */
export function identityFromToken(token: string): TokenIdentity | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const c = b64urlJson(parts[1]!);
  if (!c) return undefined;
  const tenantId = s(c.tid);
  const objectId = s(c.oid);
  if (!tenantId || !objectId) return undefined;
  const appId = s(c.appid) ?? s(c.azp);
  const user = s(c.upn) ?? s(c.unique_name) ?? s(c.preferred_username);
  const kind: "user" | "app" = s(c.idtyp) === "app" || (!user && !!appId) ? "app" : "user";
  const name = kind === "app" ? (appId ?? objectId) : (user ?? objectId);
  const exp = typeof c.exp === "number" ? new Date(c.exp * 1000) : undefined;
  return { tenantId, objectId, kind, name, ...(appId ? { appId } : {}), ...(exp ? { expiresAt: exp } : {}) };
}
