/**
 * Releases left `running` by a process that died. Only the holder of the release lock may run a release, so a
 * caller that holds the lock knows every `running` record is a crash: its running step becomes failed with code
 * `interrupted`, the release becomes `failed` (resumable), and the crash is one `interrupted` event in its log.
 * A process can also die between two steps (after one step's end was saved, before the next one's start was):
 * no step is running then, and the release is interrupted before the step it was about to run.
 * Idempotent: a release already marked is `failed`, so whichever command notices first (status, release, resume,
 * approve, promote) writes the event and the others find nothing to do.
 */
import type { Progress, ReleaseStore } from "./ports.js";
import { STEPS, type Release } from "./release.js";

/**
 * What a release that died between steps was about to do: its first step not done yet, `awaiting-approval` when
 * its candidate steps were all done (it was recording the approval hold), `champion` when every step was done (it
 * was crowning its model).
 */
function nextStep(r: Release): string {
  const next = STEPS.find((s) => r.steps[s].status !== "succeeded" && r.steps[s].status !== "skipped");
  if (next === "deploy-prod") return "awaiting-approval";
  return next ?? "champion";
}

/** Call only while holding the release lock. */
export async function markInterrupted(store: ReleaseStore, stamp: () => string, progress: Progress): Promise<void> {
  for (const r of await store.list()) {
    if (r.state !== "running") continue;
    const step = STEPS.find((s) => r.steps[s].status === "running");
    if (step) {
      r.steps[step].status = "failed";
      r.steps[step].error = { code: "interrupted", message: "the process ended while this step ran" };
    }
    const where = step ? `at ${step}` : `before ${nextStep(r)}`;
    r.state = "failed";
    r.updatedAt = stamp();
    r.events.push({ at: r.updatedAt, event: "interrupted", detail: `${where}; resume with 'mlops resume ${r.id}'` });
    await store.save(r);
    progress.info(`release ${r.id} was interrupted ${where}; resume it with 'mlops resume ${r.id}'`);
  }
}

/**
 * Where a release stopped: its failed (or still running) step and why, e.g. "deploy-int (interrupted)". A failed
 * release with no failed step was interrupted between two steps (nothing else fails a release without failing a
 * step): it stopped before the step it was about to run.
 */
export function stoppedAt(r: Release): { step: string; code?: string; message?: string } | undefined {
  const step = STEPS.find((s) => r.steps[s].status === "failed" || r.steps[s].status === "running");
  if (step) {
    const err = r.steps[step].error;
    return { step, ...(err ? { code: err.code, message: err.message } : {}) };
  }
  if (r.state !== "failed") return undefined;
  return { step: nextStep(r), code: "interrupted", message: "the process ended between two steps, before this one started" };
}
