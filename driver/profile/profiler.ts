/**
 * The profiler: loads an endpoint at increasing concurrency, one level after another, and stops at the first
 * level that breaks the SLO (or after the last level). Optionally samples the CPU and memory of the local
 * serving process tree while each level runs.
 */
import { runLoadLevel, type LoadRequest, type LevelMeasurement } from "./loadLevel.js";
import { startResourceSampler } from "./processTreeSampler.js";
import type { LevelResult, ProfileRun, ResourceUsage, Slo } from "./profileTypes.js";
import { fmtMs, fmtPct, judgeLevel } from "./sloCheck.js";

export interface ProfileSettings {
  /** Concurrency levels, strictly increasing. */
  concurrency: readonly number[];
  /** Seconds of load per level. */
  secondsPerLevel: number;
  /** Seconds of discarded load before the first level (connections, caches, lazy imports). */
  warmupSeconds: number;
  slo: Slo;
}

export interface ProfileOptions {
  request: LoadRequest;
  settings: ProfileSettings;
  /** PID of the local serving process (its descendants are counted too). */
  pid?: number;
  /** One line per level, for progress output. */
  onLevel?: (level: LevelResult) => void;
  now?: () => Date;
  /** Replaceable for tests. */
  runLevel?: (req: LoadRequest, concurrency: number, durationS: number) => Promise<LevelMeasurement>;
}

export function toLevelResult(m: LevelMeasurement, slo: Slo, resources?: ResourceUsage): LevelResult {
  const attempts = m.requests + m.errors;
  const errorRate = attempts === 0 ? 0 : (m.non2xx + m.errors) / attempts;
  const figures = { p95Ms: m.p95Ms, p99Ms: m.p99Ms, errorRate, requests: m.requests, errors: m.errors };
  const { withinSlo, verdict } = judgeLevel(figures, slo);
  return {
    concurrency: m.concurrency,
    durationS: m.durationS,
    requests: m.requests,
    throughputRps: m.durationS > 0 ? Number((m.ok / m.durationS).toFixed(2)) : 0,
    p50Ms: round3(m.p50Ms),
    p95Ms: round3(m.p95Ms),
    p99Ms: round3(m.p99Ms),
    maxMs: round3(m.maxMs),
    non2xx: m.non2xx,
    errors: m.errors,
    errorRate: Number(errorRate.toFixed(5)),
    withinSlo,
    verdict,
    ...(resources ? { resources } : {}),
  };
}

export async function runProfile(opts: ProfileOptions): Promise<ProfileRun> {
  const now = opts.now ?? (() => new Date());
  const run = opts.runLevel ?? runLoadLevel;
  const { settings, request } = opts;
  const startedAt = now().toISOString();
  if (settings.warmupSeconds > 0) await run(request, settings.concurrency[0] ?? 1, settings.warmupSeconds);
  const levels: LevelResult[] = [];
  let stoppedBecause = `all ${settings.concurrency.length} levels within the SLO`;
  for (const c of settings.concurrency) {
    const sampler = opts.pid ? startResourceSampler(opts.pid) : undefined;
    const m = await run(request, c, settings.secondsPerLevel);
    const resources = sampler?.stop();
    const level = toLevelResult(m, settings.slo, resources);
    levels.push(level);
    opts.onLevel?.(level);
    if (!level.withinSlo) {
      stoppedBecause = `concurrency ${c} broke the SLO: ${level.verdict}`;
      break;
    }
  }
  return { url: request.url, startedAt, endedAt: now().toISOString(), slo: { ...settings.slo }, levels, stoppedBecause };
}

/** One line per level for progress output. */
export function describeLevel(l: LevelResult): string {
  const res = l.resources ? `, cpu ${l.resources.cpuCores.toFixed(2)} cores, rss ${(l.resources.peakRssBytes / 1024 ** 2).toFixed(0)} MiB` : "";
  return `c=${l.concurrency}: ${l.throughputRps.toFixed(1)} req/s, p50 ${fmtMs(l.p50Ms)} p95 ${fmtMs(l.p95Ms)} p99 ${fmtMs(l.p99Ms)}, errors ${fmtPct(l.errorRate)}${res}${l.withinSlo ? "" : ` (SLO broken: ${l.verdict})`}`;
}

const round3 = (x: number): number => Number(x.toFixed(3));
