/**
 * Every refusal of the release core, word for word: the error class (it decides the exit code) and the one
 * line that names what is wrong and what to do. Also the rules that decide what resume, approve and promote
 * may do with a release in each state.
 */
import { expect } from "chai";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { ApprovalError, DeploymentError, InvalidStateError, MlopsError, UnitTestsFailedError } from "../../../driver/core/errors.js";
import type { Release } from "../../../driver/core/release.js";
import type { FakeTarget } from "../../support/fakeTarget.js";
import { recordingConfig, recordingMachine, rejects, trail } from "../../support/recordingMachine.js";

async function edit(t: FakeTarget, id: string, change: (r: Release) => void): Promise<void> {
  const r = await t.store.load(id);
  change(r);
  await t.store.save(r);
}

async function expectRefusal(p: Promise<unknown>, type: typeof MlopsError, message: string): Promise<void> {
  const err = await rejects(p);
  expect(err, err.message).to.be.instanceOf(type);
  expect(err.message).to.equal(message);
}

describe("release refusals and state rules (core, with fake ports)", () => {
  it("failed unit tests: the count, the last line of their output, and what to do", async () => {
    const { t, m } = recordingMachine();
    t.tests.runUnitTests = async () => ({
      passed: 6,
      failed: 2,
      durationMs: 900,
      outputTail: "FAILED ml/tests/test_a.py::x\nFAILED ml/tests/test_b.py::y\n2 failed, 6 passed in 0.9s\n\n",
    });
    await expectRefusal(
      m.start(),
      UnitTestsFailedError,
      "2 ML unit test(s) failed; nothing was trained: fix the tests under ml/tests and start a new release (2 failed, 6 passed in 0.9s)",
    );
    const [r] = await t.store.list();
    expect(r!.tests).to.deep.equal({ passed: 6, failed: 2, durationMs: 900 });
    expect(r!.steps.test.error).to.deep.equal({ code: "tests-failed", message: r!.steps.test.error!.message });
    expect(trail(r!).at(-1)).to.match(/^test failed: 2 ML unit test\(s\) failed; nothing was trained/);
  });

  it("a suite in which no test ran says so; an empty output adds nothing", async () => {
    const { t, m } = recordingMachine();
    t.tests.runUnitTests = async () => ({ passed: 0, failed: 0, durationMs: 5, outputTail: "  \n" });
    await expectRefusal(
      m.start(),
      UnitTestsFailedError,
      "0 ML unit test(s) failed (no tests ran); nothing was trained: fix the tests under ml/tests and start a new release",
    );
    t.tests.runUnitTests = async () => ({ passed: 0, failed: 3, durationMs: 5, outputTail: "" });
    await expectRefusal(m.start(), UnitTestsFailedError, "3 ML unit test(s) failed; nothing was trained: fix the tests under ml/tests and start a new release");
    t.tests.runUnitTests = async () => ({ passed: 3, failed: 1, durationMs: 5, outputTail: "" });
    await expectRefusal(m.start(), UnitTestsFailedError, "1 ML unit test(s) failed; nothing was trained: fix the tests under ml/tests and start a new release");
  });

  for (const key of ["codeDigest", "dataDigest", "envDigest"] as const) {
    it(`training refuses when ${key} changed after the release started`, async () => {
      const { t, m, again } = recordingMachine();
      t.crash = { at: "tests", when: "after" };
      await rejects(m.start());
      t.reboot();
      t.fp = { ...t.fp, [key]: "changed" };
      const [r] = await t.store.list();
      await expectRefusal(
        again().resume(r!.id),
        InvalidStateError,
        `the ML code, data or environment changed since release ${r!.id} started; start a new release with 'mlops release'`,
      );
      expect(t.counts.train).to.equal(undefined);
    });
  }

  it("a gate rejection names the failed checks and that nothing was registered", async () => {
    const { t, m } = recordingMachine();
    t.metrics = { rmse: 70, mae: 50, r2: 0.3 };
    const err = await rejects(m.start());
    expect(err.message).to.equal("gate rejected the model: rmse 70 <= 60 failed; the model was not registered (a recorded outcome, see 'mlops status rel-1')");
  });

  it("int refuses to serve a scoring file or environment that changed since the release started, naming both", async () => {
    const { t, m, again } = recordingMachine();
    t.crash = { at: "deploy-int", when: "before" };
    await rejects(m.start());
    t.reboot();
    t.fp = { ...t.fp, servingDigest: "score2" };
    await expectRefusal(
      again().resume("rel-1"),
      InvalidStateError,
      "ml/score.py changed since release rel-1 started; int would serve code this release did not test: restore it, or start a new release",
    );
    t.fp = { ...t.fp, envDigest: "env2" };
    await expectRefusal(
      again().resume("rel-1"),
      InvalidStateError,
      "ml/score.py and the Python environment (ml/conda.yml or ml/azure-training-conda.yml) changed since release rel-1 started; int would serve code this release did not test: restore it, or start a new release",
    );
    expect(t.counts["deploy-int"]).to.equal(undefined);
  });

  it("a record from before the scoring digest was kept is not refused for a changed score.py; one without a source is not checked", async () => {
    const { t, m } = recordingMachine();
    const r = await m.start();
    await m.approve(r.id, "alice");
    await edit(t, r.id, (rec) => delete rec.source!.servingDigest);
    t.fp = { ...t.fp, servingDigest: "score2" };
    expect((await m.promote(r.id)).state).to.equal("released");
    const { t: t2, m: m2 } = recordingMachine();
    const r2 = await m2.start();
    await m2.approve(r2.id, "alice");
    await edit(t2, r2.id, (rec) => delete rec.source);
    t2.fp = { ...t2.fp, envDigest: "env2" };
    expect((await m2.promote(r2.id)).state).to.equal("released");
  });

  it("a validation failure names the stack and what the validation saw", async () => {
    const { t, m } = recordingMachine();
    t.broken.add("int:1");
    await expectRefusal(m.start(), DeploymentError, "int validation failed: scoring returned 500");
  });

  it("an error that is not the core's own is recorded on the step as internal, with its text", async () => {
    const { t, m, again } = recordingMachine();
    t.environments.deploy = async () => {
      throw new Error("socket hang up");
    };
    const err = await rejects(m.start());
    expect(err.message).to.equal("socket hang up");
    let [r] = await t.store.list();
    expect(r!.steps["deploy-int"].error).to.deep.equal({ code: "internal", message: "socket hang up" });
    expect(r!.state).to.equal("failed");
    expect(r!.failedRollouts).to.equal(undefined);
    t.environments.deploy = () => Promise.reject(undefined as unknown as Error);
    expect(
      await again()
        .resume(r!.id)
        .catch((e: unknown) => e),
    ).to.equal(undefined);
    [r] = await t.store.list();
    expect(r!.steps["deploy-int"].error).to.deep.equal({ code: "internal", message: "undefined" });
    t.environments.deploy = () => Promise.reject("stack busy" as unknown as Error);
    expect(
      await again()
        .resume(r!.id)
        .catch((e: unknown) => e),
    ).to.equal("stack busy");
    [r] = await t.store.list();
    expect(r!.steps["deploy-int"].error).to.deep.equal({ code: "internal", message: "stack busy" });
    expect(r!.steps["deploy-int"].attempts).to.equal(3);
  });

  it("resume says what to run instead for a rejected, awaiting, approved or released release", async () => {
    const { t, m, again, lines } = recordingMachine();
    t.metrics = { rmse: 70, mae: 50, r2: 0.3 };
    await rejects(m.start());
    await expectRefusal(
      again().resume("rel-1"),
      InvalidStateError,
      "release rel-1 was rejected (gate: gate rejected the model: rmse 70 <= 60 failed; the model was not registered (a recorded outcome, see 'mlops status rel-1')); that is final: change the code or data and run 'mlops release'",
    );
    await edit(t, "rel-1", (r) => delete r.steps.gate.error);
    await expectRefusal(
      again().resume("rel-1"),
      InvalidStateError,
      "release rel-1 was rejected (gate: failed); that is final: change the code or data and run 'mlops release'",
    );
    await edit(t, "rel-1", (r) => (r.steps.gate.status = "succeeded"));
    await expectRefusal(
      again().resume("rel-1"),
      InvalidStateError,
      "release rel-1 was rejected (rejected); that is final: change the code or data and run 'mlops release'",
    );

    t.fp = { ...t.fp, codeDigest: "code2" };
    t.metrics = { rmse: 50, mae: 40, r2: 0.5 };
    const r = await again().start();
    await expectRefusal(again().resume(r.id), InvalidStateError, `release ${r.id} is awaiting approval; run 'mlops approve ${r.id} --as <name>'`);
    await again().approve(r.id, "alice");
    await expectRefusal(again().resume(r.id), InvalidStateError, `release ${r.id} is approved; run 'mlops promote ${r.id}'`);
    await again().promote(r.id);
    lines.length = 0;
    const same = await again().resume(r.id);
    expect(same.state).to.equal("released");
    expect(lines).to.deep.equal([`info release ${r.id} is already released; nothing to do`]);
    lines.length = 0;
    expect((await again().promote(r.id)).state).to.equal("released");
    expect(lines).to.deep.equal([`info release ${r.id} is already serving in prod; nothing to do`]);
  });

  it("approve: an empty name, a release not awaiting approval, a record without a model or INT validation are refused", async () => {
    const { t, m } = recordingMachine();
    const r = await m.start();
    await expectRefusal(
      m.approve(r.id, "   "),
      ApprovalError,
      "approver name is empty; pass --as <name> with a name listed in mlops:approvers of Pulumi.prod.yaml",
    );
    await edit(t, r.id, (rec) => delete rec.validations.int);
    await expectRefusal(m.approve(r.id, "alice"), ApprovalError, `release ${r.id} has no passing INT validation for its model; it cannot be approved`);
    const { t: t2, m: m2 } = recordingMachine();
    const r2 = await m2.start();
    await edit(t2, r2.id, (rec) => delete rec.model);
    await expectRefusal(m2.approve(r2.id, "alice"), ApprovalError, `release ${r2.id} has no passing INT validation for its model; it cannot be approved`);
    await edit(t2, r2.id, (rec) => (rec.state = "released"));
    await expectRefusal(
      m2.approve(r2.id, "alice"),
      ApprovalError,
      `release ${r2.id} is released, not awaiting approval; only a release validated in INT can be approved (see 'mlops status')`,
    );
    t2.approverList.prod = [];
    await edit(t2, r2.id, (rec) => (rec.state = "awaiting-approval"));
    await expectRefusal(m.approve(r.id, "alice"), ApprovalError, `release ${r.id} has no passing INT validation for its model; it cannot be approved`);
    const { t: t3, m: m3 } = recordingMachine();
    t3.approverList.prod = [];
    const r3 = await m3.start();
    await expectRefusal(m3.approve(r3.id, "alice"), ApprovalError, "no approvers are listed for prod; add names under mlops:approvers in Pulumi.prod.yaml");
  });

  it("promote: a release not approved, failed before prod, or rejected is refused with what to do", async () => {
    const { t, m } = recordingMachine();
    const r = await m.start();
    await expectRefusal(
      m.promote(r.id),
      ApprovalError,
      `release ${r.id} is not approved; an approver listed in Pulumi.prod.yaml must run 'mlops approve ${r.id} --as <name>' first`,
    );
    await edit(t, r.id, (rec) => (rec.state = "failed")); // no step failed: it died recording the approval hold
    await expectRefusal(
      m.promote(r.id),
      InvalidStateError,
      `release ${r.id} stopped at awaiting-approval (interrupted) before the approval hold; run 'mlops resume ${r.id}', then approve it`,
    );
    await edit(t, r.id, (rec) => (rec.state = "rejected"));
    await expectRefusal(
      m.promote(r.id),
      InvalidStateError,
      `release ${r.id} was rejected (rejected); that is final: change the code or data and run 'mlops release'`,
    );
    expect(t.counts["deploy-prod"]).to.equal(undefined);
  });

  it("a release that failed in prod resumes in prod; without an approval on record it is refused", async () => {
    const { t, m, again } = recordingMachine();
    const r = await m.start();
    await m.approve(r.id, "alice");
    t.broken.add("prod:1");
    await rejects(m.promote(r.id));
    t.broken.clear();
    await edit(t, r.id, (rec) => delete rec.approval);
    await expectRefusal(again().resume(r.id), ApprovalError, `release ${r.id} has no approval; run 'mlops approve ${r.id} --as <name>'`);
    await expectRefusal(again().promote(r.id), ApprovalError, `release ${r.id} has no approval; run 'mlops approve ${r.id} --as <name>'`);
    await edit(t, r.id, (rec) => {
      rec.approval = { stack: "prod", by: "alice", at: "then", modelName: "diabetes-ridge", modelVersion: "1", digest: rec.model!.digest };
      delete rec.model;
    });
    await expectRefusal(again().resume(r.id), ApprovalError, `release ${r.id} has no approval; run 'mlops approve ${r.id} --as <name>'`);
  });

  it("a release failed in prod but edited to a stale approval names both versions", async () => {
    const { t, m } = recordingMachine();
    const r = await m.start();
    await m.approve(r.id, "alice");
    await edit(t, r.id, (rec) => (rec.approval!.digest = "abcdef0123456789".padEnd(64, "f")));
    await expectRefusal(
      m.promote(r.id),
      ApprovalError,
      `the approval on release ${r.id} is for diabetes-ridge v1 (abcdef012345), not for diabetes-ridge v1; approve this version again`,
    );
  });

  it("an infeasible profile says no level met the SLO and recommends nothing", async () => {
    const { t, m } = recordingMachine();
    const profile = t.profiling.profile;
    t.profiling.profile = async (...a) => {
      const p = await profile(...a);
      return { ...p, run: { ...p.run, stoppedBecause: "p95 300 ms > 200 ms at concurrency 1" }, recommendation: { ...p.recommendation, feasible: false } };
    };
    const r = await m.start();
    expect(r.steps["profile-int"].detail).to.equal("no load level met the SLO (p95 300 ms > 200 ms at concurrency 1); no sizing recommended");
  });

  it("a skipped profile is recorded in the trail with its reason, and resume neither redoes nor overwrites a settled profile step", async () => {
    const off = parseReleaseConfig({ ...recordingConfig, profile: { enabled: false } });
    const { t, m, again } = recordingMachine(undefined, off);
    const r = await m.start();
    expect(trail(r).slice(-2)).to.deep.equal([
      "profile-int skipped: profile.enabled is false in mlops.yaml",
      "awaiting-approval: diabetes-ridge v1 validated in int",
    ]);
    await edit(t, r.id, (rec) => (rec.state = "failed"));
    const resumed = await again(recordingConfig).resume(r.id);
    expect(trail(resumed)).to.deep.equal([...trail(r), "awaiting-approval: diabetes-ridge v1 validated in int"]);
    await edit(t, r.id, (rec) => (rec.state = "failed"));
    const resumedOff = await again(off).resume(r.id);
    expect(trail(resumedOff)).to.deep.equal([...trail(resumed), "awaiting-approval: diabetes-ridge v1 validated in int"]);
    expect(t.counts["profile-int"]).to.equal(undefined);

    const { t: t2, m: m2, again: again2 } = recordingMachine();
    const r2 = await m2.start();
    await edit(t2, r2.id, (rec) => (rec.state = "failed"));
    const resumed2 = await again2(off).resume(r2.id);
    expect(resumed2.steps["profile-int"]).to.deep.equal(r2.steps["profile-int"]);
    expect(trail(resumed2)).to.deep.equal([...trail(r2), "awaiting-approval: diabetes-ridge v1 validated in int"]);
  });

  it("resume does not run again a step recorded as skipped", async () => {
    const { t, m, again } = recordingMachine();
    t.crash = { at: "train", when: "before" };
    await rejects(m.start());
    t.reboot();
    await edit(t, "rel-1", (rec) => (rec.steps.test = { status: "skipped", attempts: 0, detail: "not a step when this release ran" }));
    const r = await again().resume("rel-1");
    expect(r.state).to.equal("awaiting-approval");
    expect(t.counts.tests).to.equal(1);
    expect(r.steps.test.detail).to.equal("not a step when this release ran");
  });
});
