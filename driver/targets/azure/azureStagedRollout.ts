/**
 * The staged PROD rollout on Azure ML (blue/green). From the serving decision (the idle color gets the new
 * version):
 *
 *   1. the new color is created (or re-versioned) at weight 0 next to the serving one at 100: one `up`
 *      (a second only if the program reports the traffic not converged);
 *   2. with rollout.shadow on, a shadow phase at weight 0: probes to the serving color, and `percent` of them
 *      also to the new one, answers compared (shadowProbes.ts; Azure ML cannot mirror on Kubernetes endpoints);
 *   3. runStagedRollout drives AzureRolloutControl: a health check straight to the new deployment, then per
 *      `rollout.steps` one `up` with the weights p / 100 - p, probe traffic for `observeSeconds`, health and
 *      error rate checked;
 *   4. a failed or inconclusive check: weights back to 0 / 100 (one `up`), outcome `rolled-back`.
 *
 * After a completed rollout the old color stays at weight 0 (the rollback target).
 */
import { DeploymentError } from "../../core/errors.js";
import type { Progress } from "../../core/ports.js";
import type { RolloutConfig } from "../../config/profileRolloutConfig.js";
import type { RolloutRecord } from "../../rollout/rolloutTypes.js";
import { runStagedRollout } from "../../rollout/stagedRollout.js";
import type { ServingConfig, ServingDecision } from "../../pulumi/servingDecision.js";
import type { StackUpdater } from "../../pulumi/stackUpdater.js";
import { splitServing } from "../../pulumi/trafficSplit.js";
import { AzureRolloutControl, type DeploymentProbe, type ShadowProbe } from "./azureRolloutControl.js";
import { applyServing } from "./servingUpdate.js";

export interface StagedRolloutInput {
  stack: string;
  updater: StackUpdater;
  decision: ServingDecision;
  /** the color serving now and its version */
  from: { color: string; version: string };
  settings: RolloutConfig;
  /** the probes of the new deployment (built once it exists) */
  probe: () => Promise<DeploymentProbe>;
  /** the paired probes of a shadow phase (rollout.shadow), from the serving color to the new one */
  shadowProbe?: (from: string, to: string) => Promise<ShadowProbe>;
  progress: Progress;
  now?: () => Date;
}

/**
 * The deployment currently taking the traffic away from which a new color is rolled out, when the decision
 * puts a version on a color other than the serving one (same model); undefined: nothing to stage from.
 */
export function stagedFrom(current: ServingConfig, decision: ServingDecision): { color: string; version: string } | undefined {
  if (!decision.changed || current.model !== decision.serving.model) return undefined;
  const others = Object.entries(current.deployments).filter(([name, d]) => name !== decision.color && d.weight > 0 && name in decision.serving.deployments);
  const top = others.sort((a, b) => b[1].weight - a[1].weight)[0];
  return top ? { color: top[0], version: top[1].version } : undefined;
}

export async function stagedRollout(i: StagedRolloutInput): Promise<{ record: RolloutRecord; ups: number }> {
  const { stack, updater, decision, from, progress } = i;
  const to = decision.color;
  const toVersion = decision.serving.deployments[to]!.version;
  const base = splitServing(decision.serving, from.color, to, 0);
  progress.info(
    `staged rollout on ${stack}: ${to} gets v${toVersion} at weight 0 next to ${from.color} (v${from.version}) at 100; then ${i.settings.steps.map((s) => `${s}%`).join(" -> ")}`,
  );
  const staged = await applyServing(updater, stack, base, progress);
  const { enabled: shadowOn, ...shadow } = i.settings.shadow;
  const shadowProbe = shadowOn && i.shadowProbe ? await i.shadowProbe(from.color, to) : undefined;
  const control = new AzureRolloutControl({
    stack,
    updater,
    serving: base,
    from: from.color,
    to,
    probe: await i.probe(),
    ...(shadowProbe ? { shadowProbe } : {}),
    progress,
  });
  let record: RolloutRecord;
  try {
    record = await runStagedRollout({
      from: from.color,
      to,
      fromVersion: from.version,
      toVersion,
      settings: i.settings,
      ...(shadowOn ? { shadow } : {}),
      control,
      onStep: (s) => progress.info(`rollout ${s.percent}%: ${s.passed ? "passed" : "FAILED"}: ${s.detail}`),
      onShadow: (s) => progress.info(`shadow ${s.percent}% of probes also to ${s.to}: ${s.passed ? "passed" : "FAILED"}: ${s.detail}`),
      ...(i.now ? { now: i.now } : {}),
    });
  } catch (e) {
    const why = ((e as Error)?.message ?? String(e)).split("\n")[0];
    throw new DeploymentError(
      `staged rollout of v${toVersion} on ${stack} stopped and the traffic may be split: ${why}; check 'pulumi stack output traffic --stack ${stack}', then 'mlops rollback ${stack}' or 'mlops resume'`,
    );
  }
  return { record, ups: staged.ups + control.ups };
}
