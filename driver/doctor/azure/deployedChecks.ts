/**
 * After `up`, per deployed stack, what ARM can tell about the inference path:
 *
 * - the Azure ML extension on the AKS cluster: Extensions - List on the cluster (GET
 *   .../managedClusters/{cluster}/providers/Microsoft.KubernetesConfiguration/extensions, api-version 2023-05-01,
 *   the version the azure-native Extension resource is created with), the one of type
 *   Microsoft.AzureML.Kubernetes must be provisioningState Succeeded; its `statuses` carry the extension's own
 *   error/warning messages (REST spec example GetExtension.json).
 * - the Kubernetes compute attached to the workspace: computeOperations.get (@azure/arm-machinelearning,
 *   2022-10-01): computeType Kubernetes, provisioningState Succeeded, attached to this stack's cluster.
 * - instance types: each deployment's `instanceType` (and the stack's configured one) among the compute's
 *   `properties.instanceTypes` (+ defaultInstanceType). That map is all ARM shows (REST spec example
 *   Compute/get/KubernetesCompute.json; azure-ai-ml's KubernetesCompute entity reads the same properties). Whether
 *   the InstanceType custom resource exists inside the cluster (MS Learn, "Create and manage instance types": the
 *   extension represents instance types as a CRD; they are created with kubectl) needs cluster access
 *   (`kubectl get instancetype`), and no source says whether ARM's map mirrors the cluster's resources. So a name
 *   missing from the map is a warning; it is a FAIL when a deployment using it did not succeed.
 * - the training cluster: the AmlCompute Azure keeps against the stack file's `mlops:training` (the same comparison
 *   the azure target makes after each `up`, driver/targets/azure/computeCapacity.ts: a PUT does not update an
 *   existing compute, Azure/bicep#17617); a difference is a warning with the command that applies it.
 * - the online endpoint: Succeeded, on that compute, with an auth mode a Kubernetes endpoint supports (Key or
 *   AMLToken; AADToken is for managed endpoints only, MS Learn "Authenticate clients for online endpoints"), and
 *   each deployment Succeeded.
 */
import type { ComputeResource, KubernetesProperties, OnlineDeployment } from "@azure/arm-machinelearning";
import { restSummary } from "../../targets/azure/armErrors.js";
import { capacityReport, compareCapacity, observedCapacityOf } from "../../targets/azure/computeCapacity.js";
import type { StackName } from "../../core/release.js";
import type { Check, CheckResult } from "../checkResult.js";
import { fail, ok, warn } from "../checkResult.js";
import { stackCheck, str, type AzureDoctorContext, type DeployedStack } from "./azureDoctorContext.js";

export const EXTENSIONS_API = "2023-05-01";
export const AZUREML_EXTENSION_TYPE = "microsoft.azureml.kubernetes";
export const KUBERNETES_AUTH_MODES = ["Key", "AMLToken"] as const;

interface ExtensionView {
  name?: string;
  properties?: {
    extensionType?: string;
    provisioningState?: string;
    currentVersion?: string;
    statuses?: { code?: string; displayStatus?: string; level?: string; message?: string }[];
  };
}

/** A check run for every deployed stack (a stack not deployed yields nothing: the stack check said why); an ARM error is one FAIL for that stack. Reusable by checks added to AZURE_CHECKS. */
export function perDeployedStack(
  name: string,
  each: (ctx: AzureDoctorContext, stack: StackName, d: DeployedStack) => Promise<CheckResult | CheckResult[]>,
): Check<AzureDoctorContext> {
  return {
    name,
    async run(ctx) {
      const out: CheckResult[] = [];
      for (const stack of ctx.stacks) {
        const d = ctx.deployed.get(stack);
        if (!d) continue;
        try {
          const r = await each(ctx, stack, d);
          out.push(...(Array.isArray(r) ? r : [r]));
        } catch (e) {
          out.push(fail(stackCheck(name, stack), `ARM call failed: ${restSummary(e)}`, "check the role on the resource group (roles check) and retry"));
        }
      }
      return out;
    },
  };
}

const clusterIdOf = (d: DeployedStack): string | undefined => {
  const c = str(d.outputs.aksClusterName);
  return c ? `/subscriptions/${d.subscriptionId}/resourceGroups/${d.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c}` : undefined;
};

