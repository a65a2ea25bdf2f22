/**
 * Promotion without retraining: the exact model folder validated in INT is copied into the PROD workspace's
 * default datastore (downloaded from INT's, model.pkl's sha256 checked against the approved digest before and
 * after the upload) and registered there under the same name and version, with the INT lineage tags plus
 * `mlops.copied_from`, with the same model type as in INT (custom_model). A PROD version that already exists with the
 * same digest is left alone; one with another digest is refused.
 */
import { sha256Hex } from "../../../config/sha256.js";
import { DeploymentError } from "../../core/errors.js";
import type { Progress } from "../../core/ports.js";
import type { RegisteredModel } from "../../core/release.js";
import { armWorkspaceId } from "./azureSettings.js";
import { AzureRegistry, MODEL_TYPE, SHA_TAG } from "./azureRegistry.js";
import { MODEL_FILE, MODEL_SUBDIR, jobOutputPath } from "./trainingJob.js";
import type { WorkspaceClients } from "./workspaceClients.js";

export const prodModelPrefix = (name: string, version: string): string => `mlops/models/${name}/${version}/${MODEL_SUBDIR}/`;

export async function copyModelToWorkspace(
  model: RegisteredModel,
  from: WorkspaceClients,
  to: WorkspaceClients,
  progress: Progress,
): Promise<"present" | "copied"> {
  const target = new AzureRegistry(to);
  const existing = await target.getVersion(model.name, model.version);
  if (existing) {
    if (existing.digest === model.digest) return "present";
    throw new DeploymentError(
      `${to.ref.workspace} already has ${model.name} v${model.version} with sha256 ${existing.digest.slice(0, 12) || "none"}, not ${model.digest.slice(0, 12)}; the registries disagree, fix the PROD model by hand`,
    );
  }
  const job = model.runId;
  if (!job) throw new DeploymentError(`${model.name} v${model.version} has no mlops.run_id tag; cannot find its files to copy to prod`);
  const src = await from.container();
  const dst = await to.container();
  const srcPrefix = `${jobOutputPath(job)}${MODEL_SUBDIR}/`;
  const dstPrefix = prodModelPrefix(model.name, model.version);
  const files: { rel: string; data: Buffer }[] = [];
  for await (const b of src.listBlobsFlat({ prefix: srcPrefix })) {
    files.push({ rel: b.name.slice(srcPrefix.length), data: await src.getBlobClient(b.name).downloadToBuffer() });
  }
  const pkl = files.find((f) => f.rel === MODEL_FILE);
  if (!pkl) throw new DeploymentError(`no ${MODEL_FILE} under ${srcPrefix} in the INT datastore; the artifact of ${model.name} v${model.version} is gone`);
  if (sha256Hex(pkl.data) !== model.digest) {
    throw new DeploymentError(
      `INT's ${MODEL_FILE} of ${model.name} v${model.version} has sha256 ${sha256Hex(pkl.data).slice(0, 12)}, not the approved ${model.digest.slice(0, 12)}; refusing to copy it`,
    );
  }
  progress.info(
    `copying ${model.name} v${model.version} (${files.length} files, sha256 ${model.digest.slice(0, 12)}) from ${from.ref.workspace} to ${to.ref.workspace}`,
  );
  for (const f of files) await dst.getBlockBlobClient(`${dstPrefix}${f.rel}`).uploadData(f.data);
  const back = await dst.getBlobClient(`${dstPrefix}${MODEL_FILE}`).downloadToBuffer();
  if (sha256Hex(back) !== model.digest)
    throw new DeploymentError(
      `the copy of ${MODEL_FILE} in ${to.ref.workspace} has sha256 ${sha256Hex(back).slice(0, 12)} after upload; refusing to register it`,
    );

  await target.ensureContainer(model.name);
  await to.ml.modelVersions.createOrUpdate(to.ref.resourceGroup, to.ref.workspace, model.name, model.version, {
    properties: {
      modelType: MODEL_TYPE,
      modelUri: await to.datastoreUri(dstPrefix.replace(/\/$/, "")),
      description: `copy of ${model.name} v${model.version} from ${from.ref.workspace} (trained by job ${job}); sha256 ${model.digest}`,
      tags: { ...model.tags, [SHA_TAG]: model.digest, "mlops.copied_from": `${armWorkspaceId(from.ref)}/models/${model.name}/versions/${model.version}` },
      properties: { [SHA_TAG]: model.digest },
    },
  });
  return "copied";
}
