/**
 * Waits for an Azure ML job to reach a terminal state, polling with backoff (first interval, x1.5, up to the
 * longest) and reporting status changes, the elapsed time and the job's studio link. A job that runs past the
 * time limit is cancelled (the cancel is a long-running operation; the SDK polls it) and reported as failed.
 */
import type { JobBase } from "@azure/arm-machinelearning";
import { TrainingError } from "../../core/errors.js";
import type { Progress } from "../../core/ports.js";
import { studioJobUrl } from "./azureSettings.js";
import { isTerminal } from "./trainingJob.js";
import type { WorkspaceClients } from "./workspaceClients.js";

export interface PollOptions {
  minMs: number;
  maxMs: number;
  timeoutMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface FinishedJob {
  name: string;
  status: string;
  studioUrl: string;
  job: JobBase;
}

const secs = (ms: number): string => (ms < 120_000 ? `${Math.round(ms / 1000)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`);

/** The studio link of a job: its Studio service endpoint, else one built from the workspace id. */
export function studioLink(ws: WorkspaceClients, job: JobBase | undefined, name: string): string {
  return job?.properties.services?.["Studio"]?.endpoint ?? studioJobUrl(ws.ref, name);
}

export async function waitForJob(ws: WorkspaceClients, name: string, progress: Progress, o: PollOptions): Promise<FinishedJob> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  let interval = o.minMs;
  let last = "";
  let lastReport = 0;
  for (;;) {
    const job = await ws.ml.jobs.get(ws.ref.resourceGroup, ws.ref.workspace, name);
    const status = job.properties.status ?? "Unknown";
    const url = studioLink(ws, job, name);
    const elapsed = Date.now() - started;
    if (status !== last || Date.now() - lastReport >= 60_000) {
      progress.info(`job ${name}: ${status} (${secs(elapsed)}) ${url}`);
      last = status;
      lastReport = Date.now();
    }
    if (isTerminal(status)) return { name, status, studioUrl: url, job };
    if (elapsed > o.timeoutMs) {
      progress.info(`job ${name} ran past ${secs(o.timeoutMs)}; cancelling it`);
      await ws.ml.jobs.beginCancelAndWait(ws.ref.resourceGroup, ws.ref.workspace, name, { updateIntervalInMs: o.minMs });
      throw new TrainingError(`training job ${name} ran longer than ${secs(o.timeoutMs)} and was cancelled (MLOPS_AZURE_JOB_TIMEOUT_MINUTES); see ${url}`);
    }
    await sleep(interval);
    interval = Math.min(o.maxMs, Math.round(interval * 1.5));
  }
}
