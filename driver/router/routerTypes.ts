/** Shapes shared by the weighted router, its admin client and the rollout. Pure data. */

/** Traffic counters of one upstream since the router started (monotonic). */
export interface UpstreamCounters {
  /** requests forwarded */
  requests: number;
  /** responses with status 2xx/3xx */
  ok: number;
  /** responses with status 4xx (the caller's fault: not counted as errors) */
  clientErrors: number;
  /** responses with status 5xx */
  serverErrors: number;
  /** no response: connection refused or reset, or upstream timeout (the caller got 502/504) */
  failed: number;
}

export interface RouterState {
  /** upstream name (blue, green) -> base URL such as http://127.0.0.1:5611 */
  upstreams: Record<string, string>;
  /** upstream name -> weight, integers; 0 takes no traffic */
  weights: Record<string, number>;
}

export interface RouterStats extends RouterState {
  counters: Record<string, UpstreamCounters>;
}

/** One answer to a request, live or mirrored. */
export interface ShadowAnswer {
  /** the upstream (deployment) that answered */
  upstream: string;
  /** HTTP status; 0 = no answer (refused, reset, timed out) */
  status: number;
  /** request to the end of the response, ms */
  ms: number;
  /** the response body when it is at most the recorder's cap; absent otherwise (or no answer) */
  body?: string;
  /** why there was no answer */
  error?: string;
}

/** A live request and its mirrored copy. */
export interface ShadowPair {
  seq: number;
  live: ShadowAnswer;
  shadow: ShadowAnswer;
}

/** Paths of the router's admin API, served on its own loopback listener (never on the scoring port). */
export const ADMIN_PREFIX = "/-/router";

/** Where the admin listener is and the token it wants (the router writes it to a 0600 file). */
export interface RouterAdminAccess {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  token: string;
  /** the router process that wrote it */
  pid: number;
}

/** Header naming who changes the weights ("alice (pid 4242)"), and why; logged by the router. */
export const ACTOR_HEADER = "x-mlops-actor";
export const REASON_HEADER = "x-mlops-reason";

export const emptyCounters = (): UpstreamCounters => ({ requests: 0, ok: 0, clientErrors: 0, serverErrors: 0, failed: 0 });

/** Errors (5xx and no response) over requests between two readings of one upstream's counters. */
export function errorRateBetween(before: UpstreamCounters | undefined, after: UpstreamCounters): { requests: number; errors: number; rate: number } {
  const b = before ?? emptyCounters();
  const requests = after.requests - b.requests;
  const errors = after.serverErrors - b.serverErrors + (after.failed - b.failed);
  return { requests, errors, rate: requests > 0 ? errors / requests : 0 };
}
