/**
 * vCPU quota in each stack's region for the VM sizes of its stack file. Two separate quotas apply
 * (learn.microsoft.com/azure/machine-learning/how-to-manage-quotas: "Azure Machine Learning compute is an exception.
 * It has a separate quota from the core compute quota."):
 *
 * - AKS inference nodes are ordinary VMs (a VM scale set): Microsoft.Compute quota. The VM size's family and vCPUs
 *   come from Resource SKUs (GET /subscriptions/{id}/providers/Microsoft.Compute/skus?$filter=location eq '<loc>',
 *   api-version 2021-07-01, learn.microsoft.com/rest/api/compute/resource-skus/list; a `restrictions` entry of
 *   type Location means the size cannot be used there by this subscription), the limits from Usage - List
 *   (GET .../providers/Microsoft.Compute/locations/{loc}/usages, api-version 2024-07-01,
 *   learn.microsoft.com/rest/api/compute/usage/list): the family's line and `cores` (Total Regional vCPUs).
 *   Need: nodeCount x vCPUs for every stack not deployed yet (a deployed cluster's nodes are already counted in
 *   currentValue), and one more node per stack for an AKS upgrade's surge node (max surge defaults to 1,
 *   learn.microsoft.com/azure/aks/upgrade-aks-cluster) as a warning.
 * - The AmlCompute training cluster: Azure ML's own quota, Usages - List
 *   (GET .../providers/Microsoft.MachineLearningServices/locations/{loc}/usages) and Virtual Machine Sizes - List
 *   for the family, through @azure/arm-machinelearning (api-version 2022-10-01; the REST spec example
 *   Usage/list.json names the lines "Standard <family> Family Cluster Dedicated vCPUs" and
 *   "Total Cluster Dedicated Regional vCPUs"). Need: maxNodes x vCPUs per stack (the cluster may scale out fully);
 *   LowPriority clusters count against "Total Cluster LowPriority Regional vCPUs".
 */
import type { StackConfig } from "../../../config/stackConfig.js";
import type { StackName } from "../../core/release.js";
import type { Check, CheckResult } from "../checkResult.js";
import { fail, notChecked, ok, warn } from "../checkResult.js";
import type { AzureDoctorContext } from "./azureDoctorContext.js";

export const SKUS_API = "2021-07-01";
export const COMPUTE_USAGES_API = "2024-07-01";

interface Sku {
  resourceType?: string;
  name?: string;
  family?: string;
  locations?: string[];
  capabilities?: { name?: string; value?: string }[];
  restrictions?: { type?: string; reasonCode?: string }[];
}

interface UsageLine {
  name?: { value?: string; localizedValue?: string };
  currentValue?: number;
  limit?: number;
}

const norm = (s: string | undefined): string => (s ?? "").toLowerCase().replace(/[^a-z0-9]/g, "");

