/**
 * Staged (blue/green) rollout: the new deployment gets its traffic in steps (e.g. 10% -> 50% -> 100%); after
 * each step the driver observes for a while, then checks the new deployment's health and error rate. A failed
 * check sends all traffic back to the old deployment (0% new) and ends the rollout as `rolled-back`. The
 * traffic mechanics (a router, Azure ML endpoint traffic) are behind `RolloutControl`, so this logic is
 * unit-tested with fakes.
 */
import type { UpstreamCounters } from "../router/routerTypes.js";
import { errorRateBetween } from "../router/routerTypes.js";
import type { RolloutRecord, RolloutSettings, RolloutStepRecord } from "./rolloutTypes.js";
import { runShadowPhase, type ShadowControl, type ShadowSettings } from "./shadowPhase.js";
import type { ShadowRecord } from "./shadowTypes.js";

export interface RolloutControl {
  /** Gives the new deployment `percent` of the traffic and the old one the rest. */
  setNewWeight(percent: number): Promise<void>;
  /** Health of the new deployment itself (not through the router). */
  health(): Promise<{ ok: boolean; detail: string }>;
  /** Monotonic traffic counters of the new deployment. */
  counters(): Promise<UpstreamCounters>;
  /** Lets `seconds` of traffic flow (an implementation may send probe requests meanwhile). */
  observe(seconds: number): Promise<void>;
  /** Mirroring of live requests to the new deployment, for a shadow phase (absent: the target cannot mirror). */
  readonly shadow?: ShadowControl;
}

export interface RolloutRun {
  from: string;
  to: string;
  fromVersion?: string;
  toVersion: string;
  settings: RolloutSettings;
  /** a shadow phase before the first step (mirrored requests compared with the live answers) */
  shadow?: ShadowSettings;
  control: RolloutControl;
  /** one line per step, for progress output */
  onStep?: (step: RolloutStepRecord) => void;
  /** the shadow phase's record, for progress output */
  onShadow?: (shadow: ShadowRecord) => void;
  now?: () => Date;
}

const pct = (x: number): string => `${(x * 100).toFixed(1).replace(/\.0$/, "")}%`;

export async function runStagedRollout(run: RolloutRun): Promise<RolloutRecord> {
  const { control, settings } = run;
  const now = run.now ?? (() => new Date());
  const steps: RolloutStepRecord[] = [];
  const record = (s: RolloutStepRecord): void => {
    steps.push(s);
    run.onStep?.(s);
  };
  const base = { from: run.from, to: run.to, ...(run.fromVersion ? { fromVersion: run.fromVersion } : {}), toVersion: run.toVersion };

  let shadow: ShadowRecord | undefined;
  const withShadow = (): { shadow?: ShadowRecord } => (shadow ? { shadow } : {});
  const rollBack = async (why: string, moved = true): Promise<RolloutRecord> => {
    await control.setNewWeight(0);
    const old = `${run.from}${run.fromVersion ? ` (v${run.fromVersion})` : ""}`;
    return { ...base, outcome: "rolled-back", steps, ...withShadow(), detail: `${why}; ${moved ? "all traffic back on" : "all traffic stays on"} ${old}` };
  };

  // Before any traffic: the new deployment must answer its health check.
  const preAt = now().toISOString();
  const pre = await control.health();
  record({
    percent: 0,
    startedAt: preAt,
    endedAt: now().toISOString(),
    healthy: pre.ok,
    requests: 0,
    errors: 0,
    errorRate: 0,
    passed: pre.ok,
    detail: `pre-check: ${pre.detail}`,
  });
  if (!pre.ok) return rollBack(`${run.to} (v${run.toVersion}) failed its health check before taking traffic: ${pre.detail}`);

  // Shadow: the new deployment answers copies of live requests (its answers dropped) and must agree with the live ones.
  if (run.shadow) {
    shadow = await runShadowPhase({ from: run.from, to: run.to, settings: run.shadow, control, now });
    run.onShadow?.(shadow);
    if (!shadow.passed) return rollBack(`shadow of ${run.shadow.percent}% for ${run.shadow.seconds}s failed before any user traffic: ${shadow.detail}`, false);
  }

  for (const percent of settings.steps) {
    const startedAt = now().toISOString();
    let step: RolloutStepRecord;
    try {
      await control.setNewWeight(percent);
      const before = await control.counters();
      await control.observe(settings.observeSeconds);
      const after = await control.counters();
      const h = await control.health();
      const e = errorRateBetween(before, after);
      const problems: string[] = [];
      if (!h.ok) problems.push(`unhealthy: ${h.detail}`);
      if (e.requests < settings.minRequests) problems.push(`only ${e.requests} request(s) reached it (need ${settings.minRequests} to judge)`);
      if (e.rate > settings.maxErrorRate) problems.push(`error rate ${pct(e.rate)} (${e.errors}/${e.requests}) > ${pct(settings.maxErrorRate)}`);
      step = {
        percent,
        startedAt,
        endedAt: now().toISOString(),
        healthy: h.ok,
        requests: e.requests,
        errors: e.errors,
        errorRate: Number(e.rate.toFixed(5)),
        passed: problems.length === 0,
        detail: problems.length ? problems.join("; ") : `${e.requests} requests, ${e.errors} errors (${pct(e.rate)}), healthy`,
      };
    } catch (err) {
      step = {
        percent,
        startedAt,
        endedAt: now().toISOString(),
        healthy: false,
        requests: 0,
        errors: 0,
        errorRate: 0,
        passed: false,
        detail: `check could not run: ${(err as Error).message}`,
      };
    }
    record(step);
    if (!step.passed) return rollBack(`step ${percent}% failed: ${step.detail}`);
  }
  return {
    ...base,
    outcome: "completed",
    steps,
    ...withShadow(),
    detail: `${run.to} (v${run.toVersion}) takes 100% after ${settings.steps.map((s) => `${s}%`).join(" -> ")}`,
  };
}

/** One line for a rolled-back rollout: stopped in shadow (no user traffic reached the new version), or a failed canary. */
export function rolloutFailure(version: string, r: RolloutRecord): string {
  return r.shadow && !r.shadow.passed
    ? `v${version} failed its prod shadow test and took no user traffic (${r.detail})`
    : `v${version} failed its prod canary and was rolled back (${r.detail})`;
}
