/**
 * Chooses and builds a target. The only place that knows which targets exist; the core never imports them.
 */
import type { ReleaseConfig } from "../config/releaseConfig.js";
import { UsageError } from "../core/errors.js";
import type { Progress, StackStatus, Target } from "../core/ports.js";

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
}

export function parseTargetName(value: string): TargetName {
  if ((TARGETS as readonly string[]).includes(value)) return value as TargetName;
  throw new UsageError(`unknown target '${value}'; use one of: ${TARGETS.join(", ")}`);
}

export async function createTarget(name: TargetName, opts: TargetOptions): Promise<CliTarget> {
  switch (name) {
    case "local": {
      const { createLocalTarget } = await import("./local/index.js");
      return createLocalTarget(opts);
    }
    case "azure": {
      const { createAzureTarget } = await import("./azure/index.js");
      return createAzureTarget(opts);
    }
  }
}

export type { StackStatus };
