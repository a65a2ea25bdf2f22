/**
 * ProfilingPort on Azure: the same profiler as the local target (autocannon, exact percentiles, sizing) aimed at
 * the stack's own endpoint only: the `scoringUri` output of its Pulumi stack, with the endpoint's credential
 * (endpointAuth.ts; never logged, redacted from any error). Levels and SLO come from mlops.yaml `profile:`.
 * The serving pods' processes are not visible from the driver, so no CPU/memory figures are measured: the
 * sizing keeps PROD's current requests/limits and the record says so.
 */
import { readStackConfigFile } from "../../../config/stackConfig.js";
import type { ProfileConfig } from "../../config/profileRolloutConfig.js";
import { EnvironmentError } from "../../core/errors.js";
import type { Progress, ProfilingPort } from "../../core/ports.js";
import type { DeploymentRecord, StackName } from "../../core/release.js";
import { profileEndpoint } from "../../profile/profileEndpoint.js";
import type { ProfileReport } from "../../profile/profileTypes.js";
import type { StackUpdater } from "../../pulumi/stackUpdater.js";
import type { EndpointAuth } from "./endpointAuth.js";
import { readSmokeRequest } from "../../host/smokeRequest.js";

export const NO_RESOURCE_FIGURES =
  "azure target: CPU and memory of the serving pods are not measured (the driver sees only the endpoint), so requests/limits are PROD's current ones; size them from the cluster's metrics if needed";

export interface AzureProfilingOptions {
  repoRoot: string;
  smokeRequest: string;
  profile: ProfileConfig;
  updater: StackUpdater;
  auth(stack: StackName): Promise<EndpointAuth>;
}

export class AzureProfiling implements ProfilingPort {
  constructor(private readonly o: AzureProfilingOptions) {}

  /** The stack's configured endpoint; refuses anything else (a stale record, a non-HTTP scheme). */
  private async endpoint(stack: StackName, deployment: DeploymentRecord): Promise<string> {
    const uri = (await this.o.updater.outputs(stack)).scoringUri;
    if (typeof uri !== "string" || !uri)
      throw new EnvironmentError(`stack '${stack}' has no scoringUri output; run 'pulumi up --stack ${stack}' before profiling`);
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new EnvironmentError(`stack '${stack}' has a scoringUri output that is not a URL; check the endpoint`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new EnvironmentError(`stack '${stack}' scoringUri is ${url.protocol} not http(s); refusing to profile it`);
    if (deployment.scoringUri && deployment.scoringUri !== uri) {
      throw new EnvironmentError(
        `the ${stack} deployment record names ${new URL(deployment.scoringUri).origin} but the stack's endpoint is ${url.origin}; only the stack's own endpoint is profiled: redeploy or check 'mlops status'`,
      );
    }
    return uri;
  }

  async profile(stack: StackName, deployment: DeploymentRecord, progress: Progress): Promise<ProfileReport> {
    const url = await this.endpoint(stack, deployment);
    const smoke = await readSmokeRequest(this.o.repoRoot, this.o.smokeRequest);
    let current;
    try {
      current = readStackConfigFile(this.o.repoRoot, "prod").serving.instanceType;
    } catch {
      current = undefined;
    }
    const auth = await this.o.auth(stack);
    let report: ProfileReport;
    try {
      report = await profileEndpoint({
        stack,
        modelVersion: deployment.modelVersion,
        url,
        body: JSON.stringify(smoke.payload),
        headers: auth.headers,
        config: this.o.profile,
        ...(current ? { current: { requests: { ...current.requests }, limits: { ...current.limits } } } : {}),
        progress,
      });
    } catch (e) {
      throw new EnvironmentError(auth.redact(`profiling ${new URL(url).origin} failed: ${((e as Error)?.message ?? String(e)).split("\n")[0]}`));
    }
    report.recommendation.reasoning.push(NO_RESOURCE_FIGURES);
    return report;
  }
}
