/**
 * The port the azure target deploys through: edit a stack's serving config, run `up`, read its outputs.
 * `AutomationStackUpdater` implements it over Pulumi's Automation API; tests use a fake.
 */
import type { Progress } from "../core/ports.js";
import type { ServingConfig } from "./servingDecision.js";

export interface UpSummary {
  /** "succeeded" | "failed" | ... as Pulumi reports it */
  result: string;
  /** Pulumi's resourceChanges, e.g. {update: 2, same: 30} */
  changes: Record<string, number>;
  durationMs: number;
  /** The stack's outputs as this update left them (what the engine returned with it: no second read). */
  outputs: StackOutputValues;
}

/** The stack outputs the azure target reads (see index.ts); values are plain JSON. */
export type StackOutputValues = Record<string, unknown>;

export interface StackUpdater {
  /** What `mlops:serving` holds now (model and deployments). */
  serving(stack: string): Promise<ServingConfig>;
  /** Writes `mlops:serving` (model and deployments) into Pulumi.<stack>.yaml; true when it changed. */
  setServing(stack: string, serving: ServingConfig): Promise<boolean>;
  /** `pulumi up` on the stack, streaming its output to progress; returns the outputs it left (read them from here). */
  up(stack: string, progress: Progress): Promise<UpSummary>;
  outputs(stack: string): Promise<StackOutputValues>;
}

export function describeChanges(changes: Record<string, number>): string {
  const parts = Object.entries(changes)
    .filter(([k, n]) => k !== "same" && n > 0)
    .map(([k, n]) => `${n} ${k}`);
  const same = changes["same"] ?? 0;
  return parts.length ? `${parts.join(", ")}${same ? `, ${same} unchanged` : ""}` : `no changes${same ? ` (${same} unchanged)` : ""}`;
}
