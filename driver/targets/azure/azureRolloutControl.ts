/**
 * RolloutControl on Azure ML, over the StackUpdater: a step's weights are `mlops:serving.deployments.<to>.weight`
 * = p and `<from>.weight` = 100 - p in Pulumi.<stack>.yaml plus `pulumi up` (applyServing); the new
 * deployment's health and counters come from probes sent to the endpoint (deploymentProbes.ts). Driven
 * unchanged by runStagedRollout.
 */
import type { Progress } from "../../core/ports.js";
import type { RolloutControl } from "../../rollout/stagedRollout.js";
import type { ShadowControl } from "../../rollout/shadowPhase.js";
import type { UpstreamCounters } from "../../router/routerTypes.js";
import type { ServingConfig } from "../../pulumi/servingDecision.js";
import type { StackUpdater } from "../../pulumi/stackUpdater.js";
import { splitServing } from "../../pulumi/trafficSplit.js";
import { applyServing } from "./servingUpdate.js";

/** What judges the new deployment (DeploymentProbes; a fake in tests). */
export interface DeploymentProbe {
  health(): Promise<{ ok: boolean; detail: string }>;
  /** Monotonic counters of what reached the new deployment. */
  counters(): UpstreamCounters;
  /** Sends probe traffic for `seconds`. */
  observe(seconds: number): Promise<void>;
}

/** A shadow phase from probes (shadowProbes.ts): pairs of answers, and the probe traffic that makes them. */
export type ShadowProbe = ShadowControl & { observe(seconds: number): Promise<void> };

export interface AzureRolloutControlOptions {
  stack: string;
  updater: StackUpdater;
  /** the serving config whose two colors the steps split (model and versions as deployed) */
  serving: ServingConfig;
  from: string;
  to: string;
  probe: DeploymentProbe;
  /** the shadow phase's probes; absent: this control cannot run one */
  shadowProbe?: ShadowProbe;
  progress: Progress;
}

export class AzureRolloutControl implements RolloutControl {
  /** `pulumi up` runs made by the steps so far */
  ups = 0;
  readonly shadow?: ShadowControl;
  private shadowing = false;

  constructor(private readonly o: AzureRolloutControlOptions) {
    const s = o.shadowProbe;
    if (s)
      this.shadow = {
        start: async (percent) => {
          await s.start(percent);
          this.shadowing = true;
        },
        pairs: () => s.pairs(),
        stop: async () => {
          this.shadowing = false;
          await s.stop();
        },
      };
  }

  async setNewWeight(percent: number): Promise<void> {
    const { stack, from, to, progress } = this.o;
    progress.info(`${stack}: ${to} ${percent}% / ${from} ${100 - percent}% (Pulumi.${stack}.yaml + pulumi up)`);
    const r = await applyServing(this.o.updater, stack, splitServing(this.o.serving, from, to, percent), progress);
    this.ups += r.ups;
  }

  health(): Promise<{ ok: boolean; detail: string }> {
    return this.o.probe.health();
  }

  async counters(): Promise<UpstreamCounters> {
    return this.o.probe.counters();
  }

  /** While the shadow phase runs, its paired probes; else the step probes. */
  observe(seconds: number): Promise<void> {
    return this.shadowing && this.o.shadowProbe ? this.o.shadowProbe.observe(seconds) : this.o.probe.observe(seconds);
  }
}
