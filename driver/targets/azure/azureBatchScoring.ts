/**
 * Batch scoring on Azure: the stack's batch endpoint (components/batchEndpoint.ts), invoked the way azure-ai-ml's
 * batch_endpoints.invoke does it (operations/_batch_endpoint_operations.py, azure-ai-ml 1.35.2): a POST of
 * {"properties": {inputData, outputData, name}} to the endpoint's scoring URI with a token for the Azure ML audience
 * and the deployment named in `azureml-model-deployment`; the job it starts is then an ordinary workspace job,
 * polled through ARM. The input is uploaded to the workspace's default datastore first; the deployment's
 * predictions.csv (one "file,row,prediction,error" line per input row, from ml/batch_score.py's run()) is
 * downloaded and split into the output and its .errors.csv, each written through a temp file and renamed.
 */
import { randomUUID } from "node:crypto";
import { createWriteStream, readdirSync, statSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { TokenCredential } from "@azure/identity";
import { parse as parseCsv } from "csv-parse";
import { DeploymentError, EnvironmentError, NotFoundError } from "../../core/errors.js";
import type { BatchProgressEvent, BatchScoreRequest, BatchScoreSummary, BatchScoringPort, Progress } from "../../core/ports.js";
import type { StackName } from "../../core/release.js";
// the audience batch_endpoints.invoke asks a token for (_resource_to_scopes of the cloud's Azure ML resource id)
import { AML_SCOPE } from "./azureSettings.js";
import { bearerHeaders } from "./credential.js";
import { waitForJob, type PollOptions } from "./jobPoller.js";
import type { WorkspaceClients } from "./workspaceClients.js";

/** The deployment the stacks declare (components/batchEndpoint.ts BATCH_DEPLOYMENT_NAME) and its output file. */
export const BATCH_DEPLOYMENT = "main";
export const BATCH_OUTPUT_FILE = "predictions.csv";
const FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"];

export interface BatchInvokeBody {
  properties: {
    inputData: Record<string, { jobInputType: "UriFolder"; uri: string }>;
    outputData: Record<string, { jobOutputType: "UriFolder"; uri: string }>;
    name: string;
  };
}

/** The body batch_endpoints.invoke(inputs={"input": Input(uri_folder)}, outputs={"score": Output(uri_folder)}, job_name=...) sends. */
export function batchInvokeBody(o: { inputUri: string; outputUri: string; jobName: string }): BatchInvokeBody {
  return {
    properties: {
      inputData: { input: { jobInputType: "UriFolder", uri: o.inputUri } },
      outputData: { score: { jobOutputType: "UriFolder", uri: o.outputUri } },
      name: o.jobName,
    },
  };
}

const csvCell = (v: string | number): string => (/[",\n\r]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

function failureKind(reason: string): string {
  if (reason.includes("not a finite")) return "not_finite";
  if (reason.includes("not a number")) return "not_a_number";
  if (reason.includes("empty value")) return "empty_value";
  if (reason.includes("empty row")) return "empty_row";
  if (reason.includes("values, found")) return "column_count";
  if (reason.includes("header") || reason.includes("is empty")) return "unusable_file";
  return "other";
}

/**
 * Splits the deployment's predictions.csv ("file,row,prediction,error" per row) into the output (file,row,prediction)
 * and the errors file (file,row,column,reason), each through a temp file renamed when complete.
 */
export async function splitBatchPredictions(lines: Readable, output: string, errors: string): Promise<Omit<BatchScoreSummary, "seconds" | "rowsPerSecond">> {
  const tmpOut = `${output}.partial-${process.pid}`;
  const tmpErr = `${errors}.partial-${process.pid}`;
  const out = createWriteStream(tmpOut);
  const err = createWriteStream(tmpErr);
  const files = new Set<string>();
  const summary = { files: 0, rows: 0, scored: 0, failed: 0, failureKinds: {} as Record<string, number> };
  try {
    out.write("file,row,prediction\n");
    err.write("file,row,column,reason\n");
    // RFC 4180 records (an error text may be quoted, with commas or line breaks in it)
    for await (const record of lines.pipe(parseCsv({ relax_column_count: true, skip_empty_lines: true })) as AsyncIterable<string[]>) {
      const [file = "", row = "", prediction = "", error = ""] = record;
      files.add(file);
      const p = Number(prediction);
      if (!error && prediction !== "" && Number.isFinite(p)) {
        summary.rows += 1;
        summary.scored += 1;
        out.write(`${csvCell(file)},${row},${prediction}\n`);
        continue;
      }
      const reason = error || `no prediction (${JSON.stringify(prediction)})`;
      const m = /^([a-z0-9]+): ([\s\S]*)$/.exec(reason);
      const [column, text] = m && FEATURES.includes(m[1]!) ? [m[1]!, m[2]!] : ["", reason];
      if (row !== "0") summary.rows += 1;
      summary.failed += 1;
      const kind = failureKind(text);
      summary.failureKinds[kind] = (summary.failureKinds[kind] ?? 0) + 1;
      err.write(`${csvCell(file)},${row},${column},${csvCell(text)}\n`);
    }
    await Promise.all([
      new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r()))),
      new Promise<void>((r, j) => err.end((e?: Error | null) => (e ? j(e) : r()))),
    ]);
    await rename(tmpOut, output);
    await rename(tmpErr, errors);
  } finally {
    out.destroy();
    err.destroy();
    await rm(tmpOut, { force: true });
    await rm(tmpErr, { force: true });
  }
  summary.files = files.size;
  return summary;
}

