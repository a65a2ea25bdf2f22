/**
 * EnvironmentsPort on Azure: deploying is editing the stack's `mlops:serving` (decideServing: the idle color of
 * blue/green gets the version with weight 100) and running `pulumi up` through the StackUpdater; the program
 * routes traffic only to deployments that existed after the previous update (components/trafficPlan.ts), so
 * a new color takes a second `up` to receive its traffic. PROD first gets a verified copy of the INT model.
 * PROD takes a new version in stages (azureStagedRollout.ts: weight 0, then `rollout.steps`, each checked, rolled
 * back on a failed check); `rollBack` puts back the version that served before at once (one `up`).
 * Validation is the smoke request against the stack's scoring URI.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { RolloutConfig } from "../../config/profileRolloutConfig.js";
import { DeploymentError, RolloutRolledBackError } from "../../core/errors.js";
import type { EnvironmentsPort, Progress, StackStatus } from "../../core/ports.js";
import type { DeploymentRecord, RegisteredModel, StackName, ValidationResult } from "../../core/release.js";
import { decideServing, type ServingConfig } from "../../pulumi/servingDecision.js";
import { describeChanges, type StackUpdater } from "../../pulumi/stackUpdater.js";
import { workspaceFromOutputs, type WorkspaceRef } from "./azureSettings.js";
import { AzureRegistry } from "./azureRegistry.js";
import type { DeploymentProbe, ShadowProbe } from "./azureRolloutControl.js";
import { DeploymentProbes } from "./deploymentProbes.js";
import { PairedShadowProbes } from "./shadowProbes.js";
import { endpointAuth, type EndpointAuth } from "./endpointAuth.js";
import { copyModelToWorkspace } from "./modelCopy.js";
import { readSmokeRequest } from "../../host/smokeRequest.js";
import { runSmoke } from "./azureSmokeTest.js";
import { stagedFrom, stagedRollout } from "./azureStagedRollout.js";
import type { WorkspaceClients } from "./workspaceClients.js";

/** The program's `servedModel` output ({name, deployments: {color: {version, weight}}}), if well-formed. */
export function servedFromOutputs(out: Record<string, unknown>): ServingConfig | undefined {
  const s = out.servedModel as { name?: unknown; deployments?: unknown } | undefined;
  if (!s || typeof s.name !== "string" || !s.deployments || typeof s.deployments !== "object") return undefined;
  const deployments: ServingConfig["deployments"] = {};
  for (const [k, v] of Object.entries(s.deployments as Record<string, { version?: unknown; weight?: unknown }>)) {
    if (v === null || typeof v !== "object" || typeof v.weight !== "number") return undefined;
    deployments[k] = { version: String(v.version), weight: v.weight };
  }
  return { model: s.name, deployments };
}

export interface AzureEnvironmentsOptions {
  repoRoot: string;
  smokeRequest: string;
  updater: StackUpdater;
  /** The workspace clients of a stack (from its outputs). */
  workspace(stack: StackName): Promise<WorkspaceClients>;
  credential: TokenCredential;
  /** How PROD takes a new version (mlops.yaml `rollout:`); absent: straight to 100 like INT. */
  rollout?: RolloutConfig;
  /** The new deployment's probes (tests); default: DeploymentProbes against the stack's scoring URI. */
  probeFor?: (stack: StackName, deployment: string) => Promise<DeploymentProbe>;
  now?: () => Date;
}

export class AzureEnvironments implements EnvironmentsPort {
  constructor(private readonly o: AzureEnvironmentsOptions) {}

  private async refOf(stack: StackName): Promise<WorkspaceRef> {
    return workspaceFromOutputs(stack, await this.o.updater.outputs(stack));
  }

  /** Makes `stack` serve `model`; PROD takes a new version in stages (mlops.yaml `rollout:`), INT at once. */
  deploy(stack: StackName, model: RegisteredModel, progress: Progress): Promise<DeploymentRecord> {
    return this.serve(stack, model, progress, stack === "prod");
  }

