/**
 * `mlops doctor --target azure`: builds the context with the real dependencies (DefaultAzureCredential, the
 * Automation API for stack outputs, the Azure CLI for its default subscription, the SDK's ARM pipeline) unless a
 * test passes its own, and runs AZURE_CHECKS. Read-only: only GETs and a TLS handshake, nothing is created.
 */
import { execa } from "execa";
import type { StackName } from "../../core/release.js";
import { AutomationStackUpdater } from "../../pulumi/automationStackUpdater.js";
import { pulumiCommand } from "../../pulumi/pulumiCli.js";
import { readAzureSettings } from "../../targets/azure/azureSettings.js";
import { defaultCredential } from "../../targets/azure/credential.js";
import { createMlClient } from "../../targets/azure/workspaceClients.js";
import type { CheckResult } from "../checkResult.js";
import { runChecks } from "../runChecks.js";
import { ArmRest } from "../../targets/azure/armRest.js";
import { AZURE_CHECKS } from "./azureChecks.js";
import type { AzureDoctorContext, AzureDoctorDeps } from "./azureDoctorContext.js";

async function azDefaultSubscription(): Promise<string | undefined> {
  const r = await execa("az", ["account", "show", "--query", "id", "-o", "tsv"], { reject: false, stdin: "ignore", timeout: 30_000 });
  return r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

export async function defaultAzureDoctorDeps(repoRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<AzureDoctorDeps> {
  const settings = readAzureSettings(env);
  const credential = await defaultCredential();
  const updater = new AutomationStackUpdater({ repoRoot });
  const clients = new Map<string, ReturnType<AzureDoctorDeps["armClients"]>>();
  return {
    credential,
    settings,
    env,
    stackOutputs: (stack) => updater.outputs(stack),
    pulumiCliVersion: async () => (await pulumiCommand(repoRoot)).version?.toString() ?? "unknown",
    azDefaultSubscription,
    blobServiceUrl: (account) => `https://${account}.blob.core.windows.net`,
    armClients: (subscriptionId) => {
      let c = clients.get(subscriptionId);
      if (!c) {
        const ml = createMlClient({ credential, settings }, subscriptionId);
        c = { ml, arm: new ArmRest(ml, settings.armEndpoint) };
        clients.set(subscriptionId, c);
      }
      return c;
    },
    now: () => new Date(),
  };
}

export async function azureDoctor(
  repoRoot: string,
  stacks: readonly StackName[],
  deps: AzureDoctorDeps,
  onResult?: (r: CheckResult) => void,
): Promise<CheckResult[]> {
  const ctx: AzureDoctorContext = { repoRoot, stacks, deps, configs: new Map(), deployed: new Map(), notDeployed: new Map() };
  return runChecks(AZURE_CHECKS, ctx, onResult);
}
