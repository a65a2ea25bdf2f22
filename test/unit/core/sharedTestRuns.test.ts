import { mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import type { Progress } from "../../../driver/core/ports.js";
import { ReleaseStateMachine } from "../../../driver/core/releaseStateMachine.js";
import type { Release } from "../../../driver/core/release.js";
import { testsReuseKey } from "../../../driver/core/reuseKeys.js";
import { runTestsAndRecord } from "../../../driver/core/testStep.js";
import { renderRelease } from "../../../driver/cli/render.js";
import { TestRunLedger } from "../../../driver/host/testRunLedger.js";
import { FakeTarget, silentProgress, TEST_KEY_INPUT_CHANGES } from "../../support/fakeTarget.js";

const config = parseReleaseConfig({
  model: { name: "diabetes-ridge" },
  gate: { mode: "enabled", metrics: { rmse: { greater_is_better: false, threshold: 60 } } },
});

/**
 * Two checkouts (each its own release store) sharing one venv root, so one ledger of test runs; the core with fake
 * ports, the ledger real on disk. One clock for the releases and the ledger, a second per call, so which run
 * finished last is never a tie of milliseconds.
 */
describe("test runs shared between checkouts of one venv root (core with fake ports, the ledger on disk)", () => {
  let root: string;
  let tick: number;
  let seq = 0;
  const now = () => new Date(Date.UTC(2026, 11, 2, 6, 0, 0) + 1000 * tick++);

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "mlops-ledger-"));
    tick = 0;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function checkout(dir: string): FakeTarget {
    const t = new FakeTarget();
    t.tests.shared = new TestRunLedger(root, dir, now);
    return t;
  }
  function machine(t: FakeTarget, o: { reuse?: boolean; progress?: Progress } = {}): ReleaseStateMachine {
    return new ReleaseStateMachine({
      target: t,
      config,
      progress: o.progress ?? silentProgress,
      now,
      ...(o.reuse === false ? { reuse: false } : {}),
      newId: () => `rel-20261202-0800${String(seq++ % 100).padStart(2, "0")}-abcd`,
    });
  }
  const settle = (p: Promise<Release>) => p.catch(() => undefined);

  it("a release in another checkout reuses the passing run, names it and where it ran, and shows it in mlops status", async () => {
    const a = checkout("/work/a");
    const b = checkout("/work/b");
    const ran = await machine(a).start();
    const reused = await machine(b).start();
    expect(a.counts.tests).to.equal(1);
    expect(b.counts.tests ?? 0).to.equal(0);
    expect(reused.state).to.equal("awaiting-approval");
    expect(reused.tests).to.deep.equal({ passed: 7, failed: 0, durationMs: 120, reusedFrom: ran.id, reusedFromCheckout: "/work/a" });
    expect(reused.testsKey).to.deep.equal(ran.testsKey);
    expect(reused.steps.test.detail).to.equal(
      `reused the passing run of release ${ran.id} in /work/a (7 passed): code, tests, data, environment, runner unchanged; shared through ${path.join(root, "test-runs")}`,
    );
    expect(renderRelease(reused)).to.match(new RegExp(`test\\s+key ${ran.testsKey!.digest.slice(0, 12)}, reused from release ${ran.id} in /work/a\\n`));
    // and a reuse of that reuse, in the same checkout, still names the run that ran the tests
    const again = await machine(b).start();
    expect(again.tests).to.deep.include({ reusedFrom: ran.id, reusedFromCheckout: "/work/a" });
    expect(b.counts.tests ?? 0).to.equal(0);
  });

  it("'mlops test' records its run: a release with the same inputs reuses it", async () => {
    const a = checkout("/work/a");
    const key = testsReuseKey(await a.source.fingerprint(), a.tests.runner);
    const { report } = await runTestsAndRecord(a, silentProgress, key, "mlops test");
    expect(report.passed).to.equal(7);
    // the outcome and where it ran, never the suite's output
    const recorded = JSON.parse(readFileSync(path.join(root, "test-runs", `${key!.digest}.json`), "utf8")) as Record<string, unknown>;
    expect(Object.keys(recorded).sort()).to.deep.equal(["checkout", "durationMs", "endedAt", "failed", "key", "outcome", "passed", "ranBy"]);
    const r = await machine(checkout("/work/b")).start();
    expect(r.steps.test.detail).to.match(/^reused the passing run of 'mlops test' in \/work\/a \(7 passed\)/);
    expect(renderRelease(r)).to.match(/reused from 'mlops test' in \/work\/a\n/);
  });

  it("a failing run in another checkout stands: this checkout's older passing run is not reused, the tests run again", async () => {
    const a = checkout("/work/a");
    const b = checkout("/work/b");
    await machine(a).start();
    b.testResult = { passed: 6, failed: 1 };
    await settle(machine(b, { reuse: false }).start());
    const r = await machine(a).start();
    expect(a.counts.tests).to.equal(2);
    expect(r.tests!.reusedFrom).to.equal(undefined);
    // and that passing run is now the newest: b reuses it
    b.testResult = { passed: 7, failed: 0 };
    const rb = await machine(b).start();
    expect(rb.tests).to.deep.include({ reusedFrom: r.id, reusedFromCheckout: "/work/a" });
  });

  it("a suite that could not run at all is recorded as a failure for its key", async () => {
    const a = checkout("/work/a");
    const b = checkout("/work/b");
    await machine(a).start();
    b.tests.runUnitTests = async () => {
      throw new Error("pytest could not run");
    };
    await settle(machine(b, { reuse: false }).start());
    const file = readdirSync(path.join(root, "test-runs"));
    expect(file).to.have.length(1);
    expect(JSON.parse(readFileSync(path.join(root, "test-runs", file[0]!), "utf8"))).to.deep.include({
      outcome: "failed",
      passed: 0,
      failed: 0,
      checkout: "/work/b",
    });
    await machine(a).start();
    expect(a.counts.tests).to.equal(2);
  });

  for (const [input, change] of TEST_KEY_INPUT_CHANGES) {
    it(`another checkout whose ${input} differs runs the tests`, async () => {
      await machine(checkout("/work/a")).start();
      const b = checkout("/work/b");
      change(b);
      const r = await machine(b).start();
      expect(b.counts.tests).to.equal(1);
      expect(r.tests!.reusedFrom).to.equal(undefined);
    });
  }

  it("--no-reuse runs the tests even with a shared passing run, and records its own", async () => {
    await machine(checkout("/work/a")).start();
    const b = checkout("/work/b");
    const forced = await machine(b, { reuse: false }).start();
    expect(b.counts.tests).to.equal(1);
    const r = await machine(checkout("/work/c")).start();
    expect(r.tests).to.deep.include({ reusedFrom: forced.id, reusedFromCheckout: "/work/b" });
  });

  it("a run whose inputs changed while the tests ran is not recorded", async () => {
    const a = checkout("/work/a");
    a.duringTests = () => (a.fp = { ...a.fp, testsDigest: "tests-edited" });
    await machine(a).start();
    expect(readdirSync(root)).to.deep.equal([]);
  });

  const damaged: Array<[string, (text: string) => string]> = [
    ["truncated", (text) => text.slice(0, text.length / 2)],
    ["empty", () => ""],
    ["another key's run", (text) => text.replace(/"digest": "[0-9a-f]{64}"/, `"digest": "${"0".repeat(64)}"`)],
    ["a pass with a failed test", (text) => text.replace(/"failed": 0/, `"failed": 1`)],
    ["a pass where no test ran", (text) => text.replace(/"passed": 7/, `"passed": 0`)],
    ["an unknown outcome", (text) => text.replace(/"outcome": "passed"/, `"outcome": "skipped"`)],
    ["over 64 KB (a valid record padded with spaces)", (text) => text.replace("{", `{${" ".repeat(64 * 1024)}`)],
  ];
  for (const [what, damage] of damaged) {
    it(`a ledger file that is ${what} reads as no run: the tests run, and the new run replaces it`, async () => {
      const ran = await machine(checkout("/work/a")).start();
      const file = path.join(root, "test-runs", `${ran.testsKey!.digest}.json`);
      writeFileSync(file, damage(readFileSync(file, "utf8")));
      const b = checkout("/work/b");
      const r = await machine(b).start();
      expect(b.counts.tests).to.equal(1);
      expect(r.tests!.reusedFrom).to.equal(undefined);
      expect(JSON.parse(readFileSync(file, "utf8"))).to.deep.include({ outcome: "passed", ranBy: r.id, checkout: "/work/b" });
    });
  }

  it("a ledger that cannot be written costs one progress line, not the release", async () => {
    writeFileSync(path.join(root, "test-runs"), "a file where the ledger's folder should be");
    const lines: string[] = [];
    const progress: Progress = { stepStarted() {}, stepFinished() {}, info: (m) => void lines.push(m) };
    const r = await machine(checkout("/work/a"), { progress }).start();
    expect(r.state).to.equal("awaiting-approval");
    expect(lines.filter((l) => /^could not record this test run in /.test(l))).to.have.length(1);
    expect(lines.find((l) => /could not record/.test(l))).to.match(/; other checkouts will run the tests again$/);
  });

  it("a run that ended earlier never replaces a later one of the same key", async () => {
    const a = checkout("/work/a");
    const key = testsReuseKey(await a.source.fingerprint(), a.tests.runner)!;
    const late = new TestRunLedger(root, "/work/late", () => new Date(Date.UTC(2026, 11, 2, 9)));
    const early = new TestRunLedger(root, "/work/early", () => new Date(Date.UTC(2026, 11, 2, 8)));
    const run = { key, outcome: "failed" as const, passed: 6, failed: 1, durationMs: 1, ranBy: "mlops test" };
    await late.record(run);
    await early.record({ ...run, outcome: "passed", passed: 7, failed: 0 });
    expect(await late.newest(key)).to.deep.include({ outcome: "failed", checkout: "/work/late" });
  });
});
