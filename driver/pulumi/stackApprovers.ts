/**
 * Approvers of a stack, for every target: `mlops:approvers` in Pulumi.<stack>.yaml, read through the stack
 * config module (the same validation `pulumi up` applies). A missing stack file means nobody may approve; an
 * invalid one is a ConfigError naming the stack and its first problem. Never writes the file.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { readStackConfigFile, StackConfigError } from "../../config/stackConfig.js";
import { ConfigError } from "../core/errors.js";
import type { ApprovalsPort } from "../core/ports.js";
import type { ApproverIdentity, StackName } from "../core/release.js";

export class StackFileApprovers implements ApprovalsPort {
  /** `identify`: who runs the command, as the target can tell (token claims on azure, the OS user locally). */
  constructor(
    private readonly repoRoot: string,
    readonly identity: () => Promise<ApproverIdentity>,
  ) {}

  async approvers(stack: StackName): Promise<string[]> {
    const file = `Pulumi.${stack}.yaml`;
    if (!existsSync(path.join(this.repoRoot, file))) return [];
    try {
      return [...readStackConfigFile(this.repoRoot, stack).approvers];
    } catch (e) {
      if (!(e instanceof StackConfigError)) throw e;
      throw new ConfigError(`stack '${stack}': ${e.problems[0] ?? "unreadable"} (${file}); fix it and retry`);
    }
  }
}
