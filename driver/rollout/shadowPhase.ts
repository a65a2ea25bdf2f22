/**
 * The shadow phase of a staged rollout, before its first step: `percent` of the live requests are copied to the
 * new deployment (which has no traffic weight; its answers are dropped, never returned), for `seconds`, while
 * the control observes (it may send probe traffic, as for a step). Then the recorded pairs are judged
 * (shadowCompare.ts). Mirroring is always switched off again, also when the phase fails or throws.
 */
import type { ShadowConfig } from "../config/profileRolloutConfig.js";
import { judgeShadow } from "./shadowCompare.js";
import type { ShadowPairs, ShadowRecord } from "./shadowTypes.js";

export type ShadowSettings = Omit<ShadowConfig, "enabled">;

/** Mirroring of live requests to the new deployment (a router's mirror; a fake in tests). */
export interface ShadowControl {
  /** Starts copying `percent` of the live requests to the new deployment; pairs recorded from now on. */
  start(percent: number): Promise<void>;
  /** The pairs recorded since `start`. */
  pairs(): Promise<ShadowPairs>;
  /** Stops copying. */
  stop(): Promise<void>;
}

export interface ShadowPhaseRun {
  from: string;
  to: string;
  settings: ShadowSettings;
  control: { shadow?: ShadowControl; observe(seconds: number): Promise<void> };
  now: () => Date;
}

export async function runShadowPhase(run: ShadowPhaseRun): Promise<ShadowRecord> {
  const { settings: s, now } = run;
  const startedAt = now().toISOString();
  const judge = (seen: ShadowPairs, failed?: string): ShadowRecord => {
    const rec = judgeShadow(seen, {
      from: run.from,
      to: run.to,
      percent: s.percent,
      seconds: s.seconds,
      minRequests: s.minRequests,
      tolerance: s.tolerance,
      startedAt,
      endedAt: now().toISOString(),
    });
    return failed ? { ...rec, passed: false, detail: failed } : rec;
  };
  const mirror = run.control.shadow;
  if (!mirror) return judge({ pairs: [], dropped: 0 }, `this target cannot mirror traffic to ${run.to}; turn rollout.shadow off`);
  let seen: ShadowPairs;
  try {
    await mirror.start(s.percent);
    await run.control.observe(s.seconds);
    seen = await mirror.pairs();
  } catch (e) {
    await mirror.stop().catch(() => undefined);
    return judge({ pairs: [], dropped: 0 }, `shadow could not run: ${(e as Error).message}`);
  }
  const stopped = await mirror.stop().then(
    () => undefined,
    (e: Error) => `mirroring to ${run.to} could not be switched off: ${e.message}`,
  );
  return judge(seen, stopped);
}
