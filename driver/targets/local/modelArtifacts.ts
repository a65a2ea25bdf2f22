/**
 * Reads a registered model version's files through the tracking server: hashing its model.pkl, and
 * downloading the whole model directory for an inference server (into a temp dir, verified there, renamed only
 * when its model.pkl hashes to the registered digest).
 */
import { sha256Hex } from "../../../config/sha256.js";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { MlflowClient } from "../../mlflow/mlflowClient.js";
import type { MlflowModelVersion } from "../../mlflow/types.js";

export const MODEL_FILE = "model.pkl";

/** sha256 of the version's model.pkl, as the registry serves it. */
export async function registeredModelSha256(client: MlflowClient, name: string, version: string): Promise<string> {
  return sha256Hex(await client.downloadModelVersionArtifact(name, version, MODEL_FILE));
}

/** All files of the version, relative to its source (recursive). */
async function listFiles(client: MlflowClient, mv: MlflowModelVersion): Promise<string[]> {
  const out: string[] = [];
  if (mv.source.startsWith("mlflow-artifacts:")) {
    const walk = async (rel: string): Promise<void> => {
      for (const f of await client.listProxiedArtifacts(rel ? `${mv.source}/${rel}` : mv.source)) {
        const child = rel ? `${rel}/${f.path}` : f.path;
        if (f.is_dir) await walk(child);
        else out.push(child);
      }
    };
    await walk("");
  } else if (mv.run_id && mv.source.startsWith("runs:/")) {
    const base = mv.source.replace(/^runs:\/[^/]+\/?/, "");
    const walk = async (p: string): Promise<void> => {
      for (const f of await client.listRunArtifacts(mv.run_id!, p)) {
        if (f.is_dir) await walk(f.path);
        else out.push(base ? f.path.slice(base.length + 1) : f.path);
      }
    };
    await walk(base);
  } else {
    out.push(MODEL_FILE);
  }
  return out.sort();
}

/**
 * Downloads the version into a temp directory beside `dest` and verifies its model.pkl against `expectedSha256`
 * there, before anything is put in place: a verified download replaces `dest` (rename), a rejected or failed one
 * is removed and `dest` (perhaps what a stack serves from now) is left as it was. Returns the sha256 found.
 */
export async function downloadModelVersion(
  client: MlflowClient,
  mv: MlflowModelVersion,
  dest: string,
  expectedSha256: string,
): Promise<{ files: number; modelSha256: string; placed: boolean }> {
  const tmp = `${dest}.partial-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  let modelSha = "";
  let files: string[];
  try {
    files = await listFiles(client, mv);
    for (const rel of files) {
      const buf = await client.downloadModelVersionArtifact(mv.name, mv.version, rel);
      const target = path.join(tmp, ...rel.split("/"));
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, buf);
      if (rel === MODEL_FILE) modelSha = sha256Hex(buf);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  if (modelSha !== expectedSha256) {
    await rm(tmp, { recursive: true, force: true });
    return { files: files.length, modelSha256: modelSha, placed: false };
  }
  await rm(dest, { recursive: true, force: true });
  await mkdir(path.dirname(dest), { recursive: true });
  await rename(tmp, dest);
  return { files: files.length, modelSha256: modelSha, placed: true };
}
