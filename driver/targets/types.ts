/** What every target hands the CLI, and what the CLI hands every target: no target knows the others. */
import type { ReleaseConfig } from "../config/releaseConfig.js";
import type { Progress, Target } from "../core/ports.js";
import type { MonitorSource } from "../monitor/monitorSource.js";

export const TARGETS = ["local", "azure"] as const;
export type TargetName = (typeof TARGETS)[number];

export interface TargetOptions {
  repoRoot: string;
  config: ReleaseConfig;
  progress: Progress;
}

/** A target as the CLI uses it: the ports plus the services it may run. */
export interface CliTarget extends Target {
  /** Stops background services this target runs on this machine; returns one line per service. */
  down(): Promise<string[]>;
  /** Where `mlops monitor` reads what a stack serves and collected (a target that keeps it elsewhere than .mlops/). */
  monitorSource?(o: MonitorSourceContext): MonitorSource;
}

/** What the CLI hands a target's monitor source: the local state folders and the project's Python. */
export interface MonitorSourceContext {
  stateDir: string;
  runsDir: string;
  python: () => Promise<string>;
  progress: Progress;
}
