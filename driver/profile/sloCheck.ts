/** Judges one load level against the SLO. Pure. */
import type { LevelResult, Slo } from "./profileTypes.js";

export type LevelFigures = Pick<LevelResult, "p95Ms" | "p99Ms" | "errorRate" | "requests" | "errors">;

/** Whether a level met the SLO, and one line saying why (or why not). */
export function judgeLevel(level: LevelFigures, slo: Slo): { withinSlo: boolean; verdict: string } {
  const broken: string[] = [];
  if (level.requests + level.errors === 0) broken.push("no response at all");
  if (level.p95Ms > slo.p95Ms) broken.push(`p95 ${fmtMs(level.p95Ms)} > ${fmtMs(slo.p95Ms)}`);
  if (level.p99Ms > slo.p99Ms) broken.push(`p99 ${fmtMs(level.p99Ms)} > ${fmtMs(slo.p99Ms)}`);
  if (level.errorRate > slo.maxErrorRate) broken.push(`error rate ${fmtPct(level.errorRate)} > ${fmtPct(slo.maxErrorRate)}`);
  if (broken.length > 0) return { withinSlo: false, verdict: broken.join(", ") };
  return { withinSlo: true, verdict: `p95 ${fmtMs(level.p95Ms)}, p99 ${fmtMs(level.p99Ms)}, errors ${fmtPct(level.errorRate)}: within SLO` };
}

export const fmtMs = (ms: number): string => `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
export const fmtPct = (x: number): string => `${(x * 100).toFixed(x > 0 && x < 0.001 ? 3 : 2).replace(/\.?0+$/, "")}%`;