  /**
   * Puts back what served before, at once: the previous color (kept at weight 0 after a completed rollout) gets
   * weight 100 with one `up`; if it no longer holds that version, the idle color gets it (decideServing) and
   * takes the traffic on the convergence `up`. No staging: the version already served the stack.
   */
  rollBack(stack: StackName, to: RegisteredModel, progress: Progress): Promise<DeploymentRecord> {
    return this.serve(stack, to, progress, false, "rollback: ");
  }

  private async serve(stack: StackName, model: RegisteredModel, progress: Progress, staged: boolean, prefix = ""): Promise<DeploymentRecord> {
    const { updater } = this.o;
    if (stack === "prod") {
      const copied = await copyModelToWorkspace(model, await this.o.workspace("int"), await this.o.workspace("prod"), progress);
      progress.info(
        copied === "copied"
          ? `prod workspace now holds ${model.name} v${model.version} (verified copy)`
          : `prod workspace already holds ${model.name} v${model.version} with the same sha256`,
      );
    }
    // What the last `up` applied (the servedModel output) is the truth; the file may lag behind it when a CI
    // run's edit was not committed. Fall back to the file before the first update.
    const outputs = await updater.outputs(stack);
    const current = servedFromOutputs(outputs) ?? (await updater.serving(stack));
    const decision = decideServing(current, model.name, model.version);
    const before = workspaceFromOutputs(stack, outputs);
    /** the stack as the last `up` (or the read above) left it */
    let ref = before;
    let previous: DeploymentRecord["previous"];
    if (decision.previous) {
      const prev = await new AzureRegistry(await this.o.workspace(stack)).getVersion(model.name, decision.previous.version);
      if (prev) previous = { modelVersion: prev.version, digest: prev.digest };
    }
    const serving = (ref: WorkspaceRef) => ref.trafficConverged !== false && ref.traffic[decision.color] === 100;
    const from = staged && this.o.rollout ? stagedFrom(current, decision) : undefined;

    let detail: string;
    let rollout: DeploymentRecord["rollout"];
    if (from) {
      const staged = await stagedRollout({
        stack,
        updater,
        decision,
        from,
        settings: this.o.rollout!,
        probe: () => this.probeFor(stack, decision.color),
        shadowProbe: (from, to) => this.shadowProbeFor(stack, from, to),
        progress,
        ...(this.o.now ? { now: this.o.now } : {}),
      });
      rollout = staged.record;
      if (staged.record.outcome !== "completed") {
        const how = staged.record.shadow && !staged.record.shadow.passed ? "stopped in shadow, no user traffic" : "rolled back";
        throw new RolloutRolledBackError(`${stack} rollout of ${model.name} v${model.version} ${how}: ${staged.record.detail}`, staged.record);
      }
      ref = await this.refOf(stack);
      if (!serving(ref)) {
        throw new DeploymentError(
          `after the staged rollout, stack '${stack}' routes ${JSON.stringify(ref.traffic)} instead of ${decision.color}=100; run 'pulumi up --stack ${stack}' and check the endpoint`,
        );
      }
      detail = `${decision.detail}; staged ${staged.record.steps
        .filter((x) => x.percent > 0)
        .map((x) => `${x.percent}%`)
        .join(" -> ")} in ${staged.ups} pulumi up(s), every check passed; commit Pulumi.${stack}.yaml as the record of what serves ${stack}`;
    } else if (!decision.changed && serving(before)) {
      detail = decision.detail;
    } else {
      const wrote = await updater.setServing(stack, decision.serving);
      progress.info(`${wrote ? "edited" : "kept"} Pulumi.${stack}.yaml: ${decision.detail}`);
      let up = await updater.up(stack, progress);
      progress.info(`pulumi up ${stack}: ${up.result}, ${describeChanges(up.changes)} in ${(up.durationMs / 1000).toFixed(0)}s`);
      ref = workspaceFromOutputs(stack, up.outputs);
      if (ref.trafficConverged === false) {
        progress.info(`${decision.color} is live now; a second pulumi up moves the traffic to it`);
        up = await updater.up(stack, progress);
        progress.info(`pulumi up ${stack}: ${up.result}, ${describeChanges(up.changes)} in ${(up.durationMs / 1000).toFixed(0)}s`);
        ref = workspaceFromOutputs(stack, up.outputs);
      }
      if (!serving(ref)) {
        throw new DeploymentError(
          `after pulumi up, stack '${stack}' routes ${JSON.stringify(ref.traffic)} instead of ${decision.color}=100; run 'pulumi up --stack ${stack}' and check the endpoint`,
        );
      }
      detail = `${decision.detail}; commit Pulumi.${stack}.yaml as the record of what serves ${stack}`;
    }
    if (!ref.scoringUri) throw new DeploymentError(`stack '${stack}' has no scoringUri output after the update; check the endpoint in the Azure portal`);
    return {
      stack,
      modelName: model.name,
      modelVersion: model.version,
      digest: model.digest,
      scoringUri: ref.scoringUri,
      deployedAt: (this.o.now ?? (() => new Date()))().toISOString(),
      ...(previous ? { previous } : {}),
      detail: `${prefix}${detail}`,
      ...(rollout ? { rollout } : {}),
    };
  }