export const extensionCheck = perDeployedStack("aml-extension", async (ctx, stack, d) => {
  const name = stackCheck("aml-extension", stack);
  const cluster = clusterIdOf(d);
  if (!cluster) return fail(name, "no aksClusterName output", `run 'pulumi up --stack ${stack}' with the current program`);
  const { arm } = ctx.deps.armClients(d.subscriptionId);
  const all = await arm.list<ExtensionView>(`${cluster}/providers/Microsoft.KubernetesConfiguration/extensions`, EXTENSIONS_API);
  const ext = all.find((e) => e.properties?.extensionType?.toLowerCase() === AZUREML_EXTENSION_TYPE);
  if (!ext)
    return fail(
      name,
      `no Microsoft.AzureML.Kubernetes extension on ${cluster.split("/").pop()}`,
      `run 'pulumi up --stack ${stack}'; if it keeps failing see 'az k8s-extension show --cluster-type managedClusters ...'`,
    );
  const p = ext.properties!;
  const errors = (p.statuses ?? []).filter((s) => s.level === "Error").map((s) => s.message ?? s.displayStatus ?? s.code ?? "error");
  const warnings = (p.statuses ?? []).filter((s) => s.level === "Warning").map((s) => s.message ?? s.displayStatus ?? s.code ?? "warning");
  const what = `extension '${ext.name}' ${p.provisioningState ?? "state unknown"}${p.currentVersion ? ` (version ${p.currentVersion})` : ""}`;
  if (p.provisioningState !== "Succeeded" || errors.length) {
    return fail(
      name,
      `${what}${errors.length ? `: ${errors.join(" | ").slice(0, 300)}` : ""}`,
      "the extension's pods are unhealthy: check cluster capacity (>= 4 vCPU/14 GB free) and 'kubectl get pods -n azureml'; then 'pulumi up' again",
    );
  }
  if (warnings.length) return warn(name, `${what}; warnings: ${warnings.join(" | ").slice(0, 300)}`, "see 'kubectl get pods -n azureml'");
  return ok(name, what);
});

async function computeOf(ctx: AzureDoctorContext, d: DeployedStack): Promise<ComputeResource | undefined> {
  const computeName = str(d.outputs.inferenceComputeName);
  if (!computeName) return undefined;
  const { ml } = ctx.deps.armClients(d.subscriptionId);
  return ml.computeOperations.get(d.resourceGroup, d.workspace, computeName);
}

export const computeCheck = perDeployedStack("k8s-compute", async (ctx, stack, d) => {
  const name = stackCheck("k8s-compute", stack);
  const c = await computeOf(ctx, d);
  if (!c) return fail(name, "no inferenceComputeName output", `run 'pulumi up --stack ${stack}' with the current program`);
  const p = c.properties;
  if (p?.computeType !== "Kubernetes")
    return fail(
      name,
      `compute ${c.name} is ${p?.computeType ?? "of unknown type"}, not Kubernetes`,
      "online endpoints need computeType Kubernetes (the legacy AKS attach is rejected)",
    );
  const errs = (p.provisioningErrors ?? []).map((e) => e.error?.message ?? e.error?.code ?? "error").join(" | ");
  if (p.provisioningState !== "Succeeded")
    return fail(
      name,
      `compute ${c.name} is ${p.provisioningState}${errs ? `: ${errs.slice(0, 300)}` : ""}`,
      `fix the cause above (often the extension), then 'pulumi up --stack ${stack}'`,
    );
  const cluster = clusterIdOf(d);
  if (cluster && p.resourceId && p.resourceId.toLowerCase() !== cluster.toLowerCase()) {
    return fail(name, `compute ${c.name} is attached to ${p.resourceId}, not this stack's cluster`, `detach it and 'pulumi up --stack ${stack}'`);
  }
  return ok(name, `compute ${c.name} Kubernetes, Succeeded, attached to ${p.resourceId?.split("/").pop() ?? "its cluster"}`);
});

async function deploymentsOf(ctx: AzureDoctorContext, d: DeployedStack): Promise<OnlineDeployment[]> {
  const endpoint = str(d.outputs.endpointName);
  if (!endpoint) return [];
  const { ml } = ctx.deps.armClients(d.subscriptionId);
  const out: OnlineDeployment[] = [];
  for await (const x of ml.onlineDeployments.list(d.resourceGroup, d.workspace, endpoint)) out.push(x);
  return out;
}

export const instanceTypesCheck = perDeployedStack("instance-types", async (ctx, stack, d) => {
  const name = stackCheck("instance-types", stack);
  const c = await computeOf(ctx, d);
  const k = (c?.properties as { properties?: KubernetesProperties } | undefined)?.properties;
  const known = new Set(
    ["defaultinstancetype", ...Object.keys(k?.instanceTypes ?? {}), ...(k?.defaultInstanceType ? [k.defaultInstanceType] : [])].map((x) => x.toLowerCase()),
  );
  const wanted = new Map<string, { by: string[]; failed: string[] }>();
  const want = (it: string, by: string, failed?: string): void => {
    const e = wanted.get(it.toLowerCase()) ?? { by: [], failed: [] };
    e.by.push(by);
    if (failed) e.failed.push(failed);
    wanted.set(it.toLowerCase(), e);
  };
  // The program's deployments name no instance type: they run on defaultinstancetype, which Azure ML creates when
  // the cluster is attached, with their own requests/limits (audit item 8). A deployment made some other way may name one.
  want("defaultinstancetype", "the program's deployments (no instanceType: Azure ML's default)");
  for (const dep of await deploymentsOf(ctx, d)) {
    const it = (dep.properties as { instanceType?: string }).instanceType;
    const state = dep.properties.provisioningState;
    if (it) want(it, `deployment ${dep.name}`, state !== "Succeeded" ? `deployment ${dep.name} is ${state ?? "in an unknown state"}` : undefined);
  }
  const missing = [...wanted].filter(([it]) => !known.has(it));
  const seen = `the compute lists ${[...known].join(", ")}`;
  const caveat = "ARM shows the compute's instance-type map only; whether the InstanceType resource exists in the cluster needs 'kubectl get instancetype'";
  const create = `create the InstanceType resource in the cluster (MS Learn "Create and manage instance types"; audit item 8), then 'pulumi up --stack ${stack}'`;
  const broken = missing.filter(([, e]) => e.failed.length);
  if (broken.length) {
    return fail(
      name,
      `${broken.map(([it, e]) => `${it} (${e.failed.join(", ")})`).join("; ")}: not on compute ${c?.name ?? "?"} (${seen}), the likely cause`,
      create,
    );
  }
  if (missing.length) {
    return warn(
      name,
      `${missing.map(([it, e]) => `${it} (${e.by.join(", ")})`).join(", ")} not in compute ${c?.name ?? "?"}'s map (${seen}); ${caveat}`,
      `check 'kubectl get instancetype'; if it is missing, ${create}`,
    );
  }
  return ok(name, `${[...wanted.keys()].join(", ") || "no instance type used yet"} listed (${seen}); ${caveat}`);
});

