/**
 * Chooses and builds a target. The only place that knows which targets exist; the core never imports them.
 */
import { UsageError } from "../core/errors.js";
import { TARGETS, type CliTarget, type TargetName, type TargetOptions } from "./types.js";

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
