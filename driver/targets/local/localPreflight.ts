/**
 * What a release on the local target needs before its first step, checked in a few hundred milliseconds instead
 * of surfacing minutes in: the interpreter that makes the Python environment (the major.minor ml/conda.yml pins)
 * and every port of mlops.yaml local.ports free or held by this repository's own services (a stranger's process
 * is refused, naming the port and its key). A port held by our own leftover is fine here: the step that needs it
 * stops or adopts it (host/serviceProcess.ts claimPort).
 */
import type { ReleaseConfig } from "../../config/releaseConfig.js";
import type { Progress } from "../../core/ports.js";
import { basePython, checkPythonVersion, readCondaEnv } from "../../host/pythonEnv.js";
import { processGroupOf } from "../../host/procScan.js";
import { portHolder, portInUse } from "../../host/serviceProcess.js";
import type { LocalPaths } from "./localPaths.js";
import { localServicesStatus } from "./localServices.js";

export async function localPreflight(o: { paths: LocalPaths; config: ReleaseConfig; progress: Progress }): Promise<void> {
  const conda = await readCondaEnv(o.paths.repoRoot);
  await checkPythonVersion(conda.python, basePython());
  // services recorded by an older driver carry no MLOPS_SERVICE: known by their recorded pid (their group)
  const recorded = new Set<number>();
  for (const s of await localServicesStatus(o.paths.repoRoot, o.config, o.paths)) if (s.running && s.pid) recorded.add(s.pid);
  for (const [key, port] of Object.entries(o.config.local.ports)) {
    const holder = await portHolder(port, o.paths.stateDir);
    if (holder.kind !== "stranger") continue;
    if (holder.pids.length > 0 && holder.pids.every((p) => recorded.has(p) || recorded.has(processGroupOf(p) ?? -1))) continue;
    throw portInUse(port, key);
  }
}
