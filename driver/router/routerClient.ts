/**
 * The driver's side of the router's admin API: the admin listener's URL and token come from the router's
 * admin file (mode 0600), read on every call, so a client outlives a router restart. The scoring URL
 * (`baseUrl`) is where probe traffic goes; the admin API is never on it.
 */
import os from "node:os";
import { readAdminFile } from "./routerAdminFile.js";
import { ACTOR_HEADER, ADMIN_PREFIX, REASON_HEADER, type RouterAdminAccess, type RouterStats } from "./routerTypes.js";
import type { ShadowMirrorState } from "./shadowMirror.js";

/** The admin listener and its token, or where to read them each time. */
export type AdminAccessSource = Omit<RouterAdminAccess, "pid"> | (() => Promise<Omit<RouterAdminAccess, "pid">>);

/** Who changes the weights, for the router's log: the OS user and this process. */
export const thisActor = (): string => `${os.userInfo().username} (mlops pid ${process.pid})`;

export class RouterClient {
  constructor(
    /** the router's scoring listener, e.g. http://127.0.0.1:5602 */
    readonly baseUrl: string,
    private readonly admin: AdminAccessSource,
    private readonly timeoutMs = 5_000,
  ) {}

  /** A client whose admin access is read from `adminFile` on each call. */
  static fromAdminFile(baseUrl: string, adminFile: string, timeoutMs?: number): RouterClient {
    return new RouterClient(baseUrl, () => readAdminFile(adminFile), timeoutMs);
  }

  async state(): Promise<RouterStats> {
    return this.call("GET", "/state");
  }

  /** `reason` goes to the router's log with the change ("rollout blue -> green, step 10%"). */
  async setWeights(weights: Record<string, number>, reason?: string): Promise<RouterStats> {
    return this.call("PUT", "/weights", weights, reason);
  }

  /** Mirrors `percent` of live requests to `to` (weight 0), or stops mirroring with percent 0. */
  async setShadow(shadow: { to?: string; percent: number; timeoutMs?: number; maxInFlight?: number }, reason?: string): Promise<ShadowMirrorState> {
    return this.call<ShadowMirrorState>("PUT", "/shadow", shadow, reason);
  }

  /** The mirror's state and the pairs recorded after sequence number `after`. */
  async shadow(after: number): Promise<ShadowMirrorState> {
    return this.call<ShadowMirrorState>("GET", `/shadow?after=${after}`);
  }

  private async call<T = RouterStats>(method: string, path: string, body?: unknown, reason?: string): Promise<T> {
    const access = typeof this.admin === "function" ? await this.admin() : this.admin;
    const headers: Record<string, string> = { authorization: `Bearer ${access.token}`, [ACTOR_HEADER]: thisActor() };
    if (reason) headers[REASON_HEADER] = reason;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${access.url}${ADMIN_PREFIX}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`router ${method} ${path}: ${res.status} ${json.error ?? ""}`.trim());
    return json;
  }
}