function vcpusOf(sku: Sku): number | undefined {
  const v = sku.capabilities?.find((c) => c.name === "vCPUs")?.value;
  const n = v ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function fits(line: UsageLine | undefined, need: number): { ok: boolean; free: number; text: string } {
  const limit = line?.limit ?? 0;
  const used = line?.currentValue ?? 0;
  const free = limit < 0 ? Infinity : limit - used;
  return { ok: need <= free, free, text: `${used}/${limit < 0 ? "unlimited" : limit} used` };
}

async function aksQuota(ctx: AzureDoctorContext, location: string, stacks: [StackName, StackConfig][]): Promise<CheckResult[]> {
  const { arm } = ctx.deps.armClients(ctx.subscriptionId!);
  const name = `quota-aks[${location}]`;
  const skus = (
    await arm.list<Sku>(`/subscriptions/${ctx.subscriptionId}/providers/Microsoft.Compute/skus`, SKUS_API, { $filter: `location eq '${location}'` })
  ).filter((s) => s.resourceType === "virtualMachines");
  const usages = await arm.list<UsageLine>(`/subscriptions/${ctx.subscriptionId}/providers/Microsoft.Compute/locations/${location}/usages`, COMPUTE_USAGES_API);
  const cores = usages.find((u) => u.name?.value?.toLowerCase() === "cores");
  const byFamily = new Map<string, { need: number; surge: number; size: string; stacks: string[] }>();
  let totalNeed = 0;
  let totalSurge = 0;
  for (const [stack, c] of stacks) {
    const sku = skus.find((s) => norm(s.name) === norm(c.aks.vmSize));
    if (!sku)
      return [
        fail(
          name,
          `VM size ${c.aks.vmSize} (mlops:aks.vmSize of '${stack}') is not offered in ${location}`,
          "pick a size the region offers ('az vm list-skus -l <region> --size <size>')",
        ),
      ];
    const restricted = sku.restrictions?.find((r) => r.type === "Location");
    if (restricted) {
      return [
        fail(
          name,
          `VM size ${sku.name} is restricted for this subscription in ${location} (${restricted.reasonCode ?? "restricted"})`,
          "pick another size or region, or ask Azure support to lift the restriction",
        ),
      ];
    }
    const vcpu = vcpusOf(sku) ?? 0;
    const deployed = ctx.deployed.has(stack);
    const need = deployed ? 0 : vcpu * c.aks.nodeCount;
    const fam = sku.family ?? "unknown";
    const e = byFamily.get(fam) ?? { need: 0, surge: 0, size: sku.name ?? c.aks.vmSize, stacks: [] };
    e.need += need;
    e.surge += vcpu;
    e.stacks.push(`${stack}${deployed ? " (deployed)" : `: ${c.aks.nodeCount} x ${vcpu}`}`);
    byFamily.set(fam, e);
    totalNeed += need;
    totalSurge += vcpu;
  }
  const out: CheckResult[] = [];
  const total = fits(cores, totalNeed);
  for (const [fam, e] of byFamily) {
    const line = usages.find((u) => norm(u.name?.value) === norm(fam));
    const f = fits(line, e.need);
    const what = `${e.size} (${line?.name?.localizedValue ?? fam}): need ${e.need} vCPU for ${e.stacks.join(", ")}; family ${f.text}; regional ${total.text}`;
    if (!f.ok || !total.ok) {
      out.push(
        fail(
          name,
          what,
          `request a quota increase for ${line?.name?.localizedValue ?? fam} in ${location} (Azure portal > Quotas > Compute), or a smaller mlops:aks.vmSize/nodeCount`,
        ),
      );
    } else if (e.need + e.surge > f.free || totalNeed + totalSurge > total.free) {
      out.push(warn(name, `${what}; no room for the upgrade surge node (+${e.surge} vCPU)`, "raise the quota by one node per cluster before an AKS upgrade"));
    } else out.push(ok(name, what));
  }
  return out;
}

async function amlQuota(ctx: AzureDoctorContext, location: string, stacks: [StackName, StackConfig][]): Promise<CheckResult[]> {
  const { ml } = ctx.deps.armClients(ctx.subscriptionId!);
  const name = `quota-training[${location}]`;
  const sizes = (await ml.virtualMachineSizes.list(location)).value ?? [];
  const usages: UsageLine[] = [];
  for await (const u of ml.usages.list(location)) usages.push(u as UsageLine);
  const out: CheckResult[] = [];
  const totals = { Dedicated: 0, LowPriority: 0 };
  const families = new Map<string, { need: number; stacks: string[]; size: string }>();
  for (const [stack, c] of stacks) {
    const size = sizes.find((s) => norm(s.name) === norm(c.training.vmSize));
    if (!size)
      return [
        fail(
          name,
          `${c.training.vmSize} (mlops:training.vmSize of '${stack}') is not a size Azure ML offers in ${location}`,
          "pick one from 'az ml compute list-sizes -l <region>'",
        ),
      ];
    const need = (size.vCPUs ?? 0) * c.training.maxNodes;
    totals[c.training.vmPriority] += need;
    if (c.training.vmPriority === "Dedicated") {
      const fam = size.family ?? "unknown";
      const e = families.get(fam) ?? { need: 0, stacks: [], size: size.name ?? c.training.vmSize };
      e.need += need;
      e.stacks.push(`${stack}: ${c.training.maxNodes} x ${size.vCPUs}`);
      families.set(fam, e);
    }
  }
  const total = usages.find((u) => norm(u.name?.value) === "totalclusterdedicatedregionalvcpus");
  for (const [fam, e] of families) {
    const line = usages.find((u) => norm(u.name?.value) === `${norm(fam)}clusterdedicatedvcpus`);
    const what = `${e.size} (${line?.name?.value ?? fam}): need ${e.need} vCPU at maxNodes for ${e.stacks.join(", ")}; family ${fits(line, 0).text}; regional ${fits(total, 0).text}`;
    const famLimit = line?.limit ?? 0;
    const totalLimit = total?.limit ?? 0;
    if ((famLimit >= 0 && e.need > famLimit) || (totalLimit >= 0 && totals.Dedicated > totalLimit)) {
      out.push(
        fail(
          name,
          what,
          `request an Azure ML quota increase for ${line?.name?.value ?? fam} in ${location} (Azure ML studio > Quota), or lower mlops:training.maxNodes`,
        ),
      );
    } else if (!fits(line, e.need).ok || !fits(total, totals.Dedicated).ok) {
      out.push(warn(name, `${what}; other clusters use part of it, so a full scale-out would queue`, "lower maxNodes or raise the quota"));
    } else out.push(ok(name, what));
  }
  if (totals.LowPriority > 0) {
    const lp = usages.find((u) => norm(u.name?.value) === "totalclusterlowpriorityregionalvcpus");
    const f = fits(lp, totals.LowPriority);
    const what = `low-priority: need ${totals.LowPriority} vCPU; ${f.text}`;
    out.push(f.ok ? ok(name, what) : fail(name, what, "request a low-priority quota increase or use Dedicated"));
  }
  return out;
}

export const quotaCheck: Check<AzureDoctorContext> = {
  name: "quota",
  async run(ctx) {
    if (!ctx.subscriptionId || !ctx.identity) return notChecked("quota", "no subscription or credential (see above)");
    const byLocation = new Map<string, [StackName, StackConfig][]>();
    for (const [stack, c] of ctx.configs) byLocation.set(c.location, [...(byLocation.get(c.location) ?? []), [stack, c]]);
    if (byLocation.size === 0) return notChecked("quota", "no valid stack config (see stack-config)");
    const out: CheckResult[] = [];
    for (const [location, stacks] of byLocation) {
      out.push(...(await aksQuota(ctx, location, stacks)), ...(await amlQuota(ctx, location, stacks)));
    }
    return out;
  },
};
