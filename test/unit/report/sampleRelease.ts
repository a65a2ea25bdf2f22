/** A released release with a gate, a profile and a PROD rollout, for the report tests. */
import { newRelease, STEPS, type Release } from "../../../driver/core/release.js";
import { recommendSizing } from "../../../driver/profile/sizing.js";

export function sampleRelease(): Release {
  const r = newRelease("rel-20261127-090000-abcd", "local", "diabetes-ridge", "2026-11-27T09:00:00.000Z");
  for (const s of STEPS) r.steps[s] = { status: "succeeded", attempts: 1, detail: `${s} done` };
  r.state = "released";
  r.source = { gitCommit: "0123456789abcdef", gitDirty: false, codeDigest: "c", dataDigest: "d", envDigest: "e" };
  r.training = { runId: "run7", metrics: { rmse: 53.9, mae: 42.8, r2: 0.452 }, modelSha256: "f".repeat(64), artifactUri: "runs:/run7/model", reused: false };
  r.gate = {
    mode: "enabled",
    outcome: "passed",
    checks: [
      { metric: "rmse", kind: "threshold", passed: true, detail: "rmse 53.9 <= 62" },
      { metric: "r2", kind: "threshold", passed: true, detail: "r2 0.452 >= 0.35" },
      { metric: "rmse", kind: "relative-change", passed: true, detail: "rmse 53.9 beats champion 55.1 by 2.2% (>= 0.5%)" },
    ],
    champion: { version: "3", runId: "run5", metrics: { rmse: 55.1, mae: 44.0, r2: 0.43 } },
    summary: "gate passed (3 of 3 checks)",
  };
  r.model = { name: "diabetes-ridge", version: "4", digest: "f".repeat(64), runId: "run7", metrics: r.training.metrics, tags: {} };
  const level = (c: number, rps: number, p50: number, p95: number, p99: number, ok = true) => ({
    concurrency: c,
    durationS: 5,
    requests: rps * 5,
    throughputRps: rps,
    p50Ms: p50,
    p95Ms: p95,
    p99Ms: p99,
    maxMs: p99 + 5,
    non2xx: 0,
    errors: 0,
    errorRate: 0,
    withinSlo: ok,
    verdict: ok ? "within SLO" : "p95 260 ms > 200 ms",
    resources: { cpuCores: c * 0.22, cpuCoresPeak: c * 0.25, peakRssBytes: (300 + c * 4) * 1024 ** 2, samples: 20 },
  });
  const levels = [level(1, 180, 5.2, 7.9, 11.3), level(2, 320, 5.9, 9.1, 14.8), level(4, 410, 9.4, 18.2, 30.1), level(8, 430, 18.1, 260, 420, false)];
  const target = { targetRps: 500, headroom: 0.7 };
  r.profile = {
    stack: "int",
    modelVersion: "4",
    run: {
      url: "http://127.0.0.1:5601/score",
      startedAt: "2026-11-27T09:05:00.000Z",
      endedAt: "2026-11-27T09:05:21.000Z",
      slo: { p95Ms: 200, p99Ms: 500, maxErrorRate: 0.01 },
      levels,
      stoppedBecause: "concurrency 8 broke the SLO: p95 260 ms > 200 ms",
    },
    target,
    // what the profiler records: the real sizing rule on these levels (900m / 1800m CPU at concurrency 4)
    recommendation: recommendSizing({ levels, target, minInstances: 2, memoryMargin: 1.5, limitFactor: 2 }),
  };
  r.deployments.prod = {
    stack: "prod",
    modelName: "diabetes-ridge",
    modelVersion: "4",
    digest: "f".repeat(64),
    scoringUri: "http://127.0.0.1:5602/score",
    deployedAt: "2026-11-27T09:10:00.000Z",
    previous: { modelVersion: "3", digest: "e".repeat(64) },
    detail: "prod serves v4 (green)",
    rollout: {
      from: "blue",
      to: "green",
      fromVersion: "3",
      toVersion: "4",
      outcome: "completed",
      detail: "green (v4) takes 100% after 10% -> 50% -> 100%",
      steps: [
        { percent: 0, startedAt: "a", endedAt: "b", healthy: true, requests: 0, errors: 0, errorRate: 0, passed: true, detail: "pre-check: green health 200" },
        {
          percent: 10,
          startedAt: "a",
          endedAt: "b",
          healthy: true,
          requests: 10,
          errors: 0,
          errorRate: 0,
          passed: true,
          detail: "10 requests, 0 errors (0%), healthy",
        },
        {
          percent: 50,
          startedAt: "a",
          endedAt: "b",
          healthy: true,
          requests: 50,
          errors: 0,
          errorRate: 0,
          passed: true,
          detail: "50 requests, 0 errors (0%), healthy",
        },
        {
          percent: 100,
          startedAt: "a",
          endedAt: "b",
          healthy: true,
          requests: 100,
          errors: 0,
          errorRate: 0,
          passed: true,
          detail: "100 requests, 0 errors (0%), healthy",
        },
      ],
    },
  };
  r.events.push({ at: "2026-11-27T09:11:00.000Z", event: "released", detail: "diabetes-ridge v4 serving in prod <script>alert(1)</script>" });
  return r;
}
