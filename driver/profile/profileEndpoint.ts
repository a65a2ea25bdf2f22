/**
 * Profiles one endpoint and sizes PROD from it: the profiler run plus the sizing recommendation, as the
 * ProfileReport recorded on a release. Target-neutral: the caller supplies the URL, the payload, and (locally)
 * the PID of the serving process tree.
 */
import type { ProfileConfig } from "../config/profileRolloutConfig.js";
import type { Progress } from "../core/ports.js";
import { describeLevel, runProfile } from "./profiler.js";
import type { ProfileReport, ResourceQuantities } from "./profileTypes.js";
import { recommendSizing } from "./sizing.js";

export interface ProfileEndpointOptions {
  stack: string;
  modelVersion?: string;
  url: string;
  /** JSON body of every request (the smoke payload) */
  body: string;
  headers?: Record<string, string>;
  pid?: number;
  config: ProfileConfig;
  /** PROD's current instance type, kept for what is not measured */
  current?: { requests: ResourceQuantities; limits: ResourceQuantities };
  progress: Progress;
}

export async function profileEndpoint(o: ProfileEndpointOptions): Promise<ProfileReport> {
  const c = o.config;
  const total = c.warmupSeconds + c.concurrency.length * c.secondsPerLevel;
  o.progress.info(
    `profiling ${o.url}: concurrency ${c.concurrency.join(", ")}, ${c.secondsPerLevel}s each (at most ${Math.ceil(total)}s); SLO p95 ${c.slo.p95Ms} ms, p99 ${c.slo.p99Ms} ms`,
  );
  const run = await runProfile({
    request: { url: o.url, body: o.body, ...(o.headers ? { headers: o.headers } : {}) },
    settings: { concurrency: c.concurrency, secondsPerLevel: c.secondsPerLevel, warmupSeconds: c.warmupSeconds, slo: c.slo },
    ...(o.pid ? { pid: o.pid } : {}),
    onLevel: (l) => o.progress.info(describeLevel(l)),
  });
  const target = { targetRps: c.targetRps, headroom: c.headroom };
  const recommendation = recommendSizing({
    levels: run.levels,
    target,
    minInstances: c.minInstances,
    memoryMargin: c.memoryMargin,
    limitFactor: c.limitFactor,
    ...(o.current ? { current: o.current } : {}),
  });
  return { stack: o.stack, ...(o.modelVersion ? { modelVersion: o.modelVersion } : {}), run, target, recommendation };
}
