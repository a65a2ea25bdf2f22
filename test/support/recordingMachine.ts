/**
 * A release machine on the fake target that records what a user sees: the progress lines printed while it
 * runs and the lock purposes it takes (shown to whoever is refused the lock). For tests that assert the exact
 * record and output of a release.
 */
import { parseReleaseConfig, type ReleaseConfig } from "../../driver/config/releaseConfig.js";
import type { Progress } from "../../driver/core/ports.js";
import type { Release } from "../../driver/core/release.js";
import { ReleaseStateMachine } from "../../driver/core/releaseStateMachine.js";
import { championThenApprovedChallenger } from "./coreHarness.js";
import { FakeTarget } from "./fakeTarget.js";

export const recordingConfig: ReleaseConfig = parseReleaseConfig({
  model: { name: "diabetes-ridge" },
  gate: { metrics: { rmse: { greater_is_better: false, threshold: 60 } } },
});

export interface Recorded {
  t: FakeTarget;
  m: ReleaseStateMachine;
  /** "start <step>: <what>", "ok <step>: <detail>", "FAILED <step>: <detail>", "info <message>" */
  lines: string[];
  locks: string[];
  /** A machine on the same target and the same recorders, e.g. with another config. */
  again(cfg?: ReleaseConfig): ReleaseStateMachine;
}

export function recordingMachine(t = new FakeTarget(), cfg: ReleaseConfig = recordingConfig): Recorded {
  const lines: string[] = [];
  const locks: string[] = [];
  const progress: Progress = {
    stepStarted: (step, what) => void lines.push(`start ${step}: ${what}`),
    stepFinished: (step, ok, detail) => void lines.push(`${ok ? "ok" : "FAILED"} ${step}: ${detail}`),
    info: (message) => void lines.push(`info ${message}`),
  };
  const lock = t.store.lock.bind(t.store);
  t.store.lock = async (purpose: string) => {
    locks.push(purpose);
    return lock(purpose);
  };
  let n = 0;
  const make = (c: ReleaseConfig) =>
    new ReleaseStateMachine({ target: t, config: c, progress, newId: () => `rel-${++n}`, now: () => new Date(Date.UTC(2026, 11, 2, 5, 0, n)) });
  return { t, m: make(cfg), lines, locks, again: (c = cfg) => make(c) };
}

/**
 * coreHarness's "v1 champion in PROD, v2 approved" on this recording machine and its target; the metrics stay as
 * they are unless given.
 */
export async function recordedChallenger(rec: Recorded, metrics: FakeTarget["metrics"] | null = null) {
  return { ...rec, ...(await championThenApprovedChallenger(() => rec.m, metrics, rec.t)) };
}

/** The audit trail as "<event>: <detail>" lines (or just "<event>" for an event without a detail key). */
export const trail = (r: Release): string[] => r.events.map((e) => ("detail" in e ? `${e.event}: ${e.detail}` : e.event));

export async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}
