/**
 * Traffic splits between the two colors of a blue/green serving config, as pure functions: the serving config
 * a rollout step writes (`mlops:serving.deployments.<to>.weight = p`, `<from>.weight = 100 - p`, any other
 * deployment 0), and the endpoint traffic map the program applies for it once converged (weight-0 deployments
 * are left out, as components/trafficPlan.ts does).
 */
import type { ServingConfig } from "./servingDecision.js";

export function splitServing(serving: ServingConfig, from: string, to: string, percent: number): ServingConfig {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new Error(`traffic percentage ${percent} is not a whole number from 0 to 100`);
  if (from === to) throw new Error(`cannot split traffic between '${from}' and itself`);
  for (const name of [from, to]) if (!serving.deployments[name]) throw new Error(`deployment '${name}' is not in mlops:serving.deployments`);
  const deployments: ServingConfig["deployments"] = {};
  for (const [name, d] of Object.entries(serving.deployments)) {
    deployments[name] = { version: d.version, weight: name === to ? percent : name === from ? 100 - percent : 0 };
  }
  return { model: serving.model, deployments };
}

/** The endpoint traffic the program applies for `serving` when converged: deployments with weight > 0. */
export function trafficOf(serving: ServingConfig): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, d] of Object.entries(serving.deployments)) if (d.weight > 0) out[name] = d.weight;
  return out;
}

/** Equal traffic maps, absent meaning 0. */
export function sameTraffic(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].every((n) => (a[n] ?? 0) === (b[n] ?? 0));
}
