/** run.json, the pipeline's result file (contract in docs/ml.md), validated at the edge. */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { TrainingError } from "../../core/errors.js";

const runJson = z.object({
  run_id: z.string().regex(/^[A-Za-z0-9_-]+$/),
  experiment_id: z.string(),
  metrics: z.record(z.string(), z.number()),
  model_dir: z.string(),
  model_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  artifact_path: z.string().min(1).default("model"),
  params: z.record(z.string(), z.unknown()).optional(),
});

export type RunJson = z.infer<typeof runJson>;

export async function readRunJson(file: string): Promise<RunJson> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch {
    throw new TrainingError(`the pipeline finished but ${file} is missing or not JSON; check ml/pipeline.py`);
  }
  const r = runJson.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new TrainingError(`${file}: ${i.path.join(".") || "(top level)"}: ${i.message}; ml/pipeline.py broke the run.json contract`);
  }
  return r.data;
}
