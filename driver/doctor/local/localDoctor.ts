/** `mlops doctor` (local target): the real dependencies, unless a test passes its own; runs LOCAL_CHECKS. */
import { statfs, stat } from "node:fs/promises";
import type { ReleaseConfig } from "../../config/releaseConfig.js";
import { localPaths, type LocalPaths } from "../../targets/local/localPaths.js";
import { localServicesStatus } from "../../targets/local/localServices.js";
import { isPortFree } from "../../host/portProbe.js";
import { basePython } from "../../host/pythonEnv.js";
import type { CheckResult } from "../checkResult.js";
import { runChecks } from "../runChecks.js";
import { LOCAL_CHECKS, type LocalDoctorDeps } from "./localChecks.js";

export function defaultLocalDoctorDeps(repoRoot: string, config: ReleaseConfig, paths: LocalPaths): LocalDoctorDeps {
  return {
    nodeVersion: process.versions.node,
    python: basePython(),
    isPortFree: (port) => isPortFree(port, config.local.host),
    servicesStatus: () => localServicesStatus(repoRoot, config, paths),
    freeSpace: async (dir) => {
      const [fs, st] = await Promise.all([statfs(dir), stat(dir)]);
      return { free: fs.bavail * fs.bsize, device: st.dev };
    },
  };
}

export interface LocalDoctorOptions {
  deps?: Partial<LocalDoctorDeps>;
  /** default: localPaths(repoRoot) (MLOPS_VENV_ROOT honoured) */
  paths?: LocalPaths;
  onResult?: (r: CheckResult) => void;
}

export async function localDoctor(repoRoot: string, config: ReleaseConfig, o: LocalDoctorOptions = {}): Promise<CheckResult[]> {
  const paths = o.paths ?? localPaths(repoRoot);
  const full = { ...defaultLocalDoctorDeps(repoRoot, config, paths), ...o.deps };
  return runChecks(LOCAL_CHECKS, { repoRoot, config, paths, deps: full }, o.onResult);
}
