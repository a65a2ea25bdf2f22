/**
 * What the azure target needs before it does anything, checked up front in this order and reported as the
 * FIRST missing thing, one line with the fix: an Azure credential (a token within a few seconds), the pulumi CLI
 * (on PATH or .tools/bin, recent enough), a Pulumi backend (PULUMI_BACKEND_URL or a login) and, for a
 * self-managed backend with passphrase secrets, the passphrase; then the INT stack's outputs (the workspace).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { TokenCredential } from "@azure/core-auth";
import { EnvironmentError } from "../../core/errors.js";
import { configuredBackend, passphraseConfigured, pulumiCommand } from "../../pulumi/pulumiCli.js";
import type { StackOutputValues, StackUpdater } from "../../pulumi/stackUpdater.js";
import type { AzureSettings } from "./azureSettings.js";
import { probeCredential } from "./credential.js";

export interface PreflightOptions {
  repoRoot: string;
  credential: TokenCredential;
  settings: AzureSettings;
  updater: StackUpdater;
  /** false when the updater is not the Automation API one (tests): the CLI and backend checks are skipped */
  checkPulumi: boolean;
  env?: NodeJS.ProcessEnv;
}

async function usesPassphrase(repoRoot: string, stack: string): Promise<boolean> {
  try {
    const text = await readFile(path.join(repoRoot, `Pulumi.${stack}.yaml`), "utf8");
    const m = /^secretsprovider:\s*(\S+)/m.exec(text);
    return !m || m[1] === "passphrase";
  } catch {
    return true;
  }
}

export async function preflight(o: PreflightOptions): Promise<StackOutputValues> {
  const env = o.env ?? process.env;
  await probeCredential(o.credential, o.settings.armScope, o.settings.credentialTimeoutMs);
  if (o.checkPulumi) {
    await pulumiCommand(o.repoRoot);
    const backend = configuredBackend(env);
    if (!backend) {
      throw new EnvironmentError(
        "no Pulumi backend is configured: set PULUMI_BACKEND_URL (e.g. azblob://<container>?storage_account=<account>) or run 'pulumi login'; see docs/azure-target.md",
      );
    }
    // In Azure Pipelines (TF_BUILD, MS Learn "Use predefined variables") the job's Azure login rests on a federated
    // assertion that lives ~10 minutes; every pulumi process of a multi-hour run must still reach the azblob state,
    // so the backend takes the storage account key (gocloud.dev/blob/azureblob newCredInfoFromEnv: a shared key when
    // AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY are both set, else AZURE_STORAGE_SAS_TOKEN), which does not expire.
    const sharedKey = !!env.AZURE_STORAGE_ACCOUNT?.trim() && !!env.AZURE_STORAGE_KEY?.trim(); // gocloud azureblob newCredInfoFromEnv: both
    // The same holds in GitHub Actions (GITHUB_ACTIONS=true, GitHub docs "Default environment variables"): azure/login
    // hands `az` one OIDC token (about 5 minutes), and the backend would fall back to that session.
    const ci = /^true$/i.test(env.TF_BUILD?.trim() ?? "") ? "Azure Pipelines" : /^true$/i.test(env.GITHUB_ACTIONS?.trim() ?? "") ? "GitHub Actions" : undefined;
    if (ci && /^azblob:\/\//i.test(backend) && !sharedKey && !env.AZURE_STORAGE_SAS_TOKEN?.trim()) {
      throw new EnvironmentError(
        ci === "Azure Pipelines"
          ? "in Azure Pipelines the azblob Pulumi backend needs AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY (the state account's key from the Key Vault-backed variable group, mapped in the step's env): a login through the job's federated token expires within the run; see docs/azure-target.md"
          : "in GitHub Actions the azblob Pulumi backend needs AZURE_STORAGE_ACCOUNT (variable) and AZURE_STORAGE_KEY (secret) in the step's env: the Azure CLI login of azure/login expires within the run; see docs/github-actions.md",
      );
    }
    const selfManaged = !/^https:\/\/api\.pulumi\.com|Pulumi Cloud/.test(backend) && /^[a-z0-9]+:\/\//i.test(backend);
    if (selfManaged && !passphraseConfigured(env) && (await usesPassphrase(o.repoRoot, "int"))) {
      throw new EnvironmentError(
        `the Pulumi backend ${backend} keeps secrets with a passphrase: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) from your secret store; see docs/azure-target.md`,
      );
    }
  }
  return o.updater.outputs("int");
}
