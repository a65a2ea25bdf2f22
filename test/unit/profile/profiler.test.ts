/**
 * The profiler against a loopback server with a fixed 20 ms delay. Stated tolerance, run to run on the same
 * machine: p50 within 15% and throughput within 20% (p95/p99 depend on scheduler noise on a shared 2-core
 * machine and are only checked against the SLO). Bounded: 2 runs × 3 levels × 1.5 s.
 */
import { expect } from "chai";
import { runProfile, type ProfileSettings } from "../../../driver/profile/profiler.js";
import type { ProfileRun } from "../../../driver/profile/profileTypes.js";
import { startFixedDelayServer, type FixedDelayServer } from "../../support/fixedDelayServer.js";

const DELAY_MS = 20;
const settings: ProfileSettings = { concurrency: [1, 2, 4], secondsPerLevel: 1.5, warmupSeconds: 0.5, slo: { p95Ms: 150, p99Ms: 300, maxErrorRate: 0.01 } };
const within = (a: number, b: number, tol: number): boolean => Math.abs(a - b) <= tol * Math.max(a, b);

describe("profiler (autocannon against a loopback endpoint)", function () {
  this.timeout(30_000);
  let server: FixedDelayServer;
  before(async () => {
    server = await startFixedDelayServer(DELAY_MS);
  });
  after(() => server.close());

  const profile = (s: ProfileSettings = settings, url = `${server.url}/score`): Promise<ProfileRun> =>
    runProfile({ request: { url, body: '{"data": [[1,2,3]]}' }, settings: s, pid: process.pid });

  it("gives figures stable run to run: p50 within 15%, throughput within 20%, at every level", async () => {
    const a = await profile();
    const b = await profile();
    expect(a.levels.map((l) => l.concurrency)).to.deep.equal([1, 2, 4]);
    for (const [i, la] of a.levels.entries()) {
      const lb = b.levels[i]!;
      expect(la.withinSlo, la.verdict).to.equal(true);
      expect(la.p50Ms).to.be.within(DELAY_MS, DELAY_MS * 1.6);
      expect(la.p50Ms <= la.p95Ms && la.p95Ms <= la.p99Ms && la.p99Ms <= la.maxMs).to.equal(true);
      expect(within(la.p50Ms, lb.p50Ms, 0.15), `p50 c=${la.concurrency}: ${la.p50Ms} vs ${lb.p50Ms}`).to.equal(true);
      expect(within(la.throughputRps, lb.throughputRps, 0.2), `rps c=${la.concurrency}: ${la.throughputRps} vs ${lb.throughputRps}`).to.equal(true);
      // one request in flight per connection: throughput ≈ concurrency / latency
      expect(la.throughputRps).to.be.within((0.6 * la.concurrency * 1000) / la.p50Ms, (1.1 * la.concurrency * 1000) / DELAY_MS);
      expect(la.resources?.peakRssBytes).to.be.greaterThan(0);
    }
  });

  it("stops at the first level that breaks the SLO and says why", async () => {
    const run = await profile({ ...settings, concurrency: [1, 2, 4], secondsPerLevel: 1, warmupSeconds: 0, slo: { p95Ms: 5, p99Ms: 10, maxErrorRate: 0.01 } });
    expect(run.levels).to.have.length(1);
    expect(run.levels[0]!.withinSlo).to.equal(false);
    expect(run.stoppedBecause).to.match(/^concurrency 1 broke the SLO: p95 \d+\.\d ms > 5.00 ms/);
  });

  it("counts non-2xx responses in the error rate", async () => {
    const failing = await startFixedDelayServer(5, { status: (n) => (n % 4 === 0 ? 500 : 200) });
    try {
      const run = await runProfile({ request: { url: `${failing.url}/score`, body: "{}" }, settings: { ...settings, concurrency: [1], secondsPerLevel: 1, warmupSeconds: 0 } });
      const l = run.levels[0]!;
      expect(l.non2xx).to.be.greaterThan(0);
      expect(l.errorRate).to.be.within(0.2, 0.3);
      expect(l.withinSlo).to.equal(false);
      expect(l.verdict).to.match(/error rate 2\d(\.\d+)?% > 1%/);
    } finally {
      await failing.close();
    }
  });

  it("times a server that closes the connection after every response correctly (as azmlinfsrv's gunicorn does)", async () => {
    const closing = await startFixedDelayServer(10, { closeEachResponse: true });
    try {
      const run = await runProfile({ request: { url: `${closing.url}/score`, body: "{}" }, settings: { ...settings, concurrency: [1, 2], secondsPerLevel: 1, warmupSeconds: 0 } });
      for (const l of run.levels) {
        expect(l.p50Ms, `c=${l.concurrency}`).to.be.within(10, 25);
        // Little's law: connections ≈ throughput × latency
        expect(l.throughputRps * (l.p50Ms / 1000)).to.be.within(0.6 * l.concurrency, 1.2 * l.concurrency);
      }
    } finally {
      await closing.close();
    }
  });

  it("counts connection errors when nothing listens", async () => {
    const run = await runProfile({ request: { url: "http://127.0.0.1:1/score", body: "{}", timeoutS: 1 }, settings: { ...settings, concurrency: [1], secondsPerLevel: 0.5, warmupSeconds: 0 } });
    expect(run.levels[0]!.errors).to.be.greaterThan(0);
    expect(run.levels[0]!.withinSlo).to.equal(false);
  });
});
