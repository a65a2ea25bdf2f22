/**
 * Where the local target's inference servers collect to, and the environment that tells ml/score.py so
 * (MLOPS_COLLECT_*: see score.py's init_collection). One folder per stack and deployment:
 * .mlops/collected/<stack>/<deployment>/ (deployment: int, or PROD's slot blue/green).
 */
import path from "node:path";
import type { CollectionConfig } from "../config/monitorConfig.js";

export const collectedRoot = (stateDir: string): string => path.join(stateDir, "collected");
export const collectedDir = (stateDir: string, stack: string, deployment: string): string => path.join(collectedRoot(stateDir), stack, deployment);

/** The deployment a server's log name stands for: "int" -> "int", "prod-blue" -> "blue". */
export const deploymentOf = (stack: string, logName: string): string => (logName.startsWith(`${stack}-`) ? logName.slice(stack.length + 1) : logName);

/** The model version of a local model directory (.../models/<name>/<version>/model). */
export const versionOfModelDir = (modelDir: string): string => path.basename(path.dirname(modelDir));

/** MLOPS_COLLECT_* for one inference server; none when collection is off (score.py then collects nothing). */
export function collectionEnv(o: {
  stateDir: string;
  stack: string;
  logName: string;
  modelDir: string;
  collection?: CollectionConfig;
}): Record<string, string> {
  if (!o.collection?.enabled) return {};
  return {
    MLOPS_COLLECT_DIR: collectedDir(o.stateDir, o.stack, deploymentOf(o.stack, o.logName)),
    MLOPS_COLLECT_SAMPLE_PERCENT: String(o.collection.samplingPercent),
    MLOPS_COLLECT_MAX_FILE_BYTES: String(Math.round(o.collection.maxFileMB * 1024 * 1024)),
    MLOPS_COLLECT_RETENTION_DAYS: String(o.collection.retentionDays),
    MLOPS_MODEL_VERSION: versionOfModelDir(o.modelDir),
  };
}
