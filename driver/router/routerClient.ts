/** The rollout's side of the router's admin API (loopback HTTP). */
import { ADMIN_PREFIX, type RouterStats } from "./routerTypes.js";

export class RouterClient {
  constructor(
    /** e.g. http://127.0.0.1:5602 */
    readonly baseUrl: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async state(): Promise<RouterStats> {
    return this.call("GET", "/state");
  }

  async setWeights(weights: Record<string, number>): Promise<RouterStats> {
    return this.call("PUT", "/weights", weights);
  }

  private async call(method: string, path: string, body?: unknown): Promise<RouterStats> {
    const res = await fetch(`${this.baseUrl}${ADMIN_PREFIX}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const json = (await res.json()) as RouterStats & { error?: string };
    if (!res.ok) throw new Error(`router ${method} ${path}: ${res.status} ${json.error ?? ""}`.trim());
    return json;
  }
}
