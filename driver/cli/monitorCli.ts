/** Wiring of `mlops monitor` on the local target: the monitor command with the local source, the registry and the release core. */
import type { MonitorConfig } from "../config/monitorConfig.js";
import { UsageError } from "../core/errors.js";
import type { Progress } from "../core/ports.js";
import type { ReleaseStateMachine } from "../core/releaseStateMachine.js";
import { ensurePythonEnv } from "../host/pythonEnv.js";
import { monitorCommand, type MonitorOutput } from "../monitor/monitorCommand.js";
import { localMonitorSource } from "../targets/local/localMonitorSource.js";
import { localPaths } from "../targets/local/localPaths.js";
import type { CliTarget } from "../targets/types.js";
import { writeReportFor } from "./profileCommands.js";

export function requireLocalTarget(target: string): void {
  if (target !== "local") {
    throw new UsageError("mlops monitor reads the data the local target's servers collected; on azure it is not available yet (see docs/monitoring.md)");
  }
}

export function runLocalMonitor(o: {
  repoRoot: string;
  config: MonitorConfig;
  target: CliTarget;
  machine: ReleaseStateMachine;
  progress: Progress;
  stack: string;
  options: { since?: string; retrain?: boolean };
}): Promise<MonitorOutput> {
  const paths = localPaths(o.repoRoot);
  const python = async () => (await ensurePythonEnv({ repoRoot: o.repoRoot, venvRoot: paths.venvRoot, progress: o.progress })).python;
  return monitorCommand(
    {
      repoRoot: o.repoRoot,
      config: o.config,
      source: localMonitorSource(paths, python),
      registry: o.target.registry,
      progress: o.progress,
      startRelease: (trigger) =>
        writeReportFor(
          o.repoRoot,
          o.target,
          () => o.machine.start(trigger),
          () => o.machine.activeReleaseId,
        ),
    },
    o.stack,
    o.options,
  );
}