export const endpointCheck = perDeployedStack("endpoint", async (ctx, stack, d) => {
  const name = stackCheck("endpoint", stack);
  const endpoint = str(d.outputs.endpointName);
  if (!endpoint) return fail(name, "no endpointName output", `run 'pulumi up --stack ${stack}' with the current program`);
  const { ml } = ctx.deps.armClients(d.subscriptionId);
  const e = await ml.onlineEndpoints.get(d.resourceGroup, d.workspace, endpoint);
  const p = e.properties;
  const out: CheckResult[] = [];
  if (!(KUBERNETES_AUTH_MODES as readonly string[]).includes(p.authMode)) {
    out.push(
      fail(
        name,
        `endpoint ${endpoint} uses authMode ${p.authMode}, which Kubernetes online endpoints do not support (Key or AMLToken; AADToken is managed-only)`,
        `set mlops:serving.authMode to Key or AMLToken in Pulumi.${stack}.yaml and 'pulumi up --stack ${stack}'`,
      ),
    );
  }
  if (p.provisioningState !== "Succeeded")
    out.push(
      fail(
        name,
        `endpoint ${endpoint} is ${p.provisioningState ?? "in an unknown state"}`,
        `see the endpoint in Azure ML studio; 'pulumi up --stack ${stack}' again after fixing the cause`,
      ),
    );
  const computeName = str(d.outputs.inferenceComputeName);
  if (computeName && p.compute && !p.compute.toLowerCase().endsWith(`/computes/${computeName.toLowerCase()}`)) {
    out.push(fail(name, `endpoint ${endpoint} runs on ${p.compute}, not on ${computeName}`, `'pulumi up --stack ${stack}' to put it back`));
  }
  const bad = (await deploymentsOf(ctx, d)).filter((x) => x.properties.provisioningState !== "Succeeded");
  for (const x of bad)
    out.push(
      fail(
        name,
        `deployment ${x.name} is ${x.properties.provisioningState ?? "in an unknown state"}`,
        `see 'az ml online-deployment get-logs -e ${endpoint} -n ${x.name}'; fix and 'pulumi up --stack ${stack}'`,
      ),
    );
  if (out.length === 0) out.push(ok(name, `endpoint ${endpoint} Succeeded, authMode ${p.authMode}, on ${computeName ?? p.compute ?? "its compute"}`));
  return out;
});

export const trainingCapacityCheck = perDeployedStack("training-capacity", async (ctx, stack, d) => {
  const name = stackCheck("training-capacity", stack);
  const computeName = str(d.outputs.trainingComputeName);
  if (!computeName) return fail(name, "no trainingComputeName output", `run 'pulumi up --stack ${stack}' with the current program`);
  const wanted = ctx.configs.get(stack)?.training;
  if (!wanted) return warn(name, `not compared: Pulumi.${stack}.yaml does not validate (see the stack-config check)`, "fix the stack file first");
  const { ml } = ctx.deps.armClients(d.subscriptionId);
  const observed = observedCapacityOf(await ml.computeOperations.get(d.resourceGroup, d.workspace, computeName));
  if (observed.computeType !== "AmlCompute")
    return fail(
      name,
      `compute ${computeName} is ${observed.computeType ?? "of unknown type"}, not AmlCompute`,
      `'pulumi up --stack ${stack}' creates the training cluster`,
    );
  const drift = capacityReport(stack, computeName, d, compareCapacity(wanted, observed));
  if (drift) return warn(name, drift.what, drift.todo);
  return ok(
    name,
    `compute ${computeName}: ${observed.vmSize} ${observed.vmPriority ?? "Dedicated"}, ${observed.minNodes ?? 0}-${observed.maxNodes} nodes, idle ${observed.idleScaleDown}, as the stack file says`,
  );
});
