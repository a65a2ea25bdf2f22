/**
 * The training environment: ml/conda.yml on a base image, registered as an environment version named by the
 * content hash of (image, conda file). An unchanged conda.yml gives the same version, so Azure ML reuses the
 * image it built before; nothing is rebuilt.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { EnvironmentError } from "../../core/errors.js";
import { CONDA_FILE, normalizeText } from "../../source/fingerprint.js";
import { isNotFound } from "./armErrors.js";
import type { WorkspaceClients } from "./workspaceClients.js";

export const ENV_ASSET_NAME = "mlops-training-env";

export function environmentVersion(image: string, conda: string): string {
  return createHash("sha256").update(`${image}\n${conda}`).digest("hex").slice(0, 16);
}

/** The base image: MLOPS_AZURE_BASE_IMAGE, else the one the scoring component uses (one place to change it). */
export async function baseImage(configured: string | undefined): Promise<string> {
  if (configured) return configured;
  const { DEFAULT_BASE_IMAGE } = await import("../../../components/scoringEndpoint.js");
  return DEFAULT_BASE_IMAGE;
}

export interface EnvironmentAsset {
  id: string;
  version: string;
  created: boolean;
}

export async function ensureEnvironmentAsset(repoRoot: string, ws: WorkspaceClients, image: string): Promise<EnvironmentAsset> {
  let conda: string;
  try {
    conda = normalizeText(await readFile(path.join(repoRoot, CONDA_FILE))).toString("utf8");
  } catch {
    throw new EnvironmentError(`${CONDA_FILE} not found in ${repoRoot}; it defines the training environment`);
  }
  const version = environmentVersion(image, conda);
  const { resourceGroup, workspace } = ws.ref;
  try {
    const existing = await ws.ml.environmentVersions.get(resourceGroup, workspace, ENV_ASSET_NAME, version);
    return { id: existing.id!, version, created: false };
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const created = await ws.ml.environmentVersions.createOrUpdate(resourceGroup, workspace, ENV_ASSET_NAME, version, {
    properties: { image, condaFile: conda, osType: "Linux", description: `training environment: ${CONDA_FILE} on ${image}` },
  });
  return { id: created.id!, version, created: true };
}
