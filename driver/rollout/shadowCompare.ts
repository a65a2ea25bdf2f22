/**
 * The comparison of a shadow phase, pure: pairs of answers (live and mirrored, same request) in, a verdict out.
 *
 *   - error: the new deployment answered 5xx or not at all; error rate = errors / mirrored pairs;
 *   - compared: pairs where both answered (no error) and the live answer was 2xx or 4xx;
 *   - disagreement: a compared pair whose status classes differ (2xx vs 4xx), or, both 2xx, whose predictions
 *     differ: another count, or a value with |shadow - live| > absolute + relative × |live| (numpy.isclose's
 *     rule), or non-numeric values that are not equal. The predictions are `{"predictions": [...]}` (score.py)
 *     or a bare JSON array; a body that is absent (over the recorder's cap) or not JSON is not compared;
 *   - latency: p99 (nearest rank) of the answered live and mirrored requests, and their ratio.
 * Too few compared pairs is inconclusive and fails, as a canary step with too few requests does.
 */
import type { ShadowConfig } from "../config/profileRolloutConfig.js";
import type { ShadowPair, ShadowPairs, ShadowRecord } from "./shadowTypes.js";

export type ShadowTolerance = ShadowConfig["tolerance"];

const isError = (status: number): boolean => status === 0 || status >= 500;
const ok = (status: number): boolean => status >= 200 && status < 300;

/** Nearest-rank percentile of `xs` (unsorted), undefined when empty. */
export function nearestRank(xs: readonly number[], p: number): number | undefined {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function predictionsOf(body: string | undefined): unknown[] | undefined {
  if (body === undefined) return undefined;
  try {
    const v = JSON.parse(body) as unknown;
    if (Array.isArray(v)) return v;
    const p = (v as { predictions?: unknown } | null)?.predictions;
    return Array.isArray(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** How two answers of one request compare: not comparable, agree, or disagree (with the largest numeric gap). */
export function comparePair(
  pair: ShadowPair,
  tol: Pick<ShadowTolerance, "absolute" | "relative">,
): { comparable: boolean; agree: boolean; maxAbsDiff?: number } {
  const { live, shadow } = pair;
  if (isError(live.status) || isError(shadow.status)) return { comparable: false, agree: false };
  if (ok(live.status) !== ok(shadow.status)) return { comparable: true, agree: false };
  if (!ok(live.status)) return { comparable: true, agree: true };
  const a = predictionsOf(live.body);
  const b = predictionsOf(shadow.body);
  if (!a || !b) return { comparable: false, agree: false };
  if (a.length !== b.length) return { comparable: true, agree: false };
  let agree = true;
  let maxAbsDiff: number | undefined;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (typeof x === "number" && typeof y === "number") {
      const d = Math.abs(y - x);
      maxAbsDiff = Math.max(maxAbsDiff ?? 0, d);
      // written so that NaN never agrees
      if (!(d <= tol.absolute + tol.relative * Math.abs(x))) agree = false;
    } else if (JSON.stringify(x) !== JSON.stringify(y)) agree = false;
  }
  return { comparable: true, agree, ...(maxAbsDiff !== undefined ? { maxAbsDiff } : {}) };
}

const pct = (x: number): string => `${(x * 100).toFixed(1).replace(/\.0$/, "")}%`;
const round = (x: number, digits = 5): number => Number(x.toFixed(digits));

export interface ShadowJudgement {
  from: string;
  to: string;
  percent: number;
  seconds: number;
  minRequests: number;
  tolerance: ShadowTolerance;
  startedAt: string;
  endedAt: string;
}

/** The record of a shadow phase from what the recorder saw. */
export function judgeShadow(seen: ShadowPairs, j: ShadowJudgement): ShadowRecord {
  const { pairs } = seen;
  const tol = j.tolerance;
  let errors = 0;
  let compared = 0;
  let disagreements = 0;
  let maxAbsDiff: number | undefined;
  for (const p of pairs) {
    if (isError(p.shadow.status)) errors += 1;
    const c = comparePair(p, tol);
    if (!c.comparable) continue;
    compared += 1;
    if (!c.agree) disagreements += 1;
    if (c.maxAbsDiff !== undefined) maxAbsDiff = Math.max(maxAbsDiff ?? 0, c.maxAbsDiff);
  }
  const mirrored = pairs.length;
  const errorRate = mirrored > 0 ? errors / mirrored : 0;
  const disagreementRate = compared > 0 ? disagreements / compared : 0;
  const liveP99Ms = nearestRank(
    pairs.filter((p) => p.live.status !== 0).map((p) => p.live.ms),
    99,
  );
  const shadowP99Ms = nearestRank(
    pairs.filter((p) => !isError(p.shadow.status)).map((p) => p.shadow.ms),
    99,
  );
  const p99Ratio = liveP99Ms !== undefined && shadowP99Ms !== undefined && liveP99Ms > 0 ? shadowP99Ms / liveP99Ms : undefined;

  const problems: string[] = [];
  if (errorRate > tol.maxErrorRate) problems.push(`error rate ${pct(errorRate)} (${errors}/${mirrored}) > ${pct(tol.maxErrorRate)}`);
  if (disagreementRate > tol.maxDisagreement)
    problems.push(`${pct(disagreementRate)} of answers differ from the live ones (${disagreements}/${compared}) > ${pct(tol.maxDisagreement)}`);
  if (compared < j.minRequests) problems.push(`only ${compared} mirrored request(s) could be compared (need ${j.minRequests} to judge)`);
  if (tol.maxP99Ratio !== undefined && p99Ratio !== undefined && p99Ratio > tol.maxP99Ratio)
    problems.push(`p99 ${shadowP99Ms!.toFixed(1)} ms is ${p99Ratio.toFixed(2)}x the live ${liveP99Ms!.toFixed(1)} ms (> ${tol.maxP99Ratio}x)`);
  const latency = p99Ratio !== undefined ? `, p99 ${shadowP99Ms!.toFixed(1)} ms vs live ${liveP99Ms!.toFixed(1)} ms` : "";
  const detail = problems.length
    ? problems.join("; ")
    : `${mirrored} mirrored, ${errors} errors (${pct(errorRate)}), ${disagreements}/${compared} answers differ${latency}${seen.dropped ? `, ${seen.dropped} dropped` : ""}`;
  return {
    to: j.to,
    from: j.from,
    percent: j.percent,
    seconds: j.seconds,
    startedAt: j.startedAt,
    endedAt: j.endedAt,
    mirrored,
    dropped: seen.dropped,
    errors,
    errorRate: round(errorRate),
    compared,
    disagreements,
    disagreementRate: round(disagreementRate),
    ...(maxAbsDiff !== undefined ? { maxAbsDiff: round(maxAbsDiff, 6) } : {}),
    ...(liveP99Ms !== undefined ? { liveP99Ms: round(liveP99Ms, 2) } : {}),
    ...(shadowP99Ms !== undefined ? { shadowP99Ms: round(shadowP99Ms, 2) } : {}),
    ...(p99Ratio !== undefined ? { p99Ratio: round(p99Ratio, 3) } : {}),
    passed: problems.length === 0,
    detail,
  };
}
