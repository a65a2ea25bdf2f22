/**
 * Does the training cluster Azure keeps match the stack file's `mlops:training`? azure-native updates an
 * AmlCompute with PUT, and a PUT of an existing compute does not change its properties (Azure/bicep#17617;
 * hashicorp/terraform-provider-azurerm#30543 adds scale updates through PATCH only now), so "edit maxNodes +
 * pulumi up" can report success and change nothing. After an `up` the azure target reads the compute back
 * (REST "Compute - Get", @azure/arm-machinelearning computeOperations.get) and warns, naming the stack, what
 * Azure kept and what to do: the scale settings can be changed in place (REST "Compute - Update", PATCH with
 * scaleSettings; `az ml compute update --min-instances --max-instances --idle-time-before-scale-down`), the VM
 * size and priority cannot (only scaleSettings are in ClusterUpdateProperties): delete and recreate the cluster.
 * The comparison is pure so `mlops doctor` can reuse it with its own read.
 */
import type { Progress } from "../../core/ports.js";
import type { StackConfig } from "../../../config/stackConfig.js";
import type { StackUpdater } from "../../pulumi/stackUpdater.js";
import type { WorkspaceClients } from "./workspaceClients.js";

export type TrainingCapacity = StackConfig["training"];

export interface CapacityDrift {
  key: "vmSize" | "vmPriority" | "minNodes" | "maxNodes" | "idleScaleDown";
  wanted: string | number;
  /** what Azure kept; undefined when Azure returned nothing for it */
  actual: string | number | undefined;
}

