/**
 * The Pulumi side: the CLI (found and recent enough: driver/pulumi/pulumiCli.ts, the same look-up the release
 * uses, plus a comparison with the @pulumi/pulumi SDK this project runs) and the state backend (configured,
 * reachable, and logged in with something that outlasts a long release).
 *
 * The azblob backend (Pulumi "DIY backend", pulumi.com/docs/iac/concepts/state-and-backends) reads the account from
 * `storage_account=` in the URL or AZURE_STORAGE_ACCOUNT and authenticates with AZURE_STORAGE_KEY, a SAS token
 * (AZURE_STORAGE_SAS_TOKEN) or an Azure AD login (gocloud.dev/blob/azureblob). Doctor reads the container's
 * properties the same way (Get Container Properties through @azure/storage-blob): 404 = no container,
 * 403 = the identity lacks a data role.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { TokenCredential } from "@azure/core-auth";
import { BlobServiceClient, StorageSharedKeyCredential, AnonymousCredential } from "@azure/storage-blob";
import { configuredBackend, MIN_PULUMI_VERSION, passphraseConfigured } from "../../pulumi/pulumiCli.js";
import type { Check, CheckResult } from "../checkResult.js";
import { fail, ok, warn } from "../checkResult.js";
import type { AzureDoctorContext } from "./azureDoctorContext.js";

function sdkVersion(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve("@pulumi/pulumi/package.json");
    return (JSON.parse(readFileSync(pkg, "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

const parts = (v: string): number[] =>
  v
    .replace(/^v/, "")
    .split(/[.-]/)
    .slice(0, 3)
    .map((x) => parseInt(x, 10) || 0);
export function olderThan(a: string, b: string): boolean {
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! < pb[i]!;
  return false;
}

export const pulumiCliCheck: Check<AzureDoctorContext> = {
  name: "pulumi-cli",
  async run(ctx) {
    let version: string;
    try {
      version = await ctx.deps.pulumiCliVersion();
    } catch (e) {
      const [what, fix] = ((e as Error).message ?? String(e)).split(/;\s*/, 2);
      return fail("pulumi-cli", what!, fix ?? `install Pulumi >= ${MIN_PULUMI_VERSION}`);
    }
    const sdk = sdkVersion();
    if (sdk && olderThan(version, sdk)) {
      return warn(
        "pulumi-cli",
        `pulumi ${version} (>= ${MIN_PULUMI_VERSION}), older than the @pulumi/pulumi SDK ${sdk} the program runs with`,
        `use a CLI >= ${sdk} here and in azure-pipelines.yml so local runs, tests and CI run one engine`,
      );
    }
    return ok("pulumi-cli", `pulumi ${version}${sdk ? ` (SDK ${sdk})` : ""}`);
  },
};

function usesPassphrase(repoRoot: string, stack: string): boolean {
  try {
    const m = /^secretsprovider:\s*(\S+)/m.exec(readFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), "utf8"));
    return !m || m[1] === "passphrase";
  } catch {
    return true;
  }
}

