/**
 * Which traffic split the endpoint can be given in this update, and which assets each deployment runs.
 *
 * Azure ML sets traffic on the endpoint, and the endpoint is updated before its deployments (they
 * are its children), so in one update the traffic changes first and a deployment's new model
 * version rolls out afterwards (minutes). Traffic may therefore only name deployments that are
 * *live*: they existed when the previous update finished, serving the model version they are
 * configured with now. A deployment that is new, or whose model version (or model name) changes in
 * this update, is not live: it gets weight 0 in this update and its traffic on the next one.
 *   - every deployment with weight > 0 is live    -> the configured split (converged)
 *   - otherwise                                     -> keep the previous split on the live, still
 *                                                      configured deployments (the one with the most
 *                                                      traffic takes what a non-live one had), else no
 *                                                      traffic; not converged: run `pulumi up` again
 *                                                      to apply the configured split.
 * Deployments with weight 0 are never named in the traffic map (absent means 0).
 *
 * The previous update's state (the stack output `servingState`) records, per deployment, the model
 * version it serves and the code/environment asset ids it runs, so a deployment whose version does
 * not change keeps its assets (pinned per colour) while an edit of score.py / conda.yml reaches
 * only the deployment that is being (re)deployed.
 */
export interface LiveDeployment {
  /** Model version the deployment serves once the update has finished. */
  readonly version: string;
  /** ARM id of the code asset version it runs (absent in state written before assets were pinned). */
  readonly codeId?: string;
  /** ARM id of the environment asset version it runs. */
  readonly environmentId?: string;
}

export interface ServingState {
  /** Registered model name the deployments serve (absent in state written by older programs). */
  readonly model?: string;
  /** Deployments that exist once the update has finished, with what they serve. */
  readonly deployments: Readonly<Record<string, LiveDeployment>>;
  /** Traffic the endpoint was given by the update. */
  readonly traffic: Readonly<Record<string, number>>;
}

export interface DesiredServing {
  readonly model: string;
  readonly deployments: Readonly<Record<string, { readonly version: string; readonly weight: number }>>;
}

export interface TrafficPlan {
  readonly traffic: Record<string, number>;
  /** True when the applied traffic is the configured one. */
  readonly converged: boolean;
}

function sum(traffic: Record<string, number>): number {
  return Object.values(traffic).reduce((a, b) => a + b, 0);
}

/** The previous state's entry for `name` when it serves `version` of `model` already (a live deployment). */
export function liveDeployment(name: string, model: string, version: string, previous: ServingState | undefined): LiveDeployment | undefined {
  if (!previous) return undefined;
  if (previous.model !== undefined && previous.model !== model) return undefined;
  const entry = previous.deployments[name];
  return entry && entry.version === version ? entry : undefined;
}

export function planTraffic(desired: DesiredServing, previous: ServingState | undefined): TrafficPlan {
  const isLive = (name: string): boolean => {
    const d = desired.deployments[name];
    return d !== undefined && liveDeployment(name, desired.model, d.version, previous) !== undefined;
  };
  const wanted: Record<string, number> = {};
  for (const [name, d] of Object.entries(desired.deployments)) if (d.weight > 0) wanted[name] = d.weight;
  if (Object.keys(wanted).every(isLive)) return { traffic: wanted, converged: true };

  const kept: Record<string, number> = {};
  for (const [name, weight] of Object.entries(previous?.traffic ?? {})) {
    if (weight > 0 && isLive(name)) kept[name] = weight;
  }
  const names = Object.keys(kept);
  if (names.length === 0) return { traffic: {}, converged: false };
  // A deployment that left the split (re-versioned or removed) hands its share to the live deployment
  // with the most traffic, so the endpoint keeps serving what it served, never the stale version.
  const top = names.sort((a, b) => kept[b]! - kept[a]! || a.localeCompare(b))[0]!;
  kept[top] = kept[top]! + (100 - sum(kept));
  return { traffic: kept, converged: false };
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Reads a previous `servingState` stack output defensively (it may be absent or from an older
 * program). State from before versions were recorded (`liveDeployments: [...]`) takes the versions
 * from the previous `servedModel` output when given; without them a deployment counts as not live.
 */
export function toServingState(value: unknown, servedModel?: unknown): ServingState | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const candidate = value as { model?: unknown; deployments?: unknown; liveDeployments?: unknown; traffic?: unknown };
  const deployments: Record<string, LiveDeployment> = {};
  let model = asString(candidate.model);
  if (candidate.deployments !== null && typeof candidate.deployments === "object" && !Array.isArray(candidate.deployments)) {
    for (const [name, raw] of Object.entries(candidate.deployments as Record<string, unknown>)) {
      if (raw === null || typeof raw !== "object") continue;
      const entry = raw as { version?: unknown; codeId?: unknown; environmentId?: unknown };
      const version = typeof entry.version === "number" ? String(entry.version) : asString(entry.version);
      if (!version) continue;
      const codeId = asString(entry.codeId);
      const environmentId = asString(entry.environmentId);
      deployments[name] = { version, ...(codeId ? { codeId } : {}), ...(environmentId ? { environmentId } : {}) };
    }
  } else if (Array.isArray(candidate.liveDeployments)) {
    const served = servedModel as { name?: unknown; deployments?: Record<string, { version?: unknown }> } | undefined;
    model = asString(served?.name);
    for (const name of candidate.liveDeployments) {
      if (typeof name !== "string") continue;
      const version = served?.deployments?.[name]?.version;
      if (typeof version === "string" || typeof version === "number") deployments[name] = { version: String(version) };
    }
  }
  const traffic: Record<string, number> = {};
  if (candidate.traffic !== null && typeof candidate.traffic === "object") {
    for (const [name, weight] of Object.entries(candidate.traffic as Record<string, unknown>)) {
      if (typeof weight === "number") traffic[name] = weight;
    }
  }
  return { ...(model ? { model } : {}), deployments, traffic };
}
