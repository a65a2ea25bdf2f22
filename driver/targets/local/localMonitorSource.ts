/** `mlops monitor` on the local target: what a stack's deployment.json says it serves, and .mlops/collected/<stack>/. */
import path from "node:path";
import type { StackName } from "../../core/release.js";
import type { MonitorSource } from "../../monitor/monitorSource.js";
import { collectedRoot } from "../../monitor/collectionEnv.js";
import { readDeployment } from "./localDeployment.js";
import type { LocalPaths } from "./localPaths.js";

export function localMonitorSource(paths: LocalPaths, python: () => Promise<string>): MonitorSource {
  return {
    stateDir: paths.stateDir,
    runsDir: paths.runs,
    async served(stack: StackName) {
      const d = await readDeployment(paths, stack);
      return d ? { modelName: d.modelName, modelVersion: d.modelVersion, modelDir: d.modelDir } : undefined;
    },
    collected: async (stack) => ({ dirs: [path.join(collectedRoot(paths.stateDir), stack)] }),
    python,
  };
}
