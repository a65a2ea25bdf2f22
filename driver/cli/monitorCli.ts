/**
 * Wiring of `mlops monitor`: the monitor command with the target's source of served versions and collected data
 * (the local target: .mlops/; a target with its own, such as azure: `CliTarget.monitorSource`), the registry and the
 * release core (for --retrain).
 */
import type { MonitorConfig } from "../config/monitorConfig.js";
import { UsageError } from "../core/errors.js";
import type { Progress } from "../core/ports.js";
import type { ReleaseStateMachine } from "../core/releaseStateMachine.js";
import { ensurePythonEnv } from "../host/pythonEnv.js";
import { monitorCommand, type MonitorOutput } from "../monitor/monitorCommand.js";
import type { MonitorSource } from "../monitor/monitorSource.js";
import { localMonitorSource } from "../targets/local/localMonitorSource.js";
import { localPaths } from "../targets/local/localPaths.js";
import type { CliTarget } from "../targets/types.js";
import { writeReportFor } from "./profileCommands.js";

function sourceFor(repoRoot: string, target: CliTarget, progress: Progress): MonitorSource {
  const paths = localPaths(repoRoot);
  const python = async () => (await ensurePythonEnv({ repoRoot, venvRoot: paths.venvRoot, progress })).python;
  if (target.name === "local") return localMonitorSource(paths, python);
  const source = target.monitorSource?.({ stateDir: paths.stateDir, runsDir: paths.runs, python, progress });
  if (!source) throw new UsageError(`the ${target.name} target cannot read collected data for mlops monitor; use --target local or --target azure`);
  return source;
}

export function runMonitor(o: {
  repoRoot: string;
  config: MonitorConfig;
  target: CliTarget;
  machine: ReleaseStateMachine;
  progress: Progress;
  stack: string;
  options: { since?: string; retrain?: boolean };
}): Promise<MonitorOutput> {
  return monitorCommand(
    {
      repoRoot: o.repoRoot,
      config: o.config,
      source: sourceFor(o.repoRoot, o.target, o.progress),
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
