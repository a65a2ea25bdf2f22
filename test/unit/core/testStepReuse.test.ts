import { expect } from "chai";
import { parseReleaseConfig, type ReleaseConfig } from "../../../driver/config/releaseConfig.js";
import type { Progress } from "../../../driver/core/ports.js";
import { ReleaseStateMachine } from "../../../driver/core/releaseStateMachine.js";
import type { Release, SourceFingerprint } from "../../../driver/core/release.js";
import { renderRelease } from "../../../driver/cli/render.js";
import { evaluateGate } from "../../../driver/core/gate.js";
import { reuseKey } from "../../../driver/core/reuseKeys.js";
import { FakeTarget, silentProgress, TEST_KEY_INPUT_CHANGES } from "../../support/fakeTarget.js";

const config: ReleaseConfig = parseReleaseConfig({
  model: { name: "diabetes-ridge" },
  gate: { mode: "enabled", metrics: { rmse: { greater_is_better: false, threshold: 60 } } },
});

/** the champion must be beaten by 0.5 % */
const strict: ReleaseConfig = parseReleaseConfig({
  model: { name: "m" },
  gate: { mode: "enabled", metrics: { rmse: { greater_is_better: false, threshold: 60, min_relative_change: 0.005 } } },
});

let seq = 0;
function machine(t: FakeTarget, o: { reuse?: boolean; progress?: Progress } = {}): ReleaseStateMachine {
  return new ReleaseStateMachine({
    target: t,
    config,
    progress: o.progress ?? silentProgress,
    ...(o.reuse === false ? { reuse: false } : {}),
    newId: () => `rel-20261202-0600${String(seq++ % 100).padStart(2, "0")}-abcd`,
  });
}

async function settle(p: Promise<Release>): Promise<void> {
  await p.catch(() => undefined);
}

