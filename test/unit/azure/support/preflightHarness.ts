/**
 * What the preflight tests share: short credential timeout, a stack updater whose INT outputs are known, a
 * stand-in `pulumi` that reports a version, and preflight run with the Pulumi check on and a given environment.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { StackUpdater } from "../../../../driver/pulumi/stackUpdater.js";
import { readAzureSettings } from "../../../../driver/targets/azure/azureSettings.js";
import { preflight } from "../../../../driver/targets/azure/preflight.js";
import { FakeCredential } from "./fakeCredential.js";

export const settings = { ...readAzureSettings({}), credentialTimeoutMs: 300 };
export const outputs = { workspaceId: "/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w" };
export const updater = { outputs: async () => outputs } as unknown as StackUpdater;

/** A stand-in `pulumi` in <repo>/.tools/bin that reports a version (the driver prefers that location). */
export function fakePulumi(root: string, version: string): void {
  mkdirSync(path.join(root, ".tools", "bin"), { recursive: true });
  const file = path.join(root, ".tools", "bin", "pulumi");
  writeFileSync(file, `#!/bin/sh\necho ${version}\n`);
  chmodSync(file, 0o755);
}

/** preflight of the repository at `root` with the Pulumi check on, in the environment `env` only. */
export const preflightIn = (root: string, env: NodeJS.ProcessEnv) =>
  preflight({ repoRoot: root, credential: new FakeCredential(), settings, updater, checkPulumi: true, env });
