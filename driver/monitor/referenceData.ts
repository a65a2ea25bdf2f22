/**
 * The reference a served model version is judged against: the data it was trained on, found by what the registry
 * recorded on the version at registration (its run id and the mlops.data_digest tag):
 *   1. the training split of that run, as the local pipeline wrote it (.mlops/runs/<stamp>/split/train.csv, whose
 *      run.json names the run), else
 *   2. ml/data.txt when its digest today is still the version's data digest.
 * Otherwise the training data is not on this machine: one line says which digest and commit to check out.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { NotFoundError } from "../core/errors.js";
import type { RegisteredModel } from "../core/release.js";
import { DATA_FILE, dataDigest } from "../source/fingerprint.js";

export const DATA_DIGEST_TAG = "mlops.data_digest";

export interface Reference {
  file: string;
  /** how it was found, for the report */
  source: string;
}

async function trainingSplitOf(runsDir: string, runId: string): Promise<string | undefined> {
  if (!runId || !existsSync(runsDir)) return undefined;
  for (const stamp of (await readdir(runsDir)).sort().reverse()) {
    const dir = path.join(runsDir, stamp);
    const run = await readFile(path.join(dir, "run.json"), "utf8").then(
      (t) => JSON.parse(t) as { run_id?: unknown },
      () => undefined,
    );
    const split = path.join(dir, "split", "train.csv");
    if (run?.run_id === runId && existsSync(split)) return split;
  }
  return undefined;
}

export async function findReference(o: { repoRoot: string; runsDir: string; model: RegisteredModel }): Promise<Reference> {
  const split = await trainingSplitOf(o.runsDir, o.model.runId);
  if (split) return { file: split, source: `training split of run ${o.model.runId}` };
  const recorded = o.model.tags[DATA_DIGEST_TAG];
  const file = path.join(o.repoRoot, DATA_FILE);
  if (recorded && existsSync(file) && (await dataDigest(o.repoRoot)) === recorded) {
    return { file, source: `${DATA_FILE} (data digest ${recorded.slice(0, 12)}, as recorded on v${o.model.version})` };
  }
  const commit = o.model.tags["mlops.git_commit"];
  throw new NotFoundError(
    `the training data of ${o.model.name} v${o.model.version} is not on this machine: ${recorded ? `${DATA_FILE} no longer has its data digest ${recorded.slice(0, 12)}` : `the version records no ${DATA_DIGEST_TAG}`} and .mlops/runs holds no split of run ${o.model.runId || "(none)"}; ${commit ? `check out ${DATA_FILE} of commit ${commit.slice(0, 12)}` : "release the model again"} and run monitor again`,
  );
}
