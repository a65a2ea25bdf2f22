/**
 * The code asset: a snapshot of ml/ (the ML code, data.txt, conda.yml; not ml/tests or caches), uploaded to
 * the default datastore under a content-addressed prefix and registered as a code version named by its digest.
 * The same content is never uploaded twice: an existing code version with that digest is reused.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { digestFiles, ML_DIR, normalizeText } from "../../source/fingerprint.js";
import type { Progress } from "../../core/ports.js";
import { isNotFound } from "./armErrors.js";
import type { WorkspaceClients } from "./workspaceClients.js";

export const CODE_ASSET_NAME = "mlops-training-code";
const SKIPPED = new Set(["tests", "__pycache__", ".pytest_cache", ".mypy_cache", ".ipynb_checkpoints", ".venv", "venv", "mlruns", "outputs"]);

/** Repo-relative POSIX paths of every file in the snapshot. */
export async function listSnapshotFiles(repoRoot: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(repoRoot, rel), { withFileTypes: true })) {
      if (e.name.startsWith(".") && e.isDirectory()) continue;
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!SKIPPED.has(e.name)) await walk(child);
      } else if (e.isFile() && !e.name.endsWith(".pyc")) {
        out.push(child);
      }
    }
  };
  await walk(ML_DIR);
  return out.sort();
}

export interface CodeAsset {
  id: string;
  version: string;
  files: number;
  uploaded: boolean;
}

export async function ensureCodeAsset(repoRoot: string, ws: WorkspaceClients, progress: Progress): Promise<CodeAsset> {
  const files = await listSnapshotFiles(repoRoot);
  const version = (await digestFiles(repoRoot, files)).slice(0, 20);
  const { resourceGroup, workspace } = ws.ref;
  try {
    const existing = await ws.ml.codeVersions.get(resourceGroup, workspace, CODE_ASSET_NAME, version);
    return { id: existing.id!, version, files: files.length, uploaded: false };
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const ds = await ws.defaultDatastore();
  const container = await ws.container();
  const prefix = `LocalUpload/mlops/${version}`;
  progress.info(`uploading the ml/ snapshot (${files.length} files) to ${ds.account}/${ds.container}/${prefix}`);
  for (const rel of files) {
    const body = normalizeText(await readFile(path.join(repoRoot, rel)));
    const name = `${prefix}/${rel.slice(ML_DIR.length + 1)}`;
    await container.getBlockBlobClient(name).uploadData(body);
  }
  const created = await ws.ml.codeVersions.createOrUpdate(resourceGroup, workspace, CODE_ASSET_NAME, version, {
    properties: {
      codeUri: `${ds.serviceUrl.replace(/\/+$/, "")}/${ds.container}/${prefix}`,
      description: `ml/ snapshot (${files.length} files), content digest ${version}`,
      isAnonymous: false,
    },
  });
  return { id: created.id!, version, files: files.length, uploaded: true };
}
