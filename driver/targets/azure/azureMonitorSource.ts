/**
 * `mlops monitor --target azure`: what a stack serves (the color with the traffic, per the last `up`'s outputs), that
 * version's model file from the stack workspace's default datastore (sha256 checked against the registry), and the
 * data collector's output for the window, read from the same datastore (collectorRecords.ts has the layout and the
 * record format, with Microsoft's sources). Blob listings are paged by the SDK (NextMarker); each blob is streamed
 * line by line into a temporary copy in score.py's local sink format, so memory holds one line at a time and the same
 * ml/monitor.py judges it; warnings name the blob (its datastore URI), never the temporary file. Only the
 * deployments serving that version are read, and only records written since their last update.
 */
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { once } from "node:events";
import type { ContainerClient } from "@azure/storage-blob";
import { sha256Hex } from "../../../config/sha256.js";
import { ConfigError, DeploymentError, NotFoundError } from "../../core/errors.js";
import type { Progress } from "../../core/ports.js";
import type { StackName } from "../../core/release.js";
import type { CollectedData, MonitorSource, ServedVersion } from "../../monitor/monitorSource.js";
import type { StackOutputValues } from "../../pulumi/stackUpdater.js";
import { SHA_TAG } from "./azureRegistry.js";
import { workspaceFromOutputs } from "./azureSettings.js";
import { servedFromOutputs } from "./azureEnvironments.js";
import { isNotFound } from "./armErrors.js";
import { MDC_COLLECTIONS, MDC_ROOT, parseCollectedBlobName, toSinkLine, type Attribution } from "./collectorRecords.js";
import { jobOutputPath, MODEL_FILE } from "./trainingJob.js";
import type { WorkspaceClients } from "./workspaceClients.js";

export interface AzureMonitorSourceOptions {
  stateDir: string;
  runsDir: string;
  python: () => Promise<string>;
  workspace: (stack: StackName) => Promise<WorkspaceClients>;
  outputs: (stack: StackName) => Promise<StackOutputValues>;
  progress: Progress;
}

interface Serving {
  ws: WorkspaceClients;
  endpoint: string;
  /** the deployments (colors) that hold the served version */
  deployments: string[];
}

