/**
 * Resource providers the program's resources need, registered in the subscription (GET
 * /subscriptions/{id}/providers/{namespace}, api-version 2021-04-01, learn.microsoft.com/rest/api/resources/providers/get;
 * `registrationState` must be "Registered").
 *
 * The list, from what the program creates and Microsoft's docs:
 * - Microsoft.ContainerService and Microsoft.KubernetesConfiguration: "must be registered" for cluster extensions
 *   (learn.microsoft.com/azure/aks/deploy-extensions-az-cli, Prerequisites; the Azure ML extension page
 *   learn.microsoft.com/azure/machine-learning/how-to-deploy-kubernetes-extension asks for KubernetesConfiguration).
 * - Microsoft.MachineLearningServices, Microsoft.Storage, Microsoft.KeyVault, Microsoft.Insights,
 *   Microsoft.ContainerRegistry, Microsoft.OperationalInsights: the workspace and its associated resources
 *   (components/mlWorkspace.ts creates a storage account, Key Vault, Application Insights on a Log Analytics
 *   workspace and a container registry; learn.microsoft.com/azure/azure-resource-manager/management/azure-services-resource-providers
 *   maps each service to its namespace).
 * - Microsoft.Network, only when a checked stack sets `mlops:network.private: true` (components/privateNetwork.ts
 *   creates a virtual network, subnets, private endpoints and private DNS zones; the same page maps Virtual
 *   Network, Private Link and DNS to Microsoft.Network). Without it the first private `up` fails on the VNet.
 */
import type { Check, CheckResult } from "../checkResult.js";
import { fail, notChecked, ok } from "../checkResult.js";
import type { AzureDoctorContext } from "./azureDoctorContext.js";

export const PROVIDERS_API = "2021-04-01";

export const REQUIRED_PROVIDERS = [
  "Microsoft.MachineLearningServices",
  "Microsoft.ContainerService",
  "Microsoft.KubernetesConfiguration",
  "Microsoft.Storage",
  "Microsoft.KeyVault",
  "Microsoft.Insights",
  "Microsoft.OperationalInsights",
  "Microsoft.ContainerRegistry",
] as const;

/** Namespace of the private network's resources (VNet, private endpoints, private DNS zones). */
export const NETWORK_PROVIDER = "Microsoft.Network";

/** The namespaces the checked stacks need: the base list, plus Microsoft.Network when one of them is private. */
export function requiredProviders(ctx: Pick<AzureDoctorContext, "configs">): string[] {
  const anyPrivate = [...ctx.configs.values()].some((c) => c.network.private);
  return [...REQUIRED_PROVIDERS, ...(anyPrivate ? [NETWORK_PROVIDER] : [])];
}

export const providersCheck: Check<AzureDoctorContext> = {
  name: "providers",
  async run(ctx): Promise<CheckResult> {
    if (!ctx.subscriptionId || !ctx.identity) return notChecked("providers", "no subscription or credential (see above)");
    const { arm } = ctx.deps.armClients(ctx.subscriptionId);
    const wanted = requiredProviders(ctx);
    const states = await Promise.all(
      wanted.map(async (ns) => {
        const a = await arm.get<{ registrationState?: string }>(`/subscriptions/${ctx.subscriptionId}/providers/${ns}`, PROVIDERS_API);
        return { ns, state: a.status === 200 ? (a.body?.registrationState ?? "unknown") : `HTTP ${a.status}` };
      }),
    );
    const bad = states.filter((s) => s.state !== "Registered");
    if (bad.length) {
      return fail(
        "providers",
        `not registered: ${bad.map((b) => `${b.ns} (${b.state})`).join(", ")}`,
        `${bad.map((b) => `az provider register --namespace ${b.ns}`).join(" && ")} (needs Contributor on the subscription; takes a few minutes)`,
      );
    }
    return ok("providers", `${wanted.length} registered: ${wanted.join(", ")}`);
  },
};
