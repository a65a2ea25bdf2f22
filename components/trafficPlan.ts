/**
 * Which traffic split the endpoint can be given in this update.
 *
 * Azure ML sets traffic on the endpoint, and the endpoint must exist before its deployments, so a
 * single update cannot create a deployment and route traffic to it in the right order. The plan
 * therefore only routes traffic to deployments that already existed when the previous update
 * finished (recorded in the stack output `servingState.liveDeployments`):
 *   - every deployment with weight > 0 is live    -> the configured split (converged)
 *   - otherwise                                     -> keep the previous split where it still names
 *                                                      live, configured deployments and sums to
 *                                                      100, else no traffic; not converged: run
 *                                                      `pulumi up` again to apply the configured split.
 * Deployments with weight 0 are never named in the traffic map (absent means 0).
 */
export interface ServingState {
  /** Deployments that exist once this update has finished. */
  readonly liveDeployments: readonly string[];
  /** Traffic the endpoint was given by the update. */
  readonly traffic: Readonly<Record<string, number>>;
}

export interface TrafficPlan {
  readonly traffic: Record<string, number>;
  /** True when the applied traffic is the configured one. */
  readonly converged: boolean;
}

function sum(traffic: Record<string, number>): number {
  return Object.values(traffic).reduce((a, b) => a + b, 0);
}

export function planTraffic(
  desiredWeights: Readonly<Record<string, number>>,
  previous: ServingState | undefined,
): TrafficPlan {
  const live = new Set(previous?.liveDeployments ?? []);
  const desired: Record<string, number> = {};
  for (const [name, weight] of Object.entries(desiredWeights)) if (weight > 0) desired[name] = weight;
  if (Object.keys(desired).every((name) => live.has(name))) return { traffic: desired, converged: true };

  const kept: Record<string, number> = {};
  for (const [name, weight] of Object.entries(previous?.traffic ?? {})) {
    if (weight > 0 && live.has(name) && name in desiredWeights) kept[name] = weight;
  }
  return { traffic: sum(kept) === 100 ? kept : {}, converged: false };
}

/** Reads a previous `servingState` stack output defensively (it may be absent or from an older program). */
export function toServingState(value: unknown): ServingState | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const candidate = value as { liveDeployments?: unknown; traffic?: unknown };
  const liveDeployments = Array.isArray(candidate.liveDeployments)
    ? candidate.liveDeployments.filter((n): n is string => typeof n === "string")
    : [];
  const traffic: Record<string, number> = {};
  if (candidate.traffic !== null && typeof candidate.traffic === "object") {
    for (const [name, weight] of Object.entries(candidate.traffic as Record<string, unknown>)) {
      if (typeof weight === "number") traffic[name] = weight;
    }
  }
  return { liveDeployments, traffic };
}
