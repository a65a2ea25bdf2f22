/**
 * StackUpdater over Pulumi's Automation API: `LocalWorkspace.createOrSelectStack({stackName, workDir: repoRoot})`
 * on the repository's own program (Pulumi.yaml + index.ts). The serving edit is written into
 * Pulumi.<stack>.yaml by `writeServing` (comments kept; same stored values as `pulumi config set --path`), so the
 * change can be committed as the record of what runs where. `up` streams the engine's output to progress.
 */
import type { OutputMap, Stack } from "@pulumi/pulumi/automation/index.js";
import type { Progress } from "../core/ports.js";
import { mapPulumiError } from "./pulumiErrors.js";
import { pulumiCommand } from "./pulumiCli.js";
import type { ServingConfig } from "./servingDecision.js";
import { readServing, writeServing } from "./stackConfigEdit.js";
import type { StackOutputValues, StackUpdater, UpSummary } from "./stackUpdater.js";

export interface AutomationStackUpdaterOptions {
  repoRoot: string;
  /** Extra environment for the pulumi processes (layered over this process's environment). */
  envVars?: Record<string, string>;
}

export class AutomationStackUpdater implements StackUpdater {
  private readonly stacks = new Map<string, Promise<Stack>>();

  constructor(private readonly opts: AutomationStackUpdaterOptions) {}

  private stack(name: string): Promise<Stack> {
    let s = this.stacks.get(name);
    if (!s) {
      s = (async () => {
        const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
        const cmd = await pulumiCommand(this.opts.repoRoot);
        try {
          // select, not create: a stack that does not exist is a set-up step (docs/azure-target.md), not ours
          return await LocalWorkspace.selectStack(
            { stackName: name, workDir: this.opts.repoRoot },
            { pulumiCommand: cmd, ...(this.opts.envVars ? { envVars: this.opts.envVars } : {}) },
          );
        } catch (e) {
          throw mapPulumiError(e, name, "stack select");
        }
      })();
      s.catch(() => this.stacks.delete(name));
      this.stacks.set(name, s);
    }
    return s;
  }

  async serving(stack: string): Promise<ServingConfig> {
    return readServing(this.opts.repoRoot, stack);
  }

  async setServing(stack: string, serving: ServingConfig): Promise<boolean> {
    return writeServing(this.opts.repoRoot, stack, serving);
  }

  async up(stackName: string, progress: Progress): Promise<UpSummary> {
    const stack = await this.stack(stackName);
    const started = Date.now();
    let pending = "";
    const onOutput = (chunk: string): void => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) progress.info(`pulumi ${stackName}: ${line.trimEnd()}`);
    };
    try {
      const r = await stack.up({ onOutput, color: "never" });
      if (pending.trim()) progress.info(`pulumi ${stackName}: ${pending.trimEnd()}`);
      return {
        result: r.summary.result,
        changes: { ...(r.summary.resourceChanges ?? {}) },
        durationMs: Date.now() - started,
        // the Automation API reads them once after the update (`stack output --json`, with and without secrets)
        outputs: plainOutputs(r.outputs),
      };
    } catch (e) {
      throw mapPulumiError(e, stackName, "up");
    }
  }

  async outputs(stackName: string): Promise<StackOutputValues> {
    const stack = await this.stack(stackName);
    try {
      return plainOutputs(await stack.outputs());
    } catch (e) {
      throw mapPulumiError(e, stackName, "stack output");
    }
  }
}

const plainOutputs = (out: OutputMap): StackOutputValues => Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.value as unknown]));
