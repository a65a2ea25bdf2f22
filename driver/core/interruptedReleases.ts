/**
 * Releases left `running` by a process that died. Only the holder of the release lock may run a release, so a
 * caller that holds the lock knows every `running` record is a crash: its running step becomes failed with code
 * `interrupted`, the release becomes `failed` (resumable), and the crash is one `interrupted` event in its log.
 * Idempotent: a release already marked is `failed`, so whichever command notices first (status, release, resume,
 * approve, promote) writes the event and the others find nothing to do.
 */
import type { Progress, ReleaseStore } from "./ports.js";
import { STEPS, type Release } from "./release.js";

/** Call only while holding the release lock. Returns the releases it marked. */
export async function markInterrupted(store: ReleaseStore, stamp: () => string, progress: Progress): Promise<Release[]> {
  const marked: Release[] = [];
  for (const r of await store.list()) {
    if (r.state !== "running") continue;
    const step = STEPS.find((s) => r.steps[s].status === "running");
    if (step) {
      r.steps[step].status = "failed";
      r.steps[step].error = { code: "interrupted", message: "the process ended while this step ran" };
    }
    r.state = "failed";
    r.updatedAt = stamp();
    r.events.push({ at: r.updatedAt, event: "interrupted", ...(step ? { detail: `at ${step}; resume with 'mlops resume ${r.id}'` } : {}) });
    await store.save(r);
    progress.info(`release ${r.id} was interrupted${step ? ` at ${step}` : ""}; resume it with 'mlops resume ${r.id}'`);
    marked.push(r);
  }
  return marked;
}

/** Where a release stopped: its failed (or still running) step and why, e.g. "deploy-int (interrupted)". */
export function stoppedAt(r: Release): { step: string; code?: string; message?: string } | undefined {
  const step = STEPS.find((s) => r.steps[s].status === "failed" || r.steps[s].status === "running");
  if (!step) return undefined;
  const err = r.steps[step].error;
  return { step, ...(err ? { code: err.code, message: err.message } : {}) };
}