/** Where a model version's files are in its workspace's default datastore, from its ARM modelUri. */
export function modelPrefix(modelUri: string, defaultDatastore: string): string | undefined {
  const ds = /\/datastores\/([^/]+)\/paths\/(.+?)\/*$/.exec(modelUri);
  if (ds) return ds[1] === defaultDatastore ? `${ds[2]}/` : undefined;
  const job = /^azureml:\/\/jobs\/([^/]+)\/outputs\/[^/]+\/paths\/(.+?)\/*$/.exec(modelUri);
  return job ? `${jobOutputPath(job[1]!)}${job[2]}/` : undefined;
}

export function azureMonitorSource(o: AzureMonitorSourceOptions): MonitorSource {
  let work: string | undefined;
  const serving = new Map<StackName, Serving>();
  const workDir = async () => (work ??= await mkdtemp(path.join(os.tmpdir(), "mlops-monitor-azure-")));

  async function downloadModel(ws: WorkspaceClients, name: string, version: string): Promise<string> {
    const { resourceGroup, workspace } = ws.ref;
    let v;
    try {
      v = await ws.ml.modelVersions.get(resourceGroup, workspace, name, version);
    } catch (e) {
      if (isNotFound(e))
        throw new NotFoundError(`workspace ${workspace} has no ${name} v${version}, which its endpoint serves; run 'pulumi up --stack ${ws.ref.stack}'`);
      throw e;
    }
    const digest = v.properties.tags?.[SHA_TAG] ?? "";
    const ds = await ws.defaultDatastore();
    const prefix = modelPrefix(v.properties.modelUri ?? "", ds.name);
    if (!prefix)
      throw new DeploymentError(
        `${name} v${version}'s files (${v.properties.modelUri ?? "no modelUri"}) are not in ${workspace}'s default datastore; cannot read the model to judge prediction drift`,
      );
    const dir = path.join(await workDir(), "model");
    const container = await ws.container();
    let pkl: Buffer | undefined;
    for await (const b of container.listBlobsFlat({ prefix })) {
      const data = await container.getBlobClient(b.name).downloadToBuffer();
      const file = path.join(dir, b.name.slice(prefix.length));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, data);
      if (b.name.slice(prefix.length) === MODEL_FILE) pkl = data;
    }
    if (!pkl) throw new DeploymentError(`no ${MODEL_FILE} under ${prefix} in ${workspace}'s default datastore; the files of ${name} v${version} are gone`);
    if (sha256Hex(pkl) !== digest) {
      throw new DeploymentError(
        `${workspace}'s ${MODEL_FILE} of ${name} v${version} has sha256 ${sha256Hex(pkl).slice(0, 12)}, not the registered ${digest.slice(0, 12) || "(none)"}; refusing to judge with it`,
      );
    }
    return dir;
  }

  /** Streams one collected blob into `file`, line by line, in the local sink's format. */
  async function copyBlob(container: ContainerClient, name: string, file: string, collection: string, who: Attribution): Promise<void> {
    const res = await container.getBlobClient(name).download();
    if (!res.readableStreamBody) throw new DeploymentError(`blob ${name} came back without a body`);
    await mkdir(path.dirname(file), { recursive: true });
    const out = createWriteStream(file);
    const lines = createInterface({ input: res.readableStreamBody, crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      if (!out.write(`${toSinkLine(line, collection, who)}\n`)) await once(out, "drain");
    }
    out.end();
    await once(out, "finish");
  }

  return {
    stateDir: o.stateDir,
    runsDir: o.runsDir,
    python: o.python,

    async served(stack): Promise<ServedVersion | undefined> {
      const out = await o.outputs(stack);
      const ref = workspaceFromOutputs(stack, out);
      const config = servedFromOutputs(out);
      const active = Object.entries(ref.traffic)
        .filter(([, w]) => w > 0)
        .sort((a, b) => b[1] - a[1])[0]?.[0];
      if (!active) return undefined;
      if (!config) throw new ConfigError(`stack '${stack}' has no servedModel output; run 'pulumi up --stack ${stack}' with the current program`);
      const version = config.deployments[active]?.version;
      if (!version) return undefined;
      if (!ref.endpointName) throw new ConfigError(`stack '${stack}' has no endpointName output; run 'pulumi up --stack ${stack}' with the current program`);
      const ws = await o.workspace(stack);
      const deployments = Object.entries(config.deployments)
        .filter(([, d]) => d.version === version)
        .map(([k]) => k);
      serving.set(stack, { ws, endpoint: ref.endpointName, deployments });
      return { modelName: config.model, modelVersion: version, modelDir: await downloadModel(ws, config.model, version) };
    },

    async collected(stack, served, sinceEpochSeconds): Promise<CollectedData> {
      const s = serving.get(stack);
      if (!s) throw new Error(`internal: collected(${stack}) before served(${stack})`);
      const { resourceGroup, workspace } = s.ws.ref;
      const ds = await s.ws.defaultDatastore();
      const container = await s.ws.container();
      const root = path.join(await workDir(), "collected");
      await mkdir(root, { recursive: true });
      let blobs = 0;
      for (const deployment of s.deployments) {
        const d = await s.ws.ml.onlineDeployments.get(resourceGroup, workspace, s.endpoint, deployment);
        const model = d.properties.model ?? "";
        if (!model.endsWith(`/models/${served.modelName}/versions/${served.modelVersion}`)) {
          o.progress.info(`monitor: deployment ${deployment} of ${s.endpoint} runs ${model || "no model"}, not v${served.modelVersion}: its data is left out`);
          continue;
        }
        const modified = d.systemData?.lastModifiedAt ?? d.systemData?.createdAt;
        const who: Attribution = { modelVersion: served.modelVersion, since: modified ? new Date(modified).getTime() / 1000 : 0 };
        const from = Math.max(sinceEpochSeconds, who.since);
        for await (const b of container.listBlobsFlat({ prefix: `${MDC_ROOT}/${s.endpoint}/${deployment}/` })) {
          const p = parseCollectedBlobName(b.name);
          // a whole hour folder that ended before the window (one hour of slack) is not downloaded
          if (!p || !(MDC_COLLECTIONS as readonly string[]).includes(p.collection) || p.hourStart + 7200 <= from) continue;
          await copyBlob(container, b.name, path.join(root, b.name), p.collection, who);
          blobs += 1;
        }
      }
      o.progress.info(`monitor: read ${blobs} collected blob(s) of ${s.endpoint} (${s.deployments.join(", ")}) from ${ds.account}/${ds.container}`);
      const uri = `azureml://datastores/${ds.name}/paths/`;
      return { dirs: [root], rename: (text) => text.split(`${root}${path.sep}`).join(uri) };
    },

    async close() {
      if (work) await rm(work, { recursive: true, force: true });
      work = undefined;
    },
  };
}
