/**
 * Makes a stack route exactly the traffic of a serving config: write it into Pulumi.<stack>.yaml, `pulumi up`,
 * and a second `up` when the program reports `trafficConverged: false` (a deployment created by the first one
 * takes traffic only on the next, components/trafficPlan.ts). Skips the `up` when the file already holds the
 * config and the last update applied its traffic. Checks the applied traffic afterwards.
 */
import { DeploymentError } from "../../core/errors.js";
import type { Progress } from "../../core/ports.js";
import type { ServingConfig } from "../../pulumi/servingDecision.js";
import { describeChanges, type StackUpdater } from "../../pulumi/stackUpdater.js";
import { sameTraffic, trafficOf } from "../../pulumi/trafficSplit.js";
import { workspaceFromOutputs } from "./azureSettings.js";

export interface ServingUpdate {
  /** `pulumi up` runs it took (0: already applied) */
  ups: number;
  traffic: Record<string, number>;
}

const show = (t: Record<string, number>): string =>
  Object.entries(t)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ") || "none";

export async function applyServing(updater: StackUpdater, stack: string, next: ServingConfig, progress: Progress): Promise<ServingUpdate> {
  const want = trafficOf(next);
  const wrote = await updater.setServing(stack, next);
  if (!wrote) {
    const now = workspaceFromOutputs(stack, await updater.outputs(stack));
    if (now.trafficConverged !== false && sameTraffic(now.traffic, want)) return { ups: 0, traffic: now.traffic };
  }
  let ups = 0;
  for (;;) {
    const up = await updater.up(stack, progress);
    ups += 1;
    progress.info(`pulumi up ${stack}: ${up.result}, ${describeChanges(up.changes)} in ${(up.durationMs / 1000).toFixed(0)}s`);
    const after = workspaceFromOutputs(stack, up.outputs);
    if (after.trafficConverged === false && ups < 2) {
      progress.info(`a new deployment is live now; a second pulumi up gives it its traffic`);
      continue;
    }
    if (after.trafficConverged === false || !sameTraffic(after.traffic, want)) {
      throw new DeploymentError(
        `after pulumi up, stack '${stack}' routes ${show(after.traffic)} instead of ${show(want)}; run 'pulumi up --stack ${stack}' and check the endpoint`,
      );
    }
    return { ups, traffic: after.traffic };
  }
}