export interface AzureBatchScoringOptions {
  workspace(stack: StackName): Promise<WorkspaceClients>;
  /** The stack's Pulumi outputs (batchEndpointName, batchModelVersion). */
  outputs(stack: StackName): Promise<Record<string, unknown>>;
  credential: TokenCredential;
  poll?: Partial<PollOptions>;
}

function inputFiles(input: string): { abs: string; rel: string }[] {
  if (statSync(input).isFile()) return [{ abs: input, rel: path.basename(input) }];
  const found: { abs: string; rel: string }[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else if (/\.(csv|parquet)$/i.test(e.name)) found.push({ abs, rel: path.relative(input, abs).split(path.sep).join("/") });
    }
  };
  walk(input);
  return found;
}

export class AzureBatchScoring implements BatchScoringPort {
  constructor(private readonly o: AzureBatchScoringOptions) {}

  async scoreBatch(req: BatchScoreRequest, onProgress: (e: BatchProgressEvent) => void, progress: Progress): Promise<BatchScoreSummary> {
    const stack = req.stack;
    if (!stack) throw new EnvironmentError("azure batch scoring needs the stack whose batch endpoint scores; pass --stack");
    const out = await this.o.outputs(stack);
    const endpointName = typeof out.batchEndpointName === "string" ? out.batchEndpointName : "";
    const served = typeof out.batchModelVersion === "string" ? out.batchModelVersion : "";
    if (!endpointName)
      throw new EnvironmentError(`stack '${stack}' has no batchEndpointName output; run 'pulumi up --stack ${stack}' with the current program`);
    if (served !== req.model.version) {
      throw new NotFoundError(
        served
          ? `stack '${stack}''s batch deployment serves ${req.model.name} v${served}, not v${req.model.version}; on Azure the batch deployment scores with the version the stack serves (drop --version)`
          : `stack '${stack}' has no batch deployment yet (nothing served); release a model first`,
      );
    }
    const ws = await this.o.workspace(stack);
    const files = inputFiles(req.input);
    const id = `${new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, "")
      .slice(0, 14)}-${randomUUID().slice(0, 8)}`;
    const prefix = `mlops-batch/${id}`;
    const container = await ws.container();
    const totalBytes = files.reduce((n, f) => n + statSync(f.abs).size, 0);
    const started = Date.now();
    progress.info(`uploading ${files.length} file(s) (${(totalBytes / 2 ** 20).toFixed(1)} MiB) to the default datastore under ${prefix}/input`);
    for (const f of files) await container.getBlockBlobClient(`${prefix}/input/${f.rel}`).uploadFile(f.abs);

    const { resourceGroup, workspace } = ws.ref;
    const endpoint = await ws.ml.batchEndpoints.get(resourceGroup, workspace, endpointName);
    const scoringUri = endpoint.properties.scoringUri;
    if (!scoringUri)
      throw new EnvironmentError(
        `batch endpoint ${endpointName} (stack '${stack}') has no scoring URI yet (provisioning: ${endpoint.properties.provisioningState ?? "unknown"}); retry later`,
      );
    const jobName = `mlops-batch-${id}`;
    const body = batchInvokeBody({ inputUri: await ws.datastoreUri(`${prefix}/input/`), outputUri: await ws.datastoreUri(`${prefix}/output/`), jobName });
    const auth = await bearerHeaders(this.o.credential, AML_SCOPE)();
    const res = await fetch(scoringUri, {
      method: "POST",
      headers: { "content-type": "application/json", "azureml-model-deployment": BATCH_DEPLOYMENT, "repeatability_request-id": randomUUID(), ...auth },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 200);
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        /* not JSON */
      }
      throw new DeploymentError(`batch endpoint ${endpointName} refused the job: HTTP ${res.status}: ${message.split("\n")[0]}`);
    }
    const started_ = (JSON.parse(text) as { name?: string }).name ?? jobName;
    progress.info(`batch job ${started_} started on ${endpointName}/${BATCH_DEPLOYMENT} (${req.model.name} v${req.model.version})`);
    const done = await waitForJob(ws, started_, progress, { minMs: 5_000, maxMs: 30_000, timeoutMs: 6 * 3600_000, ...this.o.poll });
    if (done.status !== "Completed") throw new DeploymentError(`batch job ${started_} ended ${done.status}; logs: ${done.studioUrl}`);
    const dl = await container.getBlockBlobClient(`${prefix}/output/${BATCH_OUTPUT_FILE}`).download();
    if (!dl.readableStreamBody)
      throw new DeploymentError(`batch job ${started_} completed without ${prefix}/output/${BATCH_OUTPUT_FILE}; logs: ${done.studioUrl}`);
    const split = await splitBatchPredictions(dl.readableStreamBody as Readable, req.output, req.errors);
    const seconds = (Date.now() - started) / 1000;
    onProgress({ rows: split.rows, scored: split.scored, failed: split.failed, bytes: totalBytes, totalBytes, seconds });
    return { ...split, seconds, rowsPerSecond: seconds > 0 ? split.rows / seconds : 0 };
  }
}