/** ISO-8601 duration (PnDTnHnMnS, as ARM writes them) in seconds; undefined when it is not one. */
export function isoSeconds(d: string | undefined): number | undefined {
  if (!d) return undefined;
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(d.trim());
  if (!m || d.trim().toUpperCase() === "P" || /T$/i.test(d.trim())) return undefined;
  const [, days, h, min, s] = m;
  return Number(days ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

/** The AmlCompute properties Azure returned, in the stack file's terms (undefined where Azure gave nothing). */
export interface ObservedCapacity {
  vmSize?: string;
  vmPriority?: string;
  minNodes?: number;
  maxNodes?: number;
  idleScaleDown?: string;
}

/** Pure: the keys where Azure differs from the stack file (VM size compared case-insensitively, durations by value). */
export function compareCapacity(wanted: TrainingCapacity, actual: ObservedCapacity): CapacityDrift[] {
  const drift: CapacityDrift[] = [];
  if ((actual.vmSize ?? "").toLowerCase() !== wanted.vmSize.toLowerCase()) drift.push({ key: "vmSize", wanted: wanted.vmSize, actual: actual.vmSize });
  if ((actual.vmPriority ?? "Dedicated").toLowerCase() !== wanted.vmPriority.toLowerCase())
    drift.push({ key: "vmPriority", wanted: wanted.vmPriority, actual: actual.vmPriority });
  if ((actual.minNodes ?? 0) !== wanted.minNodes) drift.push({ key: "minNodes", wanted: wanted.minNodes, actual: actual.minNodes });
  if (actual.maxNodes !== wanted.maxNodes) drift.push({ key: "maxNodes", wanted: wanted.maxNodes, actual: actual.maxNodes });
  if (isoSeconds(actual.idleScaleDown) !== isoSeconds(wanted.idleScaleDown))
    drift.push({ key: "idleScaleDown", wanted: wanted.idleScaleDown, actual: actual.idleScaleDown });
  return drift;
}

/** One warning line naming the stack, what Azure kept and what to do; undefined when nothing drifted. */
export function capacityWarning(
  stack: string,
  computeName: string,
  ws: { resourceGroup: string; workspace: string },
  drift: CapacityDrift[],
): string | undefined {
  const r = capacityReport(stack, computeName, ws, drift);
  return r && `${r.what}: ${r.todo}`;
}

/** What Azure kept (naming the stack) and what to do, apart; undefined when nothing drifted. */
export function capacityReport(
  stack: string,
  computeName: string,
  ws: { resourceGroup: string; workspace: string },
  drift: CapacityDrift[],
): { what: string; todo: string } | undefined {
  if (drift.length === 0) return undefined;
  const show = (v: string | number | undefined) => (v === undefined ? "(none)" : String(v));
  const diffs = drift.map((d) => `${d.key} ${show(d.actual)} (stack file: ${d.wanted})`).join(", ");
  const scale = drift.filter((d) => d.key === "minNodes" || d.key === "maxNodes" || d.key === "idleScaleDown");
  const fixed = drift.filter((d) => d.key === "vmSize" || d.key === "vmPriority");
  const want = (k: CapacityDrift["key"]) => drift.find((d) => d.key === k)?.wanted;
  const todo: string[] = [];
  if (scale.length) {
    const args = [
      want("minNodes") !== undefined ? `--min-instances ${want("minNodes")}` : "",
      want("maxNodes") !== undefined ? `--max-instances ${want("maxNodes")}` : "",
      want("idleScaleDown") !== undefined ? `--idle-time-before-scale-down ${isoSeconds(String(want("idleScaleDown")))}` : "",
    ].filter(Boolean);
    todo.push(`run 'az ml compute update --name ${computeName} --resource-group ${ws.resourceGroup} --workspace-name ${ws.workspace} ${args.join(" ")}'`);
  }
  if (fixed.length)
    todo.push(
      `${fixed.map((d) => d.key).join(" and ")} cannot change on an existing cluster: delete compute '${computeName}' (when no job runs) and run 'pulumi up --stack ${stack}' to recreate it`,
    );
  return {
    what: `stack '${stack}': the training cluster '${computeName}' in Azure kept ${diffs}; pulumi up does not update an existing AmlCompute (Azure/bicep#17617)`,
    todo: todo.join("; "),
  };
}

interface AmlComputeBody {
  computeType?: string;
  properties?: {
    vmSize?: string;
    vmPriority?: string;
    scaleSettings?: { minNodeCount?: number; maxNodeCount?: number; nodeIdleTimeBeforeScaleDown?: string };
  };
}

/** What an AmlCompute resource (computeOperations.get) says of its capacity, in the stack file's terms. */
export function observedCapacityOf(res: { properties?: unknown }): ObservedCapacity & { computeType?: string } {
  const body = (res.properties ?? {}) as AmlComputeBody;
  const p = body.properties ?? {};
  const s = p.scaleSettings ?? {};
  const out: ObservedCapacity & { computeType?: string } = {};
  if (body.computeType) out.computeType = body.computeType;
  if (p.vmSize) out.vmSize = p.vmSize;
  if (p.vmPriority) out.vmPriority = p.vmPriority;
  if (typeof s.minNodeCount === "number") out.minNodes = s.minNodeCount;
  if (typeof s.maxNodeCount === "number") out.maxNodes = s.maxNodeCount;
  if (s.nodeIdleTimeBeforeScaleDown) out.idleScaleDown = s.nodeIdleTimeBeforeScaleDown;
  return out;
}

/** Reads the training cluster back through ARM (computeOperations.get). */
export async function readTrainingCapacity(ws: WorkspaceClients, computeName: string): Promise<ObservedCapacity & { computeType?: string }> {
  const { resourceGroup, workspace } = ws.ref;
  return observedCapacityOf(await ws.ml.computeOperations.get(resourceGroup, workspace, computeName));
}

/**
 * After an `up` of `stack`: compare the training cluster Azure kept with the stack file and report a drift as a
 * warning on progress. Never fails the release: a read that fails is reported as such.
 */
export async function checkTrainingCapacity(o: {
  stack: string;
  wanted: TrainingCapacity;
  ws: WorkspaceClients;
  progress: Progress;
}): Promise<CapacityDrift[]> {
  const name = o.ws.ref.trainingCompute;
  if (!name) return [];
  let observed: ObservedCapacity;
  try {
    observed = await readTrainingCapacity(o.ws, name);
  } catch (e) {
    o.progress.info(
      `warning: stack '${o.stack}': could not read the training cluster '${name}' back to check its capacity (${(e as Error).name}); check it in the Azure portal`,
    );
    return [];
  }
  const drift = compareCapacity(o.wanted, observed);
  const line = capacityWarning(o.stack, name, o.ws.ref, drift);
  if (line) o.progress.info(`warning: ${line}`);
  return drift;
}

/**
 * A StackUpdater whose `up` is followed, once per stack and process, by the capacity check above (the stack file's
 * `mlops:training` read by `readWanted`, the workspace from `workspace`). Every `up` the azure target runs goes
 * through it, so no caller has to remember the check.
 */
export function withCapacityCheck(
  inner: StackUpdater,
  o: { readWanted: (stack: string) => TrainingCapacity; workspace: (stack: string) => Promise<WorkspaceClients> },
): StackUpdater {
  const checked = new Set<string>();
  return {
    serving: (stack) => inner.serving(stack),
    setServing: (stack, serving) => inner.setServing(stack, serving),
    outputs: (stack) => inner.outputs(stack),
    up: async (stack, progress) => {
      const summary = await inner.up(stack, progress);
      if (!checked.has(stack) && summary.result === "succeeded") {
        checked.add(stack);
        try {
          await checkTrainingCapacity({ stack, wanted: o.readWanted(stack), ws: await o.workspace(stack), progress });
        } catch (e) {
          progress.info(`warning: stack '${stack}': the training cluster capacity was not checked (${(e as Error).message.split("\n")[0]})`);
        }
      }
      return summary;
    },
  };
}
