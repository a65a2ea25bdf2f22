/** deployment.json of a local stack: what it serves, and the process details the local target manages it by. */
import type { DeploymentRecord, StackName } from "../../core/release.js";
import { readJsonFile } from "../../host/jsonFile.js";
import type { LocalPaths } from "./localPaths.js";

/** deployment.json: the core's record plus what the local target needs to manage the server. */
export interface LocalDeployment extends DeploymentRecord {
  pid: number;
  /** the server's process group and start token (host/serviceProcess.ts); absent in records of older drivers */
  pgid?: number;
  token?: string;
  port: number;
  modelDir: string;
  logFile: string;
  entryScript: string;
  entryScriptSha256: string;
}

export async function readDeployment(paths: LocalPaths, stack: StackName): Promise<LocalDeployment | undefined> {
  return readJsonFile<LocalDeployment>(paths.deploymentFile(stack));
}

/** The core's view of a deployment (without the process details). */
export function publicRecord(r: LocalDeployment): DeploymentRecord {
  return {
    stack: r.stack,
    modelName: r.modelName,
    modelVersion: r.modelVersion,
    digest: r.digest,
    scoringUri: r.scoringUri,
    deployedAt: r.deployedAt,
    ...(r.previous ? { previous: r.previous } : {}),
    detail: r.detail,
    ...(r.rollout ? { rollout: r.rollout } : {}),
  };
}
