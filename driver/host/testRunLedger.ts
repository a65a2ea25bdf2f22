/**
 * The machine's ledger of ML unit-test runs, shared by every checkout that uses the same Python environments:
 * `<venvRoot>/test-runs/<key digest>.json` holds the newest finished run with that test-step reuse key (code, tests,
 * data, environment, runner; see driver/core/reuseKeys.ts). The environments are keyed by the same conda digest,
 * so where checkouts share a venv root (MLOPS_VENV_ROOT) they also share their test outcomes, as build caches do
 * for test tasks; by default the venv root is the checkout's own .mlops/venvs and nothing is shared.
 *
 * A failed run is recorded as well: it stands for its key until the tests run again. A file that is missing,
 * truncated, over 64 KB or not of this shape reads as "no run" (the tests run), never as a pass.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { SharedTestRun, SharedTestRuns } from "../core/ports.js";
import type { ReuseKey } from "../core/release.js";
import { readJsonFile, writeJsonAtomic } from "./jsonFile.js";

const DIGEST = /^[0-9a-f]{64}$/;
const MAX_RECORD_BYTES = 64 * 1024;

const runSchema = z.object({
  key: z.object({ digest: z.string().regex(DIGEST), inputs: z.record(z.string(), z.string()) }),
  outcome: z.enum(["passed", "failed"]),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  endedAt: z.iso.datetime(),
  ranBy: z.string().min(1),
  checkout: z.string().min(1),
});

export class TestRunLedger implements SharedTestRuns {
  readonly where: string;

  constructor(
    venvRoot: string,
    private readonly checkout: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.where = path.join(venvRoot, "test-runs");
  }

  private file(key: ReuseKey): string {
    if (!DIGEST.test(key.digest)) throw new Error(`not a reuse key digest: ${key.digest.slice(0, 80)}`);
    return path.join(this.where, `${key.digest}.json`);
  }

  async newest(key: ReuseKey): Promise<SharedTestRun | undefined> {
    const file = this.file(key);
    // a record is under 1 KB: a larger file is not one of ours, and is not read into memory
    const size = await stat(file).then(
      (s) => s.size,
      () => 0,
    );
    if (size > MAX_RECORD_BYTES) return undefined;
    const parsed = runSchema.safeParse(await readJsonFile<unknown>(file));
    // a run recorded under another key (a copied or hand-edited file) is not this key's run
    if (!parsed.success || parsed.data.key.digest !== key.digest) return undefined;
    // a pass needs tests that ran and none that failed, as in the release's own test step
    if (parsed.data.outcome === "passed" && (parsed.data.failed > 0 || parsed.data.passed === 0)) return undefined;
    return parsed.data;
  }

  async record(run: Omit<SharedTestRun, "checkout" | "endedAt">): Promise<void> {
    const entry: SharedTestRun = { ...run, endedAt: this.now().toISOString(), checkout: path.resolve(this.checkout) };
    const current = await this.newest(run.key);
    // two checkouts finishing together: the later end wins (the window between this read and the rename is the
    // only race, and either outcome is a real finished run with this key)
    if (current && current.endedAt > entry.endedAt) return;
    await writeJsonAtomic(this.file(run.key), entry);
  }
}