/** When a SAS token expires (its `se` field), or undefined. */
function sasExpiry(sas: string): Date | undefined {
  const se = new URLSearchParams(sas.replace(/^\?/, "")).get("se");
  const d = se ? new Date(se) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

async function azblobCheck(ctx: AzureDoctorContext, raw: string): Promise<CheckResult> {
  const env = ctx.deps.env;
  const u = new URL(raw);
  const container = u.hostname || u.pathname.replace(/^\/+/, "").split("/")[0]!;
  const account = u.searchParams.get("storage_account") ?? env.AZURE_STORAGE_ACCOUNT?.trim();
  if (!account)
    return fail(
      "backend",
      `${raw.replace(/\?.*$/, "")} names no storage account`,
      "add ?storage_account=<account> to PULUMI_BACKEND_URL or set AZURE_STORAGE_ACCOUNT",
    );
  const key = env.AZURE_STORAGE_KEY?.trim();
  const sas = env.AZURE_STORAGE_SAS_TOKEN?.trim();
  const base = ctx.deps.blobServiceUrl(account);
  let service: BlobServiceClient;
  let login: string;
  let lasting: CheckResult | undefined;
  if (key) {
    service = new BlobServiceClient(base, new StorageSharedKeyCredential(account, key));
    login = "account key (AZURE_STORAGE_KEY; does not expire, rotate it from Key Vault)";
  } else if (sas) {
    service = new BlobServiceClient(`${base}?${sas.replace(/^\?/, "")}`, new AnonymousCredential());
    const exp = sasExpiry(sas);
    const days = exp ? (exp.getTime() - ctx.deps.now().getTime()) / 86_400_000 : undefined;
    login = `SAS token${exp ? ` valid until ${exp.toISOString()}` : ""}`;
    if (days !== undefined && days <= 0)
      return fail(
        "backend",
        `azblob ${account}/${container}: the SAS token expired at ${exp!.toISOString()}`,
        "issue a new SAS token (or use a key held in Key Vault)",
      );
    if (days !== undefined && days < 7) lasting = warn("backend", `azblob ${account}/${container}: ${login}`, "the SAS token expires within a week; renew it");
  } else {
    service = new BlobServiceClient(base, ctx.deps.credential as TokenCredential);
    login = "Azure AD (the same login as the credential check)";
    if (env.AZURE_FEDERATED_TOKEN_FILE?.trim()) {
      lasting = warn(
        "backend",
        `azblob ${account}/${container}: Azure AD through AZURE_FEDERATED_TOKEN_FILE, which an AzureCLI@2 task writes once and which expires after about 10 minutes (Azure/azure-cli#28708): a pulumi process started later cannot read the state`,
        "give the backend a login that lasts: AZURE_STORAGE_KEY from Key Vault, or Pulumi Cloud",
      );
    }
  }
  try {
    await service.getContainerClient(container).getProperties();
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    const code = (e as { code?: string }).code ?? "";
    if (status === 404)
      return fail(
        "backend",
        `azblob ${account}: container '${container}' does not exist (${code || "HTTP 404"})`,
        `az storage container create -n ${container} --account-name ${account} --auth-mode login`,
      );
    if (status === 403 || status === 401) {
      return fail(
        "backend",
        `azblob ${account}/${container}: access refused with ${login.split(" (")[0]} (HTTP ${status} ${code})`.trim(),
        key || sas
          ? "check the key/SAS token"
          : `give ${ctx.identity?.name ?? "the identity"} Storage Blob Data Contributor on the account 'az role assignment create --role "Storage Blob Data Contributor" --assignee-object-id ${ctx.identity?.objectId ?? "<object id>"} --scope <account id>'`,
      );
    }
    const msg = ((e as Error).message ?? String(e)).split("\n")[0]!.slice(0, 160);
    return fail(
      "backend",
      `azblob ${account}/${container} not reachable: ${status ? `HTTP ${status} ` : ""}${msg}`,
      "check the account name, network access to it (firewall, private endpoint) and the login",
    );
  }
  return lasting ?? ok("backend", `azblob ${account}/${container} reachable with ${login}`);
}

export const backendCheck: Check<AzureDoctorContext> = {
  name: "backend",
  async run(ctx) {
    const env = ctx.deps.env;
    const raw = env.PULUMI_BACKEND_URL?.trim() || configuredBackend(env);
    if (!raw) {
      return fail(
        "backend",
        "no Pulumi backend: PULUMI_BACKEND_URL is unset and there is no 'pulumi login'",
        "set PULUMI_BACKEND_URL=azblob://<container>?storage_account=<account> (docs/azure-target.md, set-up 1)",
      );
    }
    const out: CheckResult[] = [];
    const selfManaged = /^(azblob|s3|gs|file):\/\//i.test(raw);
    if (selfManaged && !passphraseConfigured(env) && ctx.stacks.some((s) => usesPassphrase(ctx.repoRoot, s))) {
      out.push(
        fail(
          "backend",
          `${raw.replace(/\?.*$/, "")} keeps secrets with a passphrase and none is set`,
          "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) from your secret store",
        ),
      );
    }
    if (/^azblob:\/\//i.test(raw)) out.push(await azblobCheck(ctx, raw));
    else if (/^file:\/\//i.test(raw)) {
      const dir = raw.replace(/^file:\/\//i, "").replace(/\?.*$/, "");
      out.push(
        existsSync(dir)
          ? warn(
              "backend",
              `file backend ${dir}: state lives on this machine only`,
              "the pipeline and other people cannot see it; use azblob or Pulumi Cloud for the Azure stacks",
            )
          : fail("backend", `file backend ${dir} does not exist`, `create it or 'pulumi login' to the shared backend`),
      );
    } else if (out.length === 0) out.push(ok("backend", `${raw.replace(/\?.*$/, "")} (login present; not probed)`));
    return out;
  },
};
