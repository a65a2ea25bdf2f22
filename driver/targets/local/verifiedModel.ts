/**
 * Fetching a registered model version for a stack: its files are downloaded through the registry and model.pkl
 * must hash to the version's digest before they are put in the stack's model directory; a rejected download is
 * removed, the directory is left as it was, and nothing is deployed.
 */
import path from "node:path";
import { DeploymentError, NotFoundError } from "../../core/errors.js";
import type { Progress } from "../../core/ports.js";
import type { RegisteredModel, StackName } from "../../core/release.js";
import type { MlflowClient } from "../../mlflow/mlflowClient.js";
import { codeDigest } from "../../source/fingerprint.js";
import type { LocalPaths } from "./localPaths.js";
import { downloadModelVersion, MODEL_FILE } from "./modelArtifacts.js";

/** Returns the model directory holding the verified files. */
export async function fetchVerifiedModel(o: {
  paths: LocalPaths;
  client: MlflowClient;
  stack: StackName;
  model: RegisteredModel;
  progress: Progress;
}): Promise<string> {
  const { paths, client, stack, model, progress } = o;
  const mv = await client.getModelVersion(model.name, model.version);
  if (!mv) throw new NotFoundError(`${model.name} v${model.version} is not in the local registry; start a new release`);
  const modelDir = paths.modelDir(stack, model.name, model.version);
  progress.info(`downloading ${model.name} v${model.version} into ${path.relative(paths.repoRoot, modelDir)}`);
  const dl = await downloadModelVersion(client, mv, modelDir, model.digest);
  if (!dl.placed) {
    throw new DeploymentError(
      `${model.name} v${model.version}'s ${MODEL_FILE} hashes to ${dl.modelSha256.slice(0, 12) || "(missing)"}, not the registered ${model.digest.slice(0, 12)}; refusing to deploy it to ${stack}`,
    );
  }
  const trainedFrom = model.tags["mlops.code_digest"];
  if (trainedFrom && trainedFrom !== (await codeDigest(paths.repoRoot))) {
    progress.info(`note: ml/ changed since v${model.version} was trained; ${stack} serves the current ml/score.py`);
  }
  return modelDir;
}
