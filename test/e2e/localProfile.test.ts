/**
 * End to end: profile-int against a real azmlinfsrv (local target), and the run-to-run spread of its
 * figures. Stated tolerance on a 2-core machine, where the load generator shares the CPU with the server:
 * at concurrency 1 (server not saturated) p50 within 35% or 0.5 ms, whichever is larger, and throughput within
 * 35% (p50 is about 1.2 ms there, so scheduling jitter of 0.3 ms is already 25%: seen in CI); at the saturated
 * levels (2, 4: the server's worker uses ~0.8 core) p50 within 50% or 0.5 ms and throughput within 40%
 * (measured spread: up to ~35%). The profiler itself repeats within ~2% against a steady server
 * (bench/profileAndRouter.ts); what varies here is the machine, whose speed also moves by up to 40 % within
 * minutes (bench/cpuSpeed.sh): so the two profiles of a level run back to back (one level each), not one whole
 * profile after the other, and both see the machine in the same state.
 * Bounded: 3 levels × 2 s per profile.
 */
import { expect } from "chai";
import { ReleaseStateMachine } from "../../driver/core/releaseStateMachine.js";
import type { Release } from "../../driver/core/release.js";
import { parseReleaseConfig } from "../../driver/config/releaseConfig.js";
import { createLocalTarget, type LocalTarget } from "../../driver/targets/local/index.js";
import { LocalProfiling } from "../../driver/targets/local/localProfiling.js";
import type { ReleaseConfig } from "../../driver/config/releaseConfig.js";
import { SHARED_VENV_ROOT, makeTempRepo, RecordingProgress, type TempRepo } from "./localRepoFixture.js";

const PORTS = { mlflow: 5660, int: 5661, prod: 5662, prodBlue: 5663, prodGreen: 5664 };
const within = (a: number, b: number, tol: number, floor = 0): boolean => Math.abs(a - b) <= Math.max(tol * Math.max(a, b), floor);

describe("local target: profile-int against a real azmlinfsrv", function () {
  this.timeout(15 * 60_000);
  let repo: TempRepo;
  let target: LocalTarget;
  let release: Release;
  let config: ReleaseConfig;
  const progress = new RecordingProgress();

  before(async () => {
    repo = await makeTempRepo(PORTS);
    config = parseReleaseConfig({ ...repo.config, profile: { concurrency: [1, 2, 4], secondsPerLevel: 2, warmupSeconds: 1, targetRps: 100 } });
    target = await createLocalTarget({ repoRoot: repo.root, config, progress, venvRoot: SHARED_VENV_ROOT });
    release = await new ReleaseStateMachine({ target, config, progress }).start();
  });

  after(async () => {
    if (target) await target.down();
    if (repo && !process.env.MLOPS_E2E_KEEP) await repo.remove();
  });

  it("a release profiles INT after validation and records latency, throughput, CPU, memory and a sizing", () => {
    expect(release.state, progress.lines.slice(-5).join("\n")).to.equal("awaiting-approval");
    expect(release.steps["profile-int"].status).to.equal("succeeded");
    const levels = release.profile!.run.levels;
    expect(levels.map((l) => l.concurrency)).to.deep.equal([1, 2, 4].slice(0, levels.length));
    const first = levels[0]!;
    expect(first.withinSlo, first.verdict).to.equal(true);
    expect(first.throughputRps).to.be.greaterThan(10);
    expect(first.resources!.cpuCores).to.be.greaterThan(0);
    expect(first.resources!.peakRssBytes).to.be.greaterThan(50 * 1024 ** 2);
    const rec = release.profile!.recommendation;
    expect(rec.feasible).to.equal(true);
    expect(rec.instances).to.be.greaterThanOrEqual(2);
    if (process.env.MLOPS_E2E_VERBOSE) process.stderr.write(`    ${JSON.stringify(levels)}\n    ${rec.reasoning.join("\n    ")}\n`);
  });

  it("profiling the same endpoint twice gives figures within the stated tolerance at every level", async () => {
    const deployment = release.deployments.int!;
    const pairs = [];
    for (const concurrency of config.profile.concurrency) {
      // the local target's profiling port, configured for this one level
      const one = new LocalProfiling({ paths: target.paths, config: { ...config, profile: { ...config.profile, concurrency: [concurrency] } } });
      const [la] = (await one.profile("int", deployment, progress)).run.levels;
      const [lb] = (await one.profile("int", deployment, progress)).run.levels;
      expect(la?.concurrency).to.equal(concurrency);
      expect(lb?.concurrency).to.equal(concurrency);
      pairs.push([la!, lb!] as const);
    }
    expect(pairs.filter(([la, lb]) => la.withinSlo && lb.withinSlo).length, "levels within the SLO in both profiles").to.be.greaterThan(0);
    for (const [la, lb] of pairs) {
      if (!la.withinSlo || !lb.withinSlo) continue;
      const tol = la.concurrency === 1 ? { p50: 0.35, rps: 0.35 } : { p50: 0.5, rps: 0.4 };
      expect(within(la.p50Ms, lb.p50Ms, tol.p50, 0.5), `p50 c=${la.concurrency}: ${la.p50Ms} vs ${lb.p50Ms}`).to.equal(true);
      expect(within(la.throughputRps, lb.throughputRps, tol.rps), `rps c=${la.concurrency}: ${la.throughputRps} vs ${lb.throughputRps}`).to.equal(true);
    }
    if (process.env.MLOPS_E2E_VERBOSE) {
      for (const pair of pairs)
        process.stderr.write(`    ${pair.map((l) => `c=${l.concurrency} ${l.throughputRps}rps p50 ${l.p50Ms} p95 ${l.p95Ms} p99 ${l.p99Ms}`).join(" | ")}\n`);
    }
  });
});
