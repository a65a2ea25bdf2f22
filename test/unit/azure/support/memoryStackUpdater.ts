/**
 * An in-memory StackUpdater for the rollout unit tests: `mlops:serving` kept as an object, every config edit and
 * `up` appended to `log` ("set blue=v1@90 green=v2@10", "up"), and `up` applying the program's own traffic rule
 * (components/trafficPlan.ts), so `trafficConverged` behaves as it does on a real stack. `failUpAt` makes the
 * n-th `up` (1-based) throw.
 */
import { planTraffic, type ServingState } from "../../../../components/trafficPlan.js";
import type { Progress } from "../../../../driver/core/ports.js";
import type { ServingConfig } from "../../../../driver/pulumi/servingDecision.js";
import type { StackOutputValues, StackUpdater, UpSummary } from "../../../../driver/pulumi/stackUpdater.js";

/** What the program records per deployment after an `up`: the model version it serves. */
const versionsOf = (serving: ServingConfig): ServingState["deployments"] =>
  Object.fromEntries(Object.entries(serving.deployments).map(([k, d]) => [k, { version: d.version }]));

export class MemoryStackUpdater implements StackUpdater {
  readonly log: string[] = [];
  ups = 0;
  failUpAt?: number;
  private state: ServingState | undefined;
  private converged = true;
  private applied: ServingConfig;

  constructor(
    private file: ServingConfig,
    /** what the last `up` applied; defaults to the file (a converged stack) */
    applied?: ServingConfig,
  ) {
    this.applied = structuredClone(applied ?? file);
    const weights = Object.fromEntries(Object.entries(this.applied.deployments).map(([k, d]) => [k, d.weight]));
    this.state = {
      model: this.applied.model,
      deployments: versionsOf(this.applied),
      traffic: Object.fromEntries(Object.entries(weights).filter(([, w]) => w > 0)),
    };
  }

  async serving(): Promise<ServingConfig> {
    return structuredClone(this.file);
  }

  async setServing(_stack: string, serving: ServingConfig): Promise<boolean> {
    if (JSON.stringify(serving) === JSON.stringify(this.file)) return false;
    this.file = structuredClone(serving);
    this.log.push(
      `set ${Object.entries(serving.deployments)
        .map(([k, d]) => `${k}=v${d.version}@${d.weight}`)
        .join(" ")}`,
    );
    return true;
  }

  async up(stack: string, progress: Progress): Promise<UpSummary> {
    this.ups += 1;
    this.log.push("up");
    if (this.failUpAt === this.ups) throw new Error(`pulumi up ${stack} failed: injected`);
    const plan = planTraffic(this.file, this.state);
    this.state = { model: this.file.model, deployments: versionsOf(this.file), traffic: plan.traffic };
    this.converged = plan.converged;
    this.applied = structuredClone(this.file);
    progress.info(`up ${stack}: traffic ${JSON.stringify(plan.traffic)}`);
    return { result: "succeeded", changes: { update: 1 }, durationMs: 1, outputs: await this.outputs(stack) };
  }

  async outputs(stack: string): Promise<StackOutputValues> {
    return {
      workspaceId: `/subscriptions/s/resourceGroups/rg-${stack}/providers/Microsoft.MachineLearningServices/workspaces/ws-${stack}`,
      resourceGroupName: `rg-${stack}`,
      workspaceName: `ws-${stack}`,
      endpointName: `mlops-${stack}-ep`,
      scoringUri: `https://127.0.0.1:1/score/${stack}`,
      traffic: { ...(this.state?.traffic ?? {}) },
      trafficConverged: this.converged,
      servedModel: { name: this.applied.model, deployments: structuredClone(this.applied.deployments) },
    };
  }
}
