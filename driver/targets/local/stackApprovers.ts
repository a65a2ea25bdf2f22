/**
 * Approvers of a stack: `mlops:approvers` in Pulumi.<stack>.yaml, read through the stack config module (the
 * same validation `pulumi up` applies). A missing stack file means nobody may approve. Never writes the file.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { readStackConfigFile } from "../../../config/stackConfig.js";
import { ConfigError } from "../../core/errors.js";
import type { ApprovalsPort } from "../../core/ports.js";
import type { StackName } from "../../core/release.js";

export class StackFileApprovers implements ApprovalsPort {
  constructor(private readonly repoRoot: string) {}

  async approvers(stack: StackName): Promise<string[]> {
    const file = `Pulumi.${stack}.yaml`;
    if (!existsSync(path.join(this.repoRoot, file))) return [];
    try {
      return [...readStackConfigFile(this.repoRoot, stack).approvers];
    } catch (e) {
      const first = (e as Error).message.split("\n").map((l) => l.trim()).filter(Boolean);
      throw new ConfigError(`${file} is not a valid stack config (${(first.slice(0, 2).join(" ") || "unreadable").slice(0, 300)}); fix it and retry`);
    }
  }
}
