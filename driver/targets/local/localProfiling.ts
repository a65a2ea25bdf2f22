/**
 * The local target's ProfilingPort: loads a stack's azmlinfsrv (127.0.0.1:<port>/score) with the smoke
 * payload and samples its process tree (the server and its gunicorn workers) for CPU and memory.
 */
import type { ReleaseConfig } from "../../config/releaseConfig.js";
import { readStackConfigFile } from "../../../config/stackConfig.js";
import { EnvironmentError } from "../../core/errors.js";
import type { Progress, ProfilingPort } from "../../core/ports.js";
import type { DeploymentRecord, StackName } from "../../core/release.js";
import { readDeployment } from "./localDeployment.js";
import type { LocalPaths } from "./localPaths.js";
import { readSmokeRequest } from "../../host/smokeRequest.js";
import { profileEndpoint } from "../../profile/profileEndpoint.js";
import type { ProfileReport } from "../../profile/profileTypes.js";

export class LocalProfiling implements ProfilingPort {
  constructor(private readonly d: { paths: LocalPaths; config: ReleaseConfig }) {}

  async profile(stack: StackName, deployment: DeploymentRecord, progress: Progress): Promise<ProfileReport> {
    const rec = await readDeployment(this.d.paths, stack);
    if (!rec || rec.modelVersion !== deployment.modelVersion) {
      throw new EnvironmentError(`${stack} does not serve v${deployment.modelVersion} on this machine; deploy it first ('mlops resume' or 'mlops release')`);
    }
    const smoke = await readSmokeRequest(this.d.paths.repoRoot, this.d.config.smoke.request);
    let current;
    try {
      current = readStackConfigFile(this.d.paths.repoRoot, "prod").serving.instanceType;
    } catch {
      current = undefined;
    }
    return profileEndpoint({
      stack,
      modelVersion: rec.modelVersion,
      url: rec.scoringUri,
      body: JSON.stringify(smoke.payload),
      pid: rec.pid,
      config: this.d.config.profile,
      ...(current ? { current: { requests: { ...current.requests }, limits: { ...current.limits } } } : {}),
      progress,
    });
  }
}
