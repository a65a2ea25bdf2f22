/**
 * TrainingPort on Azure ML: the code snapshot and environment as assets, one command job on the INT training
 * cluster, progress while it runs, then the run's metrics through the workspace's MLflow API (the job's run id
 * is the job name) and the model's sha256 (the run's `model_sha256` tag, checked against model.pkl read back
 * from the job's output folder). A failed or cancelled job ends in TrainingError with the job's portal link.
 */
import { randomBytes } from "node:crypto";
import type { JobBase } from "@azure/arm-machinelearning";
import { TrainingError } from "../../core/errors.js";
import type { Progress, TrainingPort } from "../../core/ports.js";
import type { SourceFingerprint, TrainingResult } from "../../core/release.js";
import { metricRecord, tagRecord } from "../../mlflow/types.js";
import { armWorkspaceId, type AzureSettings } from "./azureSettings.js";
import { ensureCodeAsset } from "./codeSnapshot.js";
import { baseImage, ensureEnvironmentAsset } from "./environmentAsset.js";
import { studioLink, waitForJob, type PollOptions } from "./jobPoller.js";
import { putJob } from "./jobSubmit.js";
import { buildTrainingJob, DIGEST_TAGS, digestTags, isTerminal, jobModelBlob, jobModelUri, newJobName } from "./trainingJob.js";
import type { WorkspaceClients } from "./workspaceClients.js";
import { sha256Hex } from "../../../config/sha256.js";

export interface AzureTrainingOptions {
  repoRoot: string;
  experimentName: string;
  ws: WorkspaceClients;
  settings: AzureSettings;
  poll?: Partial<PollOptions>;
  now?: () => Date;
}

export async function sha256OfBlob(ws: WorkspaceClients, blobName: string): Promise<string> {
  const container = await ws.container();
  const buf = await container.getBlobClient(blobName).downloadToBuffer();
  return sha256Hex(buf);
}

export class AzureTraining implements TrainingPort {
  constructor(private readonly o: AzureTrainingOptions) {}

  private get ws(): WorkspaceClients {
    return this.o.ws;
  }

  private matches(job: JobBase, source: SourceFingerprint): boolean {
    const want = digestTags(source);
    const tags = job.properties.tags ?? {};
    return job.properties.jobType === "Command" && DIGEST_TAGS.every((k) => tags[k] === want[k]);
  }

  /** Jobs with the same code/data/env digests, newest first. */
  private async sameDigestJobs(source: SourceFingerprint): Promise<JobBase[]> {
    const out: JobBase[] = [];
    for await (const job of this.ws.ml.jobs.list(this.ws.ref.resourceGroup, this.ws.ref.workspace, { tag: "mlops.code_digest", jobType: "Command" })) {
      if (this.matches(job, source)) out.push(job);
    }
    const at = (j: JobBase) => (j.systemData?.createdAt ? new Date(j.systemData.createdAt).getTime() : 0);
    return out.sort((a, b) => at(b) - at(a));
  }

  async findReusable(source: SourceFingerprint): Promise<TrainingResult | undefined> {
    const done = (await this.sameDigestJobs(source)).find((j) => j.properties.status === "Completed");
    if (!done?.name) return undefined;
    try {
      return { ...(await this.result(done.name, studioLink(this.ws, done, done.name))), reused: true };
    } catch {
      return undefined; // its metrics or model are gone: train again
    }
  }

  async train(source: SourceFingerprint, progress: Progress): Promise<TrainingResult> {
    const { ws, o } = this;
    const compute = ws.ref.trainingCompute;
    if (!compute)
      throw new TrainingError(`stack '${ws.ref.stack}' has no trainingComputeName output; run 'pulumi up --stack ${ws.ref.stack}' with the current program`);

    // A job for exactly this source still running (an earlier, interrupted release): wait for it instead.
    const running = (await this.sameDigestJobs(source)).find((j) => !isTerminal(j.properties.status));
    let jobName = running?.name;
    if (jobName) {
      progress.info(`attaching to job ${jobName} (${running!.properties.status}), which trains this exact code, data and environment`);
    } else {
      const code = await ensureCodeAsset(o.repoRoot, ws, progress);
      progress.info(`code asset ${code.version}: ${code.uploaded ? `uploaded ${code.files} files` : "unchanged, reused"}`);
      const env = await ensureEnvironmentAsset(o.repoRoot, ws, await baseImage(o.settings.baseImage));
      progress.info(`environment ${env.version}: ${env.created ? "new version (Azure ML builds its image on first use)" : "unchanged, reused"}`);
      const ds = await ws.defaultDatastore();
      jobName = newJobName((o.now ?? (() => new Date()))(), randomBytes(2).toString("hex"));
      const body = buildTrainingJob({
        jobName,
        experimentName: o.experimentName,
        codeId: code.id,
        environmentId: env.id,
        computeId: `${armWorkspaceId(ws.ref)}/computes/${compute}`,
        datastoreName: ds.name,
        source,
      });
      const created = await putJob(ws, jobName, body, o.settings.armEndpoint);
      progress.info(`submitted job ${jobName} to ${compute}: ${studioLink(ws, created, jobName)}`);
    }

    const finished = await waitForJob(ws, jobName, progress, {
      minMs: o.poll?.minMs ?? o.settings.pollMinMs,
      maxMs: o.poll?.maxMs ?? o.settings.pollMaxMs,
      timeoutMs: o.poll?.timeoutMs ?? o.settings.jobTimeoutMs,
      ...(o.poll?.sleep ? { sleep: o.poll.sleep } : {}),
    });
    if (finished.status !== "Completed") {
      // the error text is in Run History's run details, not in the ARM job (see runHistory.ts)
      const why = finished.status === "Canceled" ? "it was cancelled" : ((await ws.failedRunError(jobName)) ?? "no error text in the run's details");
      throw new TrainingError(`training job ${jobName} ended ${finished.status}: ${why}; logs: ${finished.studioUrl}`);
    }
    return { ...(await this.result(jobName, finished.studioUrl)), reused: false };
  }

  /** Metrics and sha256 of a completed job, checked against the model file it wrote. */
  private async result(jobName: string, studioUrl: string): Promise<Omit<TrainingResult, "reused">> {
    const run = await this.ws.mlflow().getRun(jobName);
    if (!run) throw new TrainingError(`job ${jobName} completed but its MLflow run is not in the workspace; see ${studioUrl}`);
    const metrics = metricRecord(run.data.metrics);
    if (Object.keys(metrics).length === 0) throw new TrainingError(`job ${jobName} logged no metrics to MLflow; check ml/eval.py's logging, see ${studioUrl}`);
    const tagged = tagRecord(run.data.tags)["model_sha256"];
    const actual = await sha256OfBlob(this.ws, jobModelBlob(jobName));
    if (tagged && tagged !== actual) {
      throw new TrainingError(`job ${jobName} logged model sha256 ${tagged.slice(0, 12)} but its model.pkl has ${actual.slice(0, 12)}; refusing the artifact`);
    }
    return { runId: jobName, metrics, modelSha256: actual, artifactUri: jobModelUri(jobName), runUrl: studioUrl };
  }
}
