/**
 * The training job's environment: ml/azure-training-conda.yml on a base image, registered as an environment
 * version named by the content hash of (image, conda file). An unchanged file gives the same version, so Azure ML
 * reuses the image it built before; nothing is rebuilt.
 *
 * Not ml/conda.yml: an Azure ML job logs to an azureml:// tracking URI, which MLflow can open only with the
 * azureml-mlflow plugin, and that plugin caps MLflow below ml/conda.yml's pin. The job file keeps ml/conda.yml's
 * model-deciding pins (test/unit/azure/trainingEnvPins.test.ts), so the scoring environment unpickles what the
 * job trained. See docs/ml.md.
 */
import { sha256Hex } from "../../../config/sha256.js";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ConfigError, EnvironmentError } from "../../core/errors.js";
import { parseCondaEnv, pinDrift } from "../../source/condaEnv.js";
import { AZURE_TRAINING_CONDA_FILE, CONDA_FILE, normalizeText } from "../../source/fingerprint.js";
import { isNotFound } from "./armErrors.js";
import type { WorkspaceClients } from "./workspaceClients.js";

export const ENV_ASSET_NAME = "mlops-training-env";

export function environmentVersion(image: string, conda: string): string {
  return sha256Hex(`${image}\n${conda}`).slice(0, 16);
}

/** The base image: MLOPS_AZURE_BASE_IMAGE, else the one the scoring component uses (one place to change it). */
export async function baseImage(configured: string | undefined): Promise<string> {
  if (configured) return configured;
  const { DEFAULT_BASE_IMAGE } = await import("../../../components/scoringEndpoint.js");
  return DEFAULT_BASE_IMAGE;
}

/** The job must train what the scoring environment (ml/conda.yml) can unpickle: refuse a drift before submitting. */
async function assertSamePins(repoRoot: string, jobConda: string): Promise<void> {
  let scoring: string;
  try {
    scoring = await readFile(path.join(repoRoot, CONDA_FILE), "utf8");
  } catch {
    throw new EnvironmentError(`${CONDA_FILE} not found in ${repoRoot}; it defines the scoring environment`);
  }
  const drift = pinDrift(
    { file: CONDA_FILE, env: parseCondaEnv(scoring, CONDA_FILE) },
    { file: AZURE_TRAINING_CONDA_FILE, env: parseCondaEnv(jobConda, AZURE_TRAINING_CONDA_FILE) },
  );
  if (drift.length > 0) {
    throw new ConfigError(`${AZURE_TRAINING_CONDA_FILE} and ${CONDA_FILE} must pin what decides the model alike: ${drift.join("; ")}; align the two files`);
  }
}

export interface EnvironmentAsset {
  id: string;
  version: string;
  created: boolean;
}

export async function ensureEnvironmentAsset(repoRoot: string, ws: WorkspaceClients, image: string): Promise<EnvironmentAsset> {
  let conda: string;
  try {
    conda = normalizeText(await readFile(path.join(repoRoot, AZURE_TRAINING_CONDA_FILE))).toString("utf8");
  } catch {
    throw new EnvironmentError(
      `${AZURE_TRAINING_CONDA_FILE} not found in ${repoRoot}; it defines the Azure ML training job's environment (ml/conda.yml's pins plus azureml-mlflow, see docs/ml.md)`,
    );
  }
  await assertSamePins(repoRoot, conda);
  const version = environmentVersion(image, conda);
  const { resourceGroup, workspace } = ws.ref;
  try {
    const existing = await ws.ml.environmentVersions.get(resourceGroup, workspace, ENV_ASSET_NAME, version);
    return { id: existing.id!, version, created: false };
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const created = await ws.ml.environmentVersions.createOrUpdate(resourceGroup, workspace, ENV_ASSET_NAME, version, {
    properties: { image, condaFile: conda, osType: "Linux", description: `training job environment: ${AZURE_TRAINING_CONDA_FILE} on ${image}` },
  });
  return { id: created.id!, version, created: true };
}