describe("test step reuse (core, with fake ports)", () => {
  it("a no-change rerun reuses the passing tests and says so in the step, the events and the progress line", async () => {
    const t = new FakeTarget();
    const r1 = await machine(t).start();
    const lines: string[] = [];
    const progress: Progress = { stepStarted() {}, info() {}, stepFinished: (s, ok, d) => void lines.push(`${s} ${ok} ${d}`) };
    const r2 = await machine(t, { progress }).start();
    expect(t.counts.tests).to.equal(1);
    expect(r2.state).to.equal("awaiting-approval");
    expect(r2.tests).to.deep.include({ passed: 7, failed: 0, reusedFrom: r1.id });
    expect(r2.testsKey).to.deep.equal(r1.testsKey);
    const reused = new RegExp(`^reused the passing run of release ${r1.id} \\(7 passed\\): code, tests, data, environment, runner unchanged`);
    expect(r2.steps.test.detail).to.match(reused);
    expect(r2.events.find((e) => e.event === "test succeeded")!.detail).to.match(reused);
    expect(lines.find((l) => l.startsWith("test true"))).to.match(/reused the passing run/);
  });

  it("a reuse of a reuse names the release that ran the tests", async () => {
    const t = new FakeTarget();
    const r1 = await machine(t).start();
    await machine(t).start();
    const r3 = await machine(t).start();
    expect(t.counts.tests).to.equal(1);
    expect(r3.tests!.reusedFrom).to.equal(r1.id);
  });

  for (const [input, change] of TEST_KEY_INPUT_CHANGES) {
    it(`runs the tests again when only the ${input} input changed, and shows that input's new value in the key`, async () => {
      const t = new FakeTarget();
      const r1 = await machine(t).start();
      change(t);
      const r2 = await machine(t).start();
      expect(t.counts.tests).to.equal(2);
      expect(r2.tests!.reusedFrom).to.equal(undefined);
      expect(r2.steps.test.detail).to.match(/^7 passed in/);
      const differs = Object.keys(r1.testsKey!.inputs).filter((k) => r1.testsKey!.inputs[k] !== r2.testsKey!.inputs[k]);
      expect(differs).to.deep.equal([input]);
      expect(r2.testsKey!.digest).to.not.equal(r1.testsKey!.digest);
    });
  }

  it("a failing run is not reused: the next release with the same inputs runs the tests again", async () => {
    const t = new FakeTarget();
    t.testResult = { passed: 6, failed: 1 };
    await settle(machine(t).start());
    t.testResult = { passed: 7, failed: 0 };
    const r2 = await machine(t).start();
    expect(t.counts.tests).to.equal(2);
    expect(r2.tests!.reusedFrom).to.equal(undefined);
  });

  it("after a failing run with the same inputs (a --no-reuse rerun), an older passing run is not reused", async () => {
    const t = new FakeTarget();
    await machine(t).start();
    t.testResult = { passed: 6, failed: 1 };
    await settle(machine(t, { reuse: false }).start());
    t.testResult = { passed: 7, failed: 0 };
    const r3 = await machine(t).start();
    expect(t.counts.tests).to.equal(3);
    expect(r3.tests!.reusedFrom).to.equal(undefined);
    const r4 = await machine(t).start();
    expect(t.counts.tests).to.equal(3);
    expect(r4.tests!.reusedFrom).to.equal(r3.id);
  });

  it("after a run the test port could not even start (no counts recorded), an older passing run is not reused", async () => {
    const t = new FakeTarget();
    await machine(t).start();
    const run = t.tests.runUnitTests;
    t.tests.runUnitTests = async () => {
      throw new Error("pytest could not run");
    };
    await settle(machine(t, { reuse: false }).start());
    t.tests.runUnitTests = run;
    const r3 = await machine(t).start();
    expect(t.counts.tests).to.equal(2);
    expect(r3.tests!.reusedFrom).to.equal(undefined);
  });

  it("--no-reuse runs the tests, the training and the profile again, and keeps that on resume", async () => {
    const t = new FakeTarget();
    await machine(t).start();
    const r2 = await machine(t, { reuse: false }).start();
    expect(r2.noReuse).to.equal(true);
    expect(t.counts.tests).to.equal(2);
    expect(t.counts.train).to.equal(2);
    expect(t.counts["profile-int"]).to.equal(2);
    expect(r2.training!.reused).to.equal(false);
    expect(r2.steps.test.detail).to.match(/\(--no-reuse\)$/);
    expect(r2.steps.train.detail).to.match(/\(--no-reuse\)$/);
    expect(r2.steps["profile-int"].detail).to.not.match(/reused/);

    t.crash = { at: "train", when: "before" };
    await settle(machine(t, { reuse: false }).start());
    t.reboot();
    const [stopped] = (await t.store.list()).filter((r) => r.state === "running");
    const resumed = await machine(t).resume(stopped!.id);
    expect(resumed.training!.reused).to.equal(false);
    expect(t.counts.train).to.equal(3);
  });

  it("--no-reuse after a promotion: a retrained model with the champion's sha256 is the champion itself, not asked to beat itself", async () => {
    const champion = { name: "m", version: "1", digest: "a".repeat(64), runId: "run1", metrics: { rmse: 54 }, tags: {} };
    const gated = (modelSha256: string) => evaluateGate(strict.gate, { runId: "run2", metrics: { rmse: 54 }, modelSha256 }, champion);
    expect(gated("a".repeat(64))).to.deep.include({ outcome: "passed" });
    expect(gated("a".repeat(64)).summary).to.match(/candidate is champion v1 itself, comparison skipped/);
    expect(gated("b".repeat(64))).to.deep.include({ outcome: "rejected" });
  });

  it("a run whose inputs changed while the tests ran keeps no key and is never reused", async () => {
    const t = new FakeTarget();
    t.duringTests = () => (t.fp = { ...t.fp, testsDigest: "tests-edited" });
    const r1 = await machine(t).start();
    expect(r1.testsKey).to.equal(undefined);
    expect(r1.steps.test.detail).to.match(/not reusable: tests changed while the tests ran/);
    t.duringTests = undefined;
    t.fp = { ...t.fp, testsDigest: "tests1" };
    const r2 = await machine(t).start();
    expect(t.counts.tests).to.equal(2);
    expect(r2.tests!.reusedFrom).to.equal(undefined);
  });

  it("a test port that does not say how it runs the tests, or a fingerprint without a tests digest, is never reused", async () => {
    const t = new FakeTarget();
    const { runner: _runner, ...withoutRunner } = t.tests;
    (t as { tests: object }).tests = withoutRunner;
    await machine(t).start();
    const second = await machine(t).start();
    expect(t.counts.tests).to.equal(2);
    expect(second.steps.test.detail).to.match(/^7 passed in \d+\.\ds$/); // ran; nothing to call "not reusable"

    const u = new FakeTarget();
    const { testsDigest: _d, ...old }: SourceFingerprint = u.fp;
    u.fp = old;
    await machine(u).start();
    const r = await machine(u).start();
    expect(u.counts.tests).to.equal(2);
    expect(renderRelease(r)).to.match(/test\s+no key: this run is never reused/);
  });

  it("mlops status <id> shows each reuse key's inputs by name", async () => {
    const t = new FakeTarget();
    const r1 = await machine(t).start();
    const text = renderRelease(await machine(t).start());
    expect(text).to.match(new RegExp(`test\\s+key ${r1.testsKey!.digest.slice(0, 12)}, reused from release ${r1.id}\\n`));
    for (const [name, value] of Object.entries({ code: "code1", tests: "tests1", data: "data1", environment: "env1", runner: "fake pytest" })) {
      expect(text).to.match(new RegExp(`\\n\\s+${name}\\s+${value}\\s+\\(`));
    }
    expect(text).to.match(/train\s+reused run run1\n\s+code\s+code1/);
    expect(text).to.match(/profile\s+reused\n\s+model\s+v1 sha256/);
  });

  it("mlops status <id> says what each reuse input is the digest of", async () => {
    const t = new FakeTarget();
    await machine(t).start();
    const text = renderRelease(await machine(t).start());
    const described = (name: string) => [...text.matchAll(new RegExp(`^\\s+${name}\\s+.*?  \\((.*)\\)$`, "gm"))].map((m) => m[1]);
    expect(described("code")).to.deep.equal(["ml/**/*.py outside ml/tests", "ml/**/*.py outside ml/tests"]); // test and train keys
    expect(described("tests")).to.deep.equal(["ml/tests/** and ml/'s other files (pytest.ini, smoke.json)"]);
    expect(described("data")).to.deep.equal(["ml/data.txt", "ml/data.txt"]);
    expect(described("environment")).to.deep.equal(Array(3).fill("ml/conda.yml (+ ml/azure-training-conda.yml)")); // test, train, profile
    expect(described("runner")).to.deep.equal(["the command that runs the tests"]);
    expect(described("model")).to.deep.equal(["registered version and sha256 of the model file"]);
    expect(described("serving")).to.deep.equal(["ml/score.py"]);
    expect(described("settings")).to.deep.equal(["mlops.yaml profile settings"]);
  });

  it("a reuse key is the digest of its named inputs, whatever order they are named in", () => {
    const key = reuseKey({ code: "c1", data: "d1" });
    expect(reuseKey({ data: "d1", code: "c1" }).digest).to.equal(key.digest);
    expect(reuseKey({ code: "d1", data: "c1" }).digest).to.not.equal(key.digest);
    expect(key.digest).to.match(/^[0-9a-f]{64}$/);
  });

  it("inputs that changed while the tests ran are named in order, and the run keeps no key", async () => {
    const t = new FakeTarget();
    t.duringTests = () => (t.fp = { ...t.fp, testsDigest: "tests-edited", dataDigest: "data-edited" });
    const r = await machine(t)
      .start()
      .catch(() => undefined);
    const [rec] = await t.store.list();
    expect(r).to.equal(undefined); // the data changed since the release started: training refuses
    expect(rec!.testsKey).to.equal(undefined);
    expect(rec!.steps.test.detail).to.match(/ \(not reusable: data, tests changed while the tests ran\)$/);
  });

  it("the newest run is the one that finished last, not the release started last: an older release's failing resume stands", async () => {
    let tick = 0;
    const clocked = (o: { reuse?: boolean } = {}) =>
      new ReleaseStateMachine({
        target: t,
        config,
        progress: silentProgress,
        ...(o.reuse === false ? { reuse: false } : {}),
        now: () => new Date(Date.UTC(2026, 11, 2, 6, 0, tick++)),
        newId: () => `rel-20261202-0700${String(seq++ % 100).padStart(2, "0")}-abcd`,
      });
    const t = new FakeTarget();
    t.crash = { at: "tests", when: "before" };
    await settle(clocked({ reuse: false }).start());
    t.reboot();
    const [older] = await t.store.list();
    const newer = await clocked().start();
    expect(newer.tests!.reusedFrom).to.equal(undefined);
    t.testResult = { passed: 6, failed: 1 };
    await settle(clocked().resume(older!.id)); // --no-reuse is kept on resume: the tests run, and fail
    expect((await t.store.load(older!.id)).steps.test.status).to.equal("failed");
    t.testResult = { passed: 7, failed: 0 };
    const next = await clocked().start();
    expect(next.tests!.reusedFrom).to.equal(undefined);
    expect(t.counts.tests).to.equal(3);
  });

  it("a test run cut short by a crash is not a finished run: an older passing run is still reused", async () => {
    const t = new FakeTarget();
    const r1 = await machine(t).start();
    t.crash = { at: "tests", when: "before" };
    await settle(machine(t, { reuse: false }).start());
    t.reboot();
    const [, dead] = await machine(t).status();
    expect(dead!.steps.test).to.deep.include({ status: "failed", error: { code: "interrupted", message: "the process ended while this step ran" } });
    expect(dead!.testsKey!.digest).to.equal(r1.testsKey!.digest);
    const r3 = await machine(t).start();
    expect(r3.tests!.reusedFrom).to.equal(r1.id);
    expect(t.counts.tests).to.equal(1);
  });
});
