import { expect } from "chai";
import { parseReleaseConfig, type ReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { ApprovalError, GateRejectedError, InvalidStateError, ReleaseLockedError, UnitTestsFailedError } from "../../../driver/core/errors.js";
import { STEPS } from "../../../driver/core/release.js";
import { FakeTarget, ProcessDied, type Effect } from "../../support/fakeTarget.js";
import { championInProd, championThenApprovedChallenger as v2Approved, machineFactory, rejection } from "../../support/coreHarness.js";

const config: ReleaseConfig = parseReleaseConfig({
  model: { name: "diabetes-ridge" },
  gate: {
    mode: "enabled",
    metrics: {
      rmse: { greater_is_better: false, threshold: 60, min_absolute_change: 0.5 },
      r2: { greater_is_better: true, threshold: 0.4 },
    },
  },
});

const machine = machineFactory(config, "20261127-0900");

/** v1 released and champion in prod; v2 (better metrics, changed code) approved and ready to promote. */
const championThenApprovedChallenger = () => v2Approved(machine);

const rejects = rejection;

describe("release state machine (core, with fake ports)", () => {
  it("runs test -> train -> gate -> register -> deploy int -> validate int and stops awaiting approval", async () => {
    const t = new FakeTarget();
    const r = await machine(t).start();
    expect(r.state).to.equal("awaiting-approval");
    for (const s of ["test", "train", "gate", "register", "deploy-int", "validate-int"] as const) expect(r.steps[s].status, s).to.equal("succeeded");
    expect(r.steps["deploy-prod"].status).to.equal("pending");
    expect(t.serving.prod).to.equal(undefined);
    expect(r.model).to.include({ name: "diabetes-ridge", version: "1" });
    expect(r.model!.tags).to.include({ "mlops.code_digest": "code1", "mlops.run_id": "run1", "mlops.git_commit": "c0ffee" });
    const stored = await t.store.load(r.id);
    expect(stored.state).to.equal("awaiting-approval");
  });

  it("approve by a listed name then promote deploys prod, validates it and crowns the champion", async () => {
    const t = new FakeTarget();
    const m = machine(t);
    const r = await m.start();
    const a = await m.approve(r.id, "bob");
    expect(a.state).to.equal("approved");
    expect(a.approval).to.include({ by: "Bob", modelVersion: "1", digest: r.model!.digest });
    expect(t.recordedApprovals).to.have.length(1);
    const p = await m.promote(r.id);
    expect(p.state).to.equal("released");
    expect(t.serving.prod).to.deep.equal({ version: "1", digest: r.model!.digest });
    expect(t.championVersion).to.equal("1");
  });

  it("a failing unit test rejects the release before any training", async () => {
    const t = new FakeTarget();
    t.testResult = { passed: 6, failed: 1 };
    const err = await rejects(machine(t).start());
    expect(err).to.be.instanceOf(UnitTestsFailedError);
    expect(err.message).to.match(/1 ML unit test\(s\) failed; nothing was trained/);
    expect(t.counts.train).to.equal(undefined);
    const [r] = await t.store.list();
    expect(r!.state).to.equal("rejected");
    expect(r!.steps.train.status).to.equal("pending");
  });

  it("a suite in which no test ran counts as a failure", async () => {
    const t = new FakeTarget();
    t.testResult = { passed: 0, failed: 0 };
    expect(await rejects(machine(t).start())).to.be.instanceOf(UnitTestsFailedError);
  });

  it("a gate failure is a recorded rejection: nothing registered, nothing deployed, reason kept", async () => {
    const t = new FakeTarget();
    t.metrics = { rmse: 70, mae: 50, r2: 0.3 };
    const err = await rejects(machine(t).start());
    expect(err).to.be.instanceOf(GateRejectedError);
    expect(err.message).to.match(/rmse 70 <= 60 failed; r2 0.3000 >= 0.4000 failed/);
    const [r] = await t.store.list();
    expect(r!.state).to.equal("rejected");
    expect(r!.gate!.outcome).to.equal("rejected");
    expect(t.versions).to.have.length(0);
    expect(t.serving.int).to.equal(undefined);
  });

  it("an error that ends a release names that release, so the CLI's --json still prints its record (gate, tests, a failed step, promote)", async () => {
    const t = new FakeTarget();
    t.metrics = { rmse: 70, mae: 50, r2: 0.3 };
    const gate = (await rejects(machine(t).start())) as GateRejectedError;
    const [rejected] = await t.store.list();
    expect(gate.releaseId).to.equal(rejected!.id);

    const t2 = new FakeTarget();
    t2.testResult = { passed: 3, failed: 1 };
    const tests = (await rejects(machine(t2).start())) as UnitTestsFailedError;
    expect(tests.releaseId).to.equal((await t2.store.list())[0]!.id);

    const t3 = new FakeTarget();
    const m3 = machine(t3);
    const r3 = await m3.start();
    await m3.approve(r3.id, "alice");
    t3.fp = { ...t3.fp, servingDigest: "score2" };
    expect(((await rejects(m3.promote(r3.id))) as InvalidStateError).releaseId).to.equal(r3.id);
    // an error before any release is touched names none
    expect(((await rejects(m3.promote("rel-20990101-000000-ffff"))) as GateRejectedError).releaseId).to.equal(undefined);
  });

  it("a missing metric fails the gate", async () => {
    const t = new FakeTarget();
    t.metrics = { rmse: 50, mae: 40 };
    const err = await rejects(machine(t).start());
    expect(err.message).to.match(/r2 is missing/);
  });

  it("a NaN metric fails the gate", async () => {
    const t = new FakeTarget();
    t.metrics = { rmse: Number.NaN, mae: 40, r2: 0.5 };
    const err = await rejects(machine(t).start());
    expect(err.message).to.match(/rmse is NaN/);
  });

  it("a model that does not beat the champion by the margin is rejected", async () => {
    const { t, m } = await championInProd(machine);
    t.fp = { ...t.fp, codeDigest: "code2" };
    t.metrics = { rmse: 53.8, mae: 44, r2: 0.46 };
    const err = await rejects(m.start());
    expect(err).to.be.instanceOf(GateRejectedError);
    expect(err.message).to.match(/vs champion v1 54: improvement 0.2000 \(need >= 0.5000\)/);
  });

  it("dry_run mode records what the gate would reject but lets the release continue", async () => {
    const t = new FakeTarget();
    t.metrics = { rmse: 70, mae: 50, r2: 0.5 };
    const r = await machine(t, { ...config, gate: { ...config.gate, mode: "dry_run" } }).start();
    expect(r.gate!.outcome).to.equal("passed-dry-run");
    expect(r.gate!.summary).to.match(/would reject: rmse 70 <= 60 failed/);
    expect(r.state).to.equal("awaiting-approval");
  });

  it("a no-change rerun reuses the training, the registered version and the int deployment", async () => {
    const t = new FakeTarget();
    const m = machine(t);
    const r1 = await m.start();
    await m.approve(r1.id, "alice");
    await m.promote(r1.id);
    const r2 = await m.start();
    expect(r2.state).to.equal("awaiting-approval");
    expect(r2.training!.reused).to.equal(true);
    expect(r2.steps.train.detail).to.match(/^reused run run1/);
    expect(r2.steps.gate.detail).to.match(/candidate is champion v1 itself/);
    expect(r2.model!.version).to.equal("1");
    expect(t.counts.train).to.equal(1);
    expect(t.counts.register).to.equal(1);
    expect(t.counts["changed-int"]).to.equal(1);
  });

  it("a no-change rerun reuses the INT profile; changed profile settings measure again", async () => {
    const t = new FakeTarget();
    const m = machine(t);
    const r1 = await m.start();
    const r2 = await m.start();
    expect(t.counts["profile-int"]).to.equal(1);
    expect(r2.steps["profile-int"].detail).to.match(new RegExp(`^reused the profile of release ${r1.id}`));
    expect(r2.profile).to.deep.equal(r1.profile);
    const slower = { ...config, profile: { ...config.profile, secondsPerLevel: config.profile.secondsPerLevel + 1 } };
    const r3 = await machine(t, slower).start();
    expect(t.counts["profile-int"]).to.equal(2);
    expect(r3.steps["profile-int"].detail).to.not.match(/reused/);
  });

  it("an approval by a name not listed for prod is refused and nothing is recorded", async () => {
    const t = new FakeTarget();
    const m = machine(t);
    const r = await m.start();
    const err = await rejects(m.approve(r.id, "mallory"));
    expect(err).to.be.instanceOf(ApprovalError);
    expect(err.message).to.equal("'mallory' may not approve releases into prod; approvers listed in Pulumi.prod.yaml: alice, Bob");
    expect((await t.store.load(r.id)).state).to.equal("awaiting-approval");
    expect(t.recordedApprovals).to.have.length(0);
  });

  it("with no approvers listed nobody can approve", async () => {
    const t = new FakeTarget();
    t.approverList.prod = [];
    const m = machine(t);
    const r = await m.start();
    expect((await rejects(m.approve(r.id, "alice"))).message).to.match(/no approvers are listed for prod/);
  });

  it("promote without an approval is refused and prod is untouched", async () => {
    const t = new FakeTarget();
    const m = machine(t);
    const r = await m.start();
    const err = await rejects(m.promote(r.id));
    expect(err).to.be.instanceOf(ApprovalError);
    expect(err.message).to.match(/is not approved; an approver listed in Pulumi.prod.yaml must run 'mlops approve/);
    expect(t.serving.prod).to.equal(undefined);
  });

  it("an approval bound to another model version or digest does not let promote through", async () => {
    const t = new FakeTarget();
    const m = machine(t);
    const r = await m.start();
    await m.approve(r.id, "alice");
    const rec = await t.store.load(r.id);
    rec.approval!.digest = "f".repeat(64);
    await t.store.save(rec);
    const err = await rejects(m.promote(r.id));
    expect(err.message).to.match(/the approval on release .* is for diabetes-ridge v1 \(ffffffffffff\), not for/);
    expect(t.serving.prod).to.equal(undefined);
  });

  it("promote refuses when the registry's artifact digest no longer matches the approved one", async () => {
    const t = new FakeTarget();
    const m = machine(t);
    const r = await m.start();
    await m.approve(r.id, "alice");
    t.versions[0]!.digest = "e".repeat(64);
    const err = await rejects(m.promote(r.id));
    expect(err.message).to.match(/no longer has digest/);
    expect(t.serving.prod).to.equal(undefined);
  });

  it("a release that failed INT validation cannot be approved", async () => {
    const t = new FakeTarget();
    t.broken.add("int:1");
    const m = machine(t);
    const err = await rejects(m.start());
    expect(err.message).to.match(/int validation failed/);
    const [r] = await t.store.list();
    expect(r!.state).to.equal("failed");
    expect((await rejects(m.approve(r!.id, "alice"))).message).to.match(/is failed, not awaiting approval/);
  });

  it("an unknown release id is a not-found error", async () => {
    const t = new FakeTarget();
    expect((await rejects(machine(t).approve("rel-20990101-000000-ffff", "alice"))).message).to.match(/no release 'rel-20990101-000000-ffff'/);
  });

  it("a second operation while one holds the lock is refused", async () => {
    const t = new FakeTarget();
    await t.store.lock("release");
    const err = await rejects(machine(t).start());
    expect(err).to.be.instanceOf(ReleaseLockedError);
  });

  it("a PROD validation failure rolls prod back to the previous version and keeps the release retryable", async () => {
    const { t, m, r2 } = await championThenApprovedChallenger();
    t.broken.add("prod:2");
    const err = await rejects(m.promote(r2.id));
    expect(err.message).to.match(/prod validation failed/);
    expect(t.serving.prod!.version).to.equal("1");
    expect(t.championVersion).to.equal("1");
    const after = await t.store.load(r2.id);
    expect(after.state).to.equal("failed");
    expect(after.steps["deploy-prod"].error!.code).to.equal("rolled-back");
    t.broken.clear();
    const done = await m.promote(r2.id);
    expect(done.state).to.equal("released");
    expect(t.serving.prod!.version).to.equal("2");
  });

  it("a PROD canary that fails is kept on the release record, prod keeps the previous version and the champion", async () => {
    const { t, m, r2 } = await championThenApprovedChallenger();
    t.canaryFails.add("prod:2");
    const err = await rejects(m.promote(r2.id));
    expect(err.message).to.match(/failed its prod canary/);
    const after = await t.store.load(r2.id);
    expect(after.state).to.equal("failed");
    expect(after.failedRollouts).to.have.length(1);
    expect(after.failedRollouts![0]).to.include({ stack: "prod", toVersion: "2", outcome: "rolled-back" });
    expect(t.serving.prod!.version).to.equal("1");
    expect(t.championVersion).to.equal("1");
  });

  it("a PROD validation failure rolls back through the target's instant rollBack when it has one", async () => {
    const { t, m, r2 } = await championThenApprovedChallenger();
    t.broken.add("prod:2");
    await rejects(m.promote(r2.id));
    expect(t.counts["rollBack-prod"]).to.equal(1);
    expect(t.serving.prod!.version).to.equal("1");
  });

  it("resume refuses a rejected release: that verdict is final", async () => {
    const t = new FakeTarget();
    t.metrics = { rmse: 99, mae: 50, r2: 0.1 };
    const m = machine(t);
    await rejects(m.start());
    const [r] = await t.store.list();
    expect(await rejects(m.resume(r!.id))).to.be.instanceOf(InvalidStateError);
  });

  it("promote refuses when either environment file changed since int validated the release, naming both files", async () => {
    const t = new FakeTarget();
    const m = machine(t);
    const r = await m.start();
    await m.approve(r.id, "alice");
    const was = t.fp.envDigest;
    t.fp = { ...t.fp, envDigest: "env2" };
    const err = await rejects(m.promote(r.id));
    expect(err).to.be.instanceOf(InvalidStateError);
    expect(err.message).to.match(
      /^the Python environment \(ml\/conda.yml or ml\/azure-training-conda.yml\) changed since release .* started; prod would serve code that int did not validate/,
    );
    expect(t.serving.prod).to.equal(undefined);
    t.fp = { ...t.fp, envDigest: was };
    expect((await m.promote(r.id)).state).to.equal("released");
  });

  it("promote refuses when score.py changed since int validated the release", async () => {
    const t = new FakeTarget();
    const m = machine(t);
    const r = await m.start();
    await m.approve(r.id, "alice");
    t.fp = { ...t.fp, servingDigest: "score2" };
    const err = await rejects(m.promote(r.id));
    expect(err).to.be.instanceOf(InvalidStateError);
    expect(err.message).to.match(/ml\/score.py changed since release .* started; prod would serve code that int did not validate/);
    expect(t.serving.prod).to.equal(undefined);
    t.fp = { ...t.fp, servingDigest: "score1" };
    expect((await m.promote(r.id)).state).to.equal("released");
  });

  it("training refuses to run when the source changed after the release started", async () => {
    const t = new FakeTarget();
    const m = machine(t);
    t.crash = { at: "tests", when: "after" };
    await rejects(m.start());
    t.reboot();
    t.fp = { ...t.fp, dataDigest: "data2" };
    const [r] = await t.store.list();
    expect((await rejects(m.resume(r!.id))).message).to.match(/changed since release .* started/);
  });

  describe("resume after a crash at each step does every step exactly once", () => {
    const candidate: Effect[] = ["tests", "train", "champion", "register", "deploy-int", "validate-int", "profile-int"];
    /** Every port call with an effect or a verdict (tests, training, champion, registry, deploys, validations,
     * profile, approval, crown), counted. */
    const everyPortCall = (t: FakeTarget) => Object.fromEntries(Object.entries(t.counts).filter(([k]) => !k.startsWith("changed-")));
    /** Each call once; the call a crash interrupted *after* it ran is made again on resume, unless the core finds
     * its result instead (train: findReusable; register: findByRun). */
    const expectedCalls = (effects: Effect[], at: Effect | "none", when: "before" | "after") =>
      Object.fromEntries(effects.map((e) => [e, e === at && when === "after" && e !== "train" && e !== "register" ? 2 : 1]));
    for (const at of candidate) {
      for (const when of ["before", "after"] as const) {
        it(`crash ${when} ${at}`, async () => {
          const t = new FakeTarget();
          t.crash = { at, when };
          const m = machine(t);
          const err = await rejects(m.start());
          expect(err).to.be.instanceOf(ProcessDied);
          t.reboot();
          const [persisted] = await t.store.list();
          expect(persisted!.state).to.equal("running");
          const r = await machine(t).resume(persisted!.id);
          expect(r.state).to.equal("awaiting-approval");
          expect(t.counts["changed-int"]).to.equal(1);
          expect(everyPortCall(t)).to.deep.equal(expectedCalls(candidate, at, when));
          expect(STEPS.filter((s) => r.steps[s].status === "succeeded")).to.have.length(7);
        });
      }
    }
    for (const at of ["deploy-prod", "validate-prod", "crown"] as Effect[]) {
      for (const when of ["before", "after"] as const) {
        it(`crash ${when} ${at}`, async () => {
          const t = new FakeTarget();
          const m = machine(t);
          const r0 = await m.start();
          await m.approve(r0.id, "alice");
          t.crash = { at, when };
          expect(await rejects(m.promote(r0.id))).to.be.instanceOf(ProcessDied);
          t.reboot();
          const persisted = await t.store.load(r0.id);
          expect(["running", "approved"]).to.include(persisted.state);
          const r = persisted.state === "running" ? await machine(t).resume(r0.id) : await machine(t).promote(r0.id);
          expect(r.state).to.equal("released");
          expect(t.counts["changed-prod"]).to.equal(1);
          expect(t.championVersion).to.equal("1");
          const production: Effect[] = ["deploy-prod", "validate-prod", "crown"];
          // champion: read by the gate, then by the downgrade check of the promote and of the resume after the crash
          expect(everyPortCall(t)).to.deep.equal({
            ...expectedCalls(candidate, "none", when),
            approval: 1,
            ...expectedCalls(production, at, when),
            champion: 3,
          });
        });
      }
    }
  });

  it("a new release marks a release left running by a dead process as interrupted, resumable", async () => {
    const t = new FakeTarget();
    t.crash = { at: "register", when: "before" };
    await rejects(machine(t).start());
    t.reboot();
    const r2 = await machine(t).start();
    const old = (await t.store.list()).find((r) => r.id !== r2.id)!;
    expect(old.state).to.equal("failed");
    expect(old.steps.register.error!.code).to.equal("interrupted");
    expect(old.events.at(-1)!.detail).to.match(/resume with 'mlops resume/);
  });
});

describe("profile-int step (core, with fake ports)", () => {
  it("profiles INT after validation and records the sizing on the release before the approval hold", async () => {
    const t = new FakeTarget();
    const r = await machine(t).start();
    expect(r.state).to.equal("awaiting-approval");
    expect(r.steps["profile-int"].status).to.equal("succeeded");
    expect(r.steps["profile-int"].detail).to.match(/^50 req\/s per instance within the SLO; recommended for prod: 2 instance\(s\)/);
    expect(r.profile?.recommendation.requests).to.deep.equal({ cpu: "250m", memory: "512Mi" });
    expect(t.counts["profile-int"]).to.equal(1);
  });

  it("is skipped, with the reason, when profile.enabled is false or the target cannot profile", async () => {
    const t = new FakeTarget();
    const off = parseReleaseConfig({ ...config, profile: { enabled: false } });
    const r = await machine(t, off).start();
    expect(r.steps["profile-int"]).to.include({ status: "skipped", detail: "profile.enabled is false in mlops.yaml" });
    expect(r.state).to.equal("awaiting-approval");
    const t2 = new FakeTarget();
    delete (t2 as { profiling?: unknown }).profiling;
    const r2 = await machine(t2).start();
    expect(r2.steps["profile-int"]).to.include({ status: "skipped", detail: "the fake target cannot profile yet" });
  });

  it("a profile that cannot run fails the release, and resume retries only that step", async () => {
    const t = new FakeTarget();
    t.profileFails = true;
    const m = machine(t);
    const err = await rejects(m.start());
    expect(err.message).to.match(/profiling int failed/);
    const failed = (await t.store.list())[0]!;
    expect(failed.state).to.equal("failed");
    t.profileFails = false;
    const r = await m.resume(failed.id);
    expect(r.state).to.equal("awaiting-approval");
    expect(t.counts["deploy-int"]).to.equal(1);
    expect(r.steps["profile-int"].attempts).to.equal(2);
  });
});
