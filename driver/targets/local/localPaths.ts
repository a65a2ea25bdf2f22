/**
 * Where the local target keeps its state: everything under <repo>/.mlops/ (git-ignored), except the Python
 * virtualenvs, which may be shared across checkouts with MLOPS_VENV_ROOT (the e2e tests do, so they do not
 * reinstall MLflow for every temporary repository).
 */
import path from "node:path";
import type { StackName } from "../../core/release.js";
import { venvRootFor } from "../../host/pythonEnv.js";

export interface LocalPaths {
  repoRoot: string;
  stateDir: string;
  venvRoot: string;
  logs: string;
  services: string;
  mlflowService: string;
  mlflowDir: string;
  mlflowDb: string;
  mlflowArtifacts: string;
  runs: string;
  stackDir(stack: StackName): string;
  deploymentFile(stack: StackName): string;
  serverFile(stack: StackName): string;
  modelDir(stack: StackName, modelName: string, version: string): string;
  /** PROD's weighted router: its state file (upstreams, weights) and its process record */
  routerStateFile: string;
  routerService: string;
  /** PROD's blue/green inference servers: one process record per slot */
  slotService(slot: string): string;
}

export function localPaths(repoRoot: string, venvRoot?: string): LocalPaths {
  const root = path.resolve(repoRoot);
  const stateDir = path.join(root, ".mlops");
  const stackDir = (stack: StackName) => path.join(stateDir, "stacks", stack);
  return {
    repoRoot: root,
    stateDir,
    venvRoot: venvRootFor(root, venvRoot),
    logs: path.join(stateDir, "logs"),
    services: path.join(stateDir, "services"),
    mlflowService: path.join(stateDir, "services", "mlflow.json"),
    mlflowDir: path.join(stateDir, "mlflow"),
    mlflowDb: path.join(stateDir, "mlflow", "mlflow.db"),
    mlflowArtifacts: path.join(stateDir, "mlflow", "artifacts"),
    runs: path.join(stateDir, "runs"),
    stackDir,
    deploymentFile: (stack) => path.join(stackDir(stack), "deployment.json"),
    serverFile: (stack) => path.join(stateDir, "services", `inference-${stack}.json`),
    modelDir: (stack, modelName, version) => path.join(stackDir(stack), "models", modelName, version, "model"),
    routerStateFile: path.join(stackDir("prod"), "router.json"),
    routerService: path.join(stateDir, "services", "router-prod.json"),
    slotService: (slot) => path.join(stateDir, "services", `inference-prod-${slot}.json`),
  };
}
