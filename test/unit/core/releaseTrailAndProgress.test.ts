/**
 * What a user sees of a release, word for word: the audit trail written to its record (event + detail), the
 * progress lines printed while it runs, and the lock each command takes. One test per path through the
 * machine (a full release, a rerun that reuses everything, a PROD failure rolled back, an interrupted release).
 */
import { expect } from "chai";
import { defaultReleaseId, lineageTags, ReleaseStateMachine } from "../../../driver/core/releaseStateMachine.js";
import { FakeTarget, silentProgress } from "../../support/fakeTarget.js";
import { recordedChallenger, recordingConfig, recordingMachine, rejects, trail } from "../../support/recordingMachine.js";

describe("release trail and progress lines (core, with fake ports)", () => {
  it("a release from start to champion writes each step's event and prints each step's start and result", async () => {
    const { t, m, lines, locks } = recordingMachine();
    t.fp = { ...t.fp, gitCommit: "0123456789abcdef0123", gitDirty: true };
    const r = await m.start();
    await m.approve(r.id, "ALICE", "looks right");
    const done = await m.promote(r.id);
    expect(trail(done)).to.deep.equal([
      "created",
      "test succeeded: 7 passed in 0.1s",
      "train succeeded: run run1 trained (rmse=54.00 mae=44.00 r2=0.4500)",
      "gate succeeded: gate passed: 1 checks (no champion yet)",
      "register succeeded: registered diabetes-ridge v1",
      "deploy-int succeeded: int serves v1",
      "validate-int succeeded: 2 predictions in range",
      "profile-int succeeded: 50 req/s per instance within the SLO; recommended for prod: 2 instance(s), requests 250m/512Mi, limits 500m/1Gi",
      "awaiting-approval: diabetes-ridge v1 validated in int",
      "approved: alice approved diabetes-ridge v1 (sha100000000)",
      "deploy-prod succeeded: prod serves v1",
      "validate-prod succeeded: 2 predictions in range",
      "released: diabetes-ridge v1 serving in prod, crowned champion",
    ]);
    expect(lines).to.deep.equal([
      "info release rel-1 started (commit 0123456789ab, uncommitted changes)",
      "start test: running the ML unit tests",
      "ok test: 7 passed in 0.1s",
      "start train: training and evaluating the model",
      "ok train: run run1 trained (rmse=54.00 mae=44.00 r2=0.4500)",
      "start gate: checking metrics against the gate and the champion",
      "ok gate: gate passed: 1 checks (no champion yet)",
      "start register: registering the model version",
      "ok register: registered diabetes-ridge v1",
      "start deploy-int: deploying to int",
      "ok deploy-int: int serves v1",
      "start validate-int: validating int (health and a scoring request)",
      "ok validate-int: 2 predictions in range",
      "start profile-int: profiling int under load (latency, throughput, sizing)",
      "ok profile-int: 50 req/s per instance within the SLO; recommended for prod: 2 instance(s), requests 250m/512Mi, limits 500m/1Gi",
      "start deploy-prod: deploying to prod",
      "ok deploy-prod: prod serves v1",
      "start validate-prod: validating prod (health and a scoring request)",
      "ok validate-prod: 2 predictions in range",
    ]);
    expect(locks).to.deep.equal(["release", "approve rel-1", "promote rel-1"]);
    expect(done.approval).to.deep.equal({
      stack: "prod",
      by: "alice",
      at: done.approval!.at,
      modelName: "diabetes-ridge",
      modelVersion: "1",
      digest: "sha1".padEnd(64, "0"),
      comment: "looks right",
      identity: { authenticated: false, source: "local", osUser: "tester", host: "test-host" },
    });
    expect(t.recordedApprovals).to.deep.equal([done.approval]);
    expect(done.tests).to.deep.equal({ passed: 7, failed: 0, durationMs: 120 });
    for (const s of ["test", "deploy-prod"] as const) {
      expect(done.steps[s]).to.include({ status: "succeeded", attempts: 1 });
      expect(done.steps[s].startedAt! <= done.steps[s].endedAt!, s).to.equal(true);
    }
    expect(done.updatedAt).to.equal(done.events.at(-1)!.at);
    expect(await t.store.load(r.id)).to.deep.equal(JSON.parse(JSON.stringify(done)));
  });

  it("a clean commit prints no 'uncommitted changes'; an approval without a comment records none", async () => {
    const { m, lines } = recordingMachine();
    const r = await m.start();
    expect(lines[0]).to.equal("info release rel-1 started (commit c0ffee)");
    const a = await m.approve(r.id, "  Bob  ");
    expect(a.approval).to.not.have.property("comment");
    expect(a.approval!.by).to.equal("Bob");
  });

  it("a second approval keeps the first, says so, and records nothing new", async () => {
    const { t, m, lines } = recordingMachine();
    const r = await m.start();
    const first = await m.approve(r.id, "alice");
    lines.length = 0;
    const second = await m.approve(r.id, "bob");
    expect(second.approval).to.deep.equal(first.approval);
    expect(lines).to.deep.equal([`info release ${r.id} was already approved by alice at ${first.approval!.at}; keeping that approval`]);
    expect(t.recordedApprovals).to.have.length(1);
    expect(trail(await t.store.load(r.id)).filter((e) => e.startsWith("approved"))).to.have.length(1);
  });

  it("a no-change rerun says what it reused at each step, and leaves the earlier release as it was", async () => {
    const { t, m, again } = recordingMachine();
    const r1 = await m.start();
    const r2 = await again().start();
    expect(trail(r2).slice(2, 5)).to.deep.equal([
      "train succeeded: reused run run1: code, data and environment unchanged since it trained (rmse=54.00 mae=44.00 r2=0.4500)",
      "gate succeeded: gate passed: 1 checks (no champion yet)",
      "register succeeded: diabetes-ridge v1 already registered from this run",
    ]);
    expect(r2.steps["profile-int"].detail).to.equal(
      `reused the profile of release ${r1.id} (same model, scoring code, environment and profile settings): 50 req/s per instance within the SLO; recommended for prod: 2 instance(s), requests 250m/512Mi, limits 500m/1Gi`,
    );
    expect(await t.store.load(r1.id)).to.deep.equal(JSON.parse(JSON.stringify(r1)));
  });

  it("a PROD validation failure rolls back: the trail, the progress lines and the step's error say to what", async () => {
    const { t, m, lines, r2 } = await recordedChallenger(recordingMachine(), { rmse: 50, mae: 40, r2: 0.5 });
    t.broken.add("prod:2");
    lines.length = 0;
    await rejects(m.promote(r2.id));
    const after = await t.store.load(r2.id);
    expect(trail(after).slice(-3)).to.deep.equal([
      "deploy-prod succeeded: prod serves v2",
      "validate-prod failed: prod validation failed: scoring returned 500",
      "rolled-back: prod serves v1 again",
    ]);
    expect(lines.slice(-2)).to.deep.equal(["FAILED validate-prod: prod validation failed: scoring returned 500", "info rolling prod back to v1"]);
    expect(after.steps["deploy-prod"]).to.include({ status: "failed" });
    expect(after.steps["deploy-prod"].error).to.deep.equal({ code: "rolled-back", message: "validation failed; prod rolled back to v1" });
    expect(after.deployments.prod).to.equal(undefined);
    expect(after.steps["validate-prod"].error).to.deep.equal({ code: "deployment", message: "prod validation failed: scoring returned 500" });
  });

  it("a target without an instant rollBack rolls PROD back by deploying the previous version", async () => {
    const rec = recordingMachine();
    delete (rec.t.environments as { rollBack?: unknown }).rollBack;
    const { t, m, r1, r2 } = await recordedChallenger(rec);
    t.broken.add("prod:2");
    await rejects(m.promote(r2.id));
    expect(t.serving.prod).to.deep.equal({ version: "1", digest: r1.model!.digest });
    expect(t.counts["deploy-prod"]).to.equal(3);
  });

  it("a PROD rollback whose previous version left the registry is reported and not attempted", async () => {
    const { t, m, lines, r2 } = await recordedChallenger(recordingMachine());
    t.broken.add("prod:2");
    t.versions = t.versions.filter((v) => v.version !== "1");
    await rejects(m.promote(r2.id));
    expect(lines.at(-1)).to.equal("info prod rollback impossible: v1 is no longer in the registry");
    expect(t.counts["rollBack-prod"]).to.equal(undefined);
    expect(t.serving.prod!.version).to.equal("2");
    const after = await t.store.load(r2.id);
    expect(after.steps["deploy-prod"].status).to.equal("succeeded");
    expect(trail(after).at(-1)).to.equal("validate-prod failed: prod validation failed: scoring returned 500");
  });

  it("nothing is rolled back when the first PROD deployment fails validation (nothing served before) or its canary fails", async () => {
    const { t, m, again } = recordingMachine();
    t.broken.add("prod:1");
    const r1 = await m.start();
    await m.approve(r1.id, "alice");
    await rejects(m.promote(r1.id));
    expect(t.counts["rollBack-prod"]).to.equal(undefined);
    expect((await t.store.load(r1.id)).steps["deploy-prod"].status).to.equal("succeeded");
    t.broken.clear();
    await m.promote(r1.id);
    t.fp = { ...t.fp, codeDigest: "code2" };
    const r2 = await again().start();
    await m.approve(r2.id, "alice");
    t.canaryFails.add("prod:2");
    await rejects(m.promote(r2.id));
    await rejects(m.promote(r2.id));
    expect(t.counts["rollBack-prod"]).to.equal(undefined);
    const after = await t.store.load(r2.id);
    expect(after.failedRollouts!.map((f) => [f.stack, f.toVersion, typeof f.at])).to.deep.equal([
      ["prod", "2", "string"],
      ["prod", "2", "string"],
    ]);
    expect(after.steps["deploy-prod"].attempts).to.equal(2);
  });

  it("a new release marks a dead one interrupted at its running step, in the trail and on screen; settled releases are left alone", async () => {
    const { t, m, again, lines, locks } = recordingMachine();
    const settled = await m.start();
    t.crash = { at: "validate-int", when: "before" };
    await rejects(again().start());
    t.reboot();
    const [, dead] = await t.store.list();
    lines.length = 0;
    await again().start();
    const after = await t.store.load(dead!.id);
    expect(after.state).to.equal("failed");
    expect(after.steps["validate-int"].error).to.deep.equal({ code: "interrupted", message: "the process ended while this step ran" });
    expect(trail(after).at(-1)).to.equal(`interrupted: at validate-int; resume with 'mlops resume ${dead!.id}'`);
    expect(lines[0]).to.equal(`info release ${dead!.id} was interrupted at validate-int; resume it with 'mlops resume ${dead!.id}'`);
    expect(await t.store.load(settled.id)).to.deep.equal(JSON.parse(JSON.stringify(settled)));
    lines.length = 0;
    const resumed = await again().resume(dead!.id);
    expect(resumed.state).to.equal("awaiting-approval");
    expect(resumed.steps["validate-int"]).to.include({ status: "succeeded", attempts: 2 });
    expect(resumed.steps["validate-int"]).to.not.have.property("error");
    expect(lines[0]).to.equal("start validate-int: validating int (health and a scoring request)");
    expect(locks.at(-1)).to.equal(`resume ${dead!.id}`);
  });

  it("a release left running between two steps is marked interrupted before what it was about to do", async () => {
    const { t, m, again, lines } = recordingMachine();
    const r = await m.start();
    const rec = await t.store.load(r.id);
    rec.state = "running";
    await t.store.save(rec);
    lines.length = 0;
    await again().start();
    const after = await t.store.load(r.id);
    expect(after.state).to.equal("failed");
    expect(trail(after).at(-1)).to.equal(`interrupted: before awaiting-approval; resume with 'mlops resume ${r.id}'`);
    expect(lines[0]).to.equal(`info release ${r.id} was interrupted before awaiting-approval; resume it with 'mlops resume ${r.id}'`);
  });

  it("lineage tags on the registered version name the release, the source digests, the run and each metric", async () => {
    const { m } = recordingMachine();
    const r = await m.start();
    expect(lineageTags(r)).to.deep.equal({
      "mlops.release": "rel-1",
      "mlops.git_commit": "c0ffee",
      "mlops.git_dirty": "false",
      "mlops.code_digest": "code1",
      "mlops.data_digest": "data1",
      "mlops.env_digest": "env1",
      "mlops.run_id": "run1",
      "mlops.model_sha256": "sha1".padEnd(64, "0"),
      "mlops.metric.rmse": "54",
      "mlops.metric.mae": "44",
      "mlops.metric.r2": "0.45",
    });
    expect(r.model!.tags).to.deep.equal(lineageTags(r));
  });

  it("release ids are rel-<UTC date>-<UTC time>-<4 hex>, from the machine's clock when no id maker is given", async () => {
    expect(defaultReleaseId(new Date("2026-12-02T05:06:07.890Z"))).to.match(/^rel-20261202-050607-[0-9a-f]{4}$/);
    const t = new FakeTarget();
    const r = await new ReleaseStateMachine({
      target: t,
      config: recordingConfig,
      progress: silentProgress,
      now: () => new Date("2027-01-31T23:59:58Z"),
    }).start();
    expect(r.id).to.match(/^rel-20270131-235958-[0-9a-f]{4}$/);
    expect(r.createdAt).to.equal("2027-01-31T23:59:58.000Z");
    const before = Date.now();
    const own = await new ReleaseStateMachine({ target: new FakeTarget(), config: recordingConfig, progress: silentProgress }).start();
    expect(Date.parse(own.createdAt)).to.be.within(before - 1000, Date.now() + 1000);
  });
});
