/**
 * PROD on the local target is blue/green: two inference servers (slots) on local.ports.prodBlue/prodGreen
 * behind the weighted router on local.ports.prod. Each started slot has a process record in
 * .mlops/services/inference-prod-<slot>.json, written before its server is spawned; .mlops/stacks/prod/deployment.json says which slot serves
 * (100% of the traffic), what served before, and how it got there (rollout or rollback).
 */
import type { RolloutRecord } from "../../rollout/rolloutTypes.js";
import { httpOk } from "../../host/httpProbe.js";
import { healthUri, inferenceRunning } from "./inferenceServer.js";
import { readJsonFile } from "../../host/jsonFile.js";
import type { LocalDeployment } from "./localDeployment.js";
import type { LocalPaths } from "./localPaths.js";
import type { ProcessRef } from "../../host/serviceProcess.js";
import type { RouterProcessRecord } from "./routerProcess.js";

export type Slot = "blue" | "green";
export const SLOTS: readonly Slot[] = ["blue", "green"];
export const otherSlot = (s: Slot): Slot => (s === "blue" ? "green" : "blue");
/** the mlops.yaml key of a slot's port */
export const slotPortKey = (s: Slot): string => (s === "blue" ? "prodBlue" : "prodGreen");

/** One slot's inference server: its service record, written before the server is spawned (pid 0 until it is). */
export interface SlotServer extends ProcessRef {
  slot: Slot;
  port: number;
  pid: number;
  modelName: string;
  modelVersion: string;
  digest: string;
  modelDir: string;
  logFile: string;
  entryScriptSha256: string;
  startedAt: string;
}

/** `mlops rollback prod` as the local target did it. */
export interface RollbackRecord {
  at: string;
  fromVersion: string;
  toVersion: string;
  fromSlot: Slot;
  toSlot: Slot;
  /** true: the previous version was still running on the idle slot, only the router's weights changed */
  instant: boolean;
  /** time the router took to apply the new weights (the PUT), ms */
  flipMs: number;
  /** start of the rollback to 100% on the previous version, ms (includes a restart when not instant) */
  totalMs: number;
  detail: string;
}

/** deployment.json of PROD: LocalDeployment (pid/port/modelDir of the serving slot, port = the router's). */
export interface ProdDeployment extends LocalDeployment {
  slot: Slot;
  /** the slots as they were when this record was written */
  slots: Partial<Record<Slot, SlotServer>>;
  router: RouterProcessRecord;
  rollback?: RollbackRecord;
  /** the last staged rollout that failed and was rolled back (the version it tried never served 100%) */
  lastFailedRollout?: RolloutRecord;
}

export const isBlueGreen = (rec: LocalDeployment | undefined): rec is ProdDeployment => !!rec && "slot" in rec && "slots" in rec;

export const readSlotServer = (paths: LocalPaths, slot: Slot): Promise<SlotServer | undefined> => readJsonFile<SlotServer>(paths.slotService(slot));

/** Whether any process of the slot's server runs (the whole group, by its start token). */
export const slotRunning = (s: SlotServer | undefined): boolean => inferenceRunning(s);

export async function slotHealthy(s: SlotServer | undefined): Promise<boolean> {
  return !!s && slotRunning(s) && (await httpOk(healthUri(s.port)));
}

export const serves = (s: SlotServer | undefined, model: { name: string; version: string; digest: string }): boolean =>
  !!s && s.modelName === model.name && s.modelVersion === model.version && s.digest === model.digest;
