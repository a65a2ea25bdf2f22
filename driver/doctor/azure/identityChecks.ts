/**
 * The credential and the subscription.
 *
 * credential: one ARM token from DefaultAzureCredential within MLOPS_AZURE_CREDENTIAL_TIMEOUT_MS
 * (targets/azure/credential.ts probeCredential), then who it is from the token's claims (tokenClaims.ts).
 *
 * subscription: where `pulumi up` will create the stacks. The azure-native provider takes it from its
 * `subscriptionId` config (`azure-native:subscriptionId` in Pulumi.<stack>.yaml), else ARM_SUBSCRIPTION_ID,
 * else the Azure CLI's default subscription (`az account show`); doctor resolves it the same way, so it checks the
 * subscription `up` will use. AZURE_SUBSCRIPTION_ID is not read by the provider: when it is set and differs, doctor
 * says so. The subscription must exist for the credential (GET /subscriptions/{id}, api-version 2022-12-01,
 * learn.microsoft.com/rest/api/resources/subscriptions/get), be Enabled and belong to the token's tenant.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { probeCredential } from "../../targets/azure/credential.js";
import type { Check, CheckResult } from "../checkResult.js";
import { fail, notChecked, ok, warn } from "../checkResult.js";
import type { AzureDoctorContext } from "./azureDoctorContext.js";
import { identityFromToken } from "./tokenClaims.js";

export const SUBSCRIPTIONS_API = "2022-12-01";

export const credentialCheck: Check<AzureDoctorContext> = {
  name: "credential",
  async run(ctx) {
    const { credential, settings, env } = ctx.deps;
    try {
      await probeCredential(credential, settings.armScope, settings.credentialTimeoutMs);
    } catch (e) {
      return fail(
        "credential",
        (e as Error).message.split(";")[0]!,
        "run 'az login' (laptop) or use an AzureCLI@2 task with the workload-identity service connection (CI)",
      );
    }
    const token = (await credential.getToken(settings.armScope))?.token ?? "";
    const id = identityFromToken(token);
    if (!id)
      return warn(
        "credential",
        "a token was issued but it is not a JWT with tid/oid claims: who it is cannot be told",
        "check the login with 'az account show'",
      );
    ctx.identity = id;
    const who = id.kind === "user" ? `user ${id.name}` : `application ${id.name} (service principal or managed identity)`;
    const left = id.expiresAt ? Math.round((id.expiresAt.getTime() - ctx.deps.now().getTime()) / 60_000) : undefined;
    const detail = `${who}, object id ${id.objectId}, tenant ${id.tenantId}${left !== undefined ? `, token valid ${left} more min` : ""}`;
    if (env.AZURE_FEDERATED_TOKEN_FILE?.trim()) {
      return warn(
        "credential",
        `${detail}; AZURE_FEDERATED_TOKEN_FILE is set: an AzureCLI@2 assertion lasts about 10 minutes and is not refreshed (Azure/azure-cli#28708), so a later token request (MLflow after a long job, a new pulumi process) fails`,
        "use AzurePipelinesCredential (service connection id + System.AccessToken) or a managed identity instead of a static token file",
      );
    }
    return ok("credential", detail);
  },
};

function stackFileSubscription(repoRoot: string, stack: string): string | undefined {
  try {
    const doc = parseYaml(readFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> } | null;
    const v = doc?.config?.["azure-native:subscriptionId"];
    return typeof v === "string" && v.trim() ? v.trim() : undefined;
  } catch {
    return undefined;
  }
}

export async function resolveSubscription(ctx: AzureDoctorContext, stack: string): Promise<{ id: string; source: string } | undefined> {
  const fromFile = stackFileSubscription(ctx.repoRoot, stack);
  if (fromFile) return { id: fromFile, source: `azure-native:subscriptionId in Pulumi.${stack}.yaml` };
  const fromEnv = ctx.deps.env.ARM_SUBSCRIPTION_ID?.trim();
  if (fromEnv) return { id: fromEnv, source: "ARM_SUBSCRIPTION_ID" };
  const fromAz = await ctx.deps.azDefaultSubscription();
  return fromAz ? { id: fromAz, source: "the Azure CLI's default subscription (az account show)" } : undefined;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const subscriptionCheck: Check<AzureDoctorContext> = {
  name: "subscription",
  async run(ctx): Promise<CheckResult> {
    const found = await Promise.all(ctx.stacks.map(async (s) => ({ stack: s, sub: await resolveSubscription(ctx, s) })));
    const missing = found.filter((f) => !f.sub);
    if (missing.length) {
      return fail(
        "subscription",
        `no subscription for stack ${missing.map((m) => `'${m.stack}'`).join(", ")}: no azure-native:subscriptionId in the stack file, no ARM_SUBSCRIPTION_ID, no Azure CLI default`,
        "set ARM_SUBSCRIPTION_ID (CI) or run 'az account set --subscription <id>' (laptop), or 'pulumi config set azure-native:subscriptionId <id> --stack <stack>'",
      );
    }
    const ids = new Set(found.map((f) => f.sub!.id.toLowerCase()));
    if (ids.size > 1) {
      return fail(
        "subscription",
        `the stacks resolve to different subscriptions (${found.map((f) => `${f.stack}: ${f.sub!.id}`).join(", ")})`,
        "keep INT and PROD in one subscription (docs/azure-target.md) or check each stack alone with --stack",
      );
    }
    const { id, source } = found[0]!.sub!;
    if (!GUID.test(id)) return fail("subscription", `'${id}' (from ${source}) is not a subscription id`, "use the subscription's GUID");
    ctx.subscriptionId = id;
    ctx.subscriptionSource = source;
    const other = ctx.deps.env.AZURE_SUBSCRIPTION_ID?.trim();
    const note = other && other.toLowerCase() !== id.toLowerCase() ? `; AZURE_SUBSCRIPTION_ID (${other}) differs and is ignored by pulumi` : "";
    if (!ctx.identity) return notChecked("subscription", `${id} from ${source}, but there is no credential to look it up with`);
    const { arm } = ctx.deps.armClients(id);
    const a = await arm.get<{ displayName?: string; state?: string; tenantId?: string }>(`/subscriptions/${id}`, SUBSCRIPTIONS_API);
    if (a.status === 404 || a.status === 403 || a.status === 401) {
      return fail(
        "subscription",
        `${id} (from ${source}) is not visible to ${ctx.identity.name} (HTTP ${a.status}${a.error?.code ? ` ${a.error.code}` : ""})`,
        "log in to the tenant that holds it ('az login --tenant <tenant>') or pick another subscription",
      );
    }
    if (a.status !== 200 || !a.body)
      return fail("subscription", `GET subscription ${id}: HTTP ${a.status} ${a.error?.message ?? ""}`.trim(), "retry; check Azure status if it persists");
    const b = a.body;
    if (b.state && b.state !== "Enabled") {
      return fail(
        "subscription",
        `${b.displayName ?? id} is ${b.state}`,
        "an Enabled subscription is needed to create resources; see its billing in the Azure portal",
      );
    }
    if (b.tenantId && b.tenantId.toLowerCase() !== ctx.identity.tenantId.toLowerCase()) {
      return fail(
        "subscription",
        `${id} belongs to tenant ${b.tenantId}, the token to tenant ${ctx.identity.tenantId}`,
        `run 'az login --tenant ${b.tenantId}'`,
      );
    }
    const detail = `${b.displayName ?? "subscription"} (${id}), from ${source}, ${b.state ?? "state unknown"}${note}`;
    return note ? warn("subscription", detail, "unset AZURE_SUBSCRIPTION_ID or make it equal") : ok("subscription", detail);
  },
};