  /** The endpoint's request credential per its auth mode (Key, AMLToken, AADToken); never logged. */
  private async auth(stack: StackName): Promise<EndpointAuth> {
    return endpointAuth(stack, await this.o.workspace(stack), this.o.credential);
  }

  private async probeFor(stack: StackName, deployment: string): Promise<DeploymentProbe> {
    if (this.o.probeFor) return this.o.probeFor(stack, deployment);
    const ref = await this.refOf(stack);
    if (!ref.scoringUri) throw new DeploymentError(`stack '${stack}' has no scoringUri output; run 'pulumi up --stack ${stack}'`);
    const smoke = await readSmokeRequest(this.o.repoRoot, this.o.smokeRequest);
    return new DeploymentProbes({ scoringUri: ref.scoringUri, auth: await this.auth(stack), smoke, deployment, rps: this.o.rollout?.probeRps ?? 0 });
  }

  private async shadowProbeFor(stack: StackName, from: string, to: string): Promise<ShadowProbe> {
    const ref = await this.refOf(stack);
    if (!ref.scoringUri) throw new DeploymentError(`stack '${stack}' has no scoringUri output; run 'pulumi up --stack ${stack}'`);
    const smoke = await readSmokeRequest(this.o.repoRoot, this.o.smokeRequest);
    return new PairedShadowProbes({ scoringUri: ref.scoringUri, auth: await this.auth(stack), smoke, from, to, rps: this.o.rollout?.probeRps ?? 0 });
  }

  async validate(stack: StackName, deployment: DeploymentRecord, progress: Progress): Promise<ValidationResult> {
    const req = await readSmokeRequest(this.o.repoRoot, this.o.smokeRequest);
    progress.info(`POST ${req.payload.data.length} rows to ${new URL(deployment.scoringUri).origin} (${stack})`);
    const auth = await this.auth(stack);
    const out = await runSmoke(deployment.scoringUri, auth.headers, req);
    return {
      stack,
      modelVersion: deployment.modelVersion,
      digest: deployment.digest,
      healthy: out.ok,
      predictions: out.predictions,
      latencyMs: out.latencyMs,
      validatedAt: (this.o.now ?? (() => new Date()))().toISOString(),
      detail: auth.redact(out.detail),
    };
  }

  async describe(stack: StackName): Promise<StackStatus> {
    try {
      const serving = await this.o.updater.serving(stack);
      const ref = await this.refOf(stack);
      const active = Object.entries(ref.traffic).sort((a, b) => b[1] - a[1])[0]?.[0];
      const version = active ? serving.deployments[active]?.version : undefined;
      const model = version ? await new AzureRegistry(await this.o.workspace(stack)).getVersion(serving.model, version) : undefined;
      return {
        stack,
        modelName: serving.model,
        ...(version ? { modelVersion: version } : {}),
        ...(model?.digest ? { digest: model.digest } : {}),
        ...(ref.scoringUri ? { scoringUri: ref.scoringUri } : {}),
        healthy: Boolean(version) && ref.trafficConverged !== false,
        detail: version
          ? `${active} serves v${version}${ref.trafficConverged === false ? " (traffic not converged: run pulumi up again)" : ""}`
          : "no deployment takes traffic",
      };
    } catch (e) {
      return { stack, healthy: false, detail: (e as Error).message.split("\n")[0]! };
    }
  }
}
