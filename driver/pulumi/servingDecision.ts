/**
 * The blue/green decision, as a pure function: given what a stack's `mlops:serving` holds now and the model
 * version to serve, the serving config to write next.
 *
 *   - the version already takes all the traffic        -> unchanged
 *   - a deployment already holds the version (idle)    -> it gets weight 100, the others 0
 *   - otherwise                                        -> the idle color (blue/green, the one without traffic)
 *                                                         gets {version, weight 100}; the active one stays with
 *                                                         weight 0 so the program keeps it until the new one is
 *                                                         live (see components/trafficPlan.ts: a new or
 *                                                         re-versioned colour takes traffic only on the
 *                                                         convergence `up`) and a rollback needs no rebuild
 *                                                         (it keeps its pinned code and environment)
 *   - the stack serves another model name              -> the new model replaces every deployment (blue, 100);
 *                                                         there is no rollback target
 *
 * `previous` is what took the traffic before (for the release record and rollback).
 */
import type { DeploymentConfig } from "../../config/stackConfig.js";

export interface ServingConfig {
  model: string;
  deployments: Record<string, DeploymentConfig>;
}

export interface ServingDecision {
  serving: ServingConfig;
  /** The deployment that serves the version afterwards. */
  color: string;
  /** The deployment and version that had the most traffic before, when it served the same model. */
  previous?: { color: string; version: string };
  changed: boolean;
  /** One line for progress and the release record. */
  detail: string;
}

export const COLORS = ["blue", "green"] as const;

function active(deployments: Record<string, DeploymentConfig>): string | undefined {
  let best: string | undefined;
  for (const [name, d] of Object.entries(deployments)) {
    if (d.weight > 0 && (best === undefined || d.weight > deployments[best]!.weight)) best = name;
  }
  return best;
}

export function decideServing(current: ServingConfig, modelName: string, version: string): ServingDecision {
  if (!/^[1-9][0-9]*$/.test(version)) throw new Error(`model version '${version}' is not a positive integer`);
  const deployments = current.deployments;
  const activeName = active(deployments);
  const previous = activeName ? { color: activeName, version: deployments[activeName]!.version } : undefined;

  if (current.model !== modelName) {
    const hadAny = Object.keys(deployments).length > 0;
    return {
      serving: { model: modelName, deployments: { blue: { version, weight: 100 } } },
      color: "blue",
      changed: true,
      detail: hadAny
        ? `serving model changes from ${current.model} to ${modelName}: blue serves v${version}, the ${current.model} deployments are replaced (no rollback target)`
        : `blue serves ${modelName} v${version} (first deployment)`,
    };
  }

  const holder = Object.entries(deployments).find(([, d]) => d.version === version);
  if (holder && holder[1].weight === 100) {
    return {
      serving: { model: modelName, deployments: structuredClone(deployments) },
      color: holder[0],
      ...(previous ? { previous } : {}),
      changed: false,
      detail: `no change: ${holder[0]} already serves ${modelName} v${version} with all the traffic`,
    };
  }

  const color = holder?.[0] ?? COLORS.find((c) => c !== activeName && !deployments[c]?.weight) ?? COLORS.find((c) => c !== activeName)!;
  const next: Record<string, DeploymentConfig> = {};
  for (const [name, d] of Object.entries(deployments)) next[name] = { version: d.version, weight: 0 };
  next[color] = { version, weight: 100 };
  const before = previous ? `${previous.color} v${previous.version}` : "nothing";
  return {
    serving: { model: modelName, deployments: next },
    color,
    ...(previous && previous.color !== color ? { previous } : {}),
    changed: true,
    detail: `${color} serves ${modelName} v${version} with weight 100 (was ${before}; ${previous && previous.color !== color ? `${previous.color} kept at 0 for rollback` : "no other deployment"})`,
  };
}
