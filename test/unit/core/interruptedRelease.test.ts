/**
 * State that tells the truth after a crash: a release whose process died shows as interrupted as soon as anyone
 * looks (status, release, resume, promote), the crash is one event in its log however many commands notice it,
 * a release interrupted in PROD is finished by promote (not refused as "not approved"), and status says plainly
 * when PROD is left mid-rollout.
 */
import { expect } from "chai";
import { parseReleaseConfig, type ReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { InvalidStateError } from "../../../driver/core/errors.js";
import { stoppedAt } from "../../../driver/core/interruptedReleases.js";
import { attentionNotes } from "../../../driver/core/statusNotes.js";
import { STEPS, type Release } from "../../../driver/core/release.js";
import { renderStatus, statusJson } from "../../../driver/cli/render.js";
import { FileReleaseStore } from "../../../driver/store/fileReleaseStore.js";
import { FakeTarget, ProcessDied, type Effect } from "../../support/fakeTarget.js";
import { championThenApprovedChallenger, machineFactory } from "../../support/coreHarness.js";
import { recordingMachine, rejects } from "../../support/recordingMachine.js";
import { tempDir } from "../../support/tempDirs.js";

const config: ReleaseConfig = parseReleaseConfig({
  model: { name: "diabetes-ridge" },
  gate: { mode: "enabled", metrics: { rmse: { greater_is_better: false, threshold: 60 } } },
});

const machine = machineFactory(config, "20261127-0930");

async function crashed(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ProcessDied) return;
    throw e;
  }
  throw new Error("expected the simulated crash");
}

/** A release killed while `at` ran; the next process sees what was persisted. */
async function releaseKilledAt(at: Effect, when: "before" | "after" = "before") {
  const t = new FakeTarget();
  t.crash = { at, when };
  await crashed(machine(t).start());
  t.reboot();
  const [r] = await t.store.list();
  return { t, id: r!.id };
}

/** v1 released; v2 approved, then killed during its PROD rollout. */
async function killedInProd(at: Effect, when: "before" | "after") {
  const { t, m, r1, r2 } = await championThenApprovedChallenger(machine);
  t.crash = { at, when };
  await crashed(m.promote(r2.id));
  t.reboot();
  return { t, r1, r2 };
}

/**
 * A process killed while it wrote the record that starts the next step (or ends a phase): the write never lands, so
 * on disk the release is `running` with no step running, the steps before it done. `dies` picks that write.
 */
async function killedBetweenSteps(t: FakeTarget, run: (m: ReturnType<typeof machine>) => Promise<unknown>, dies: (r: Release) => boolean) {
  const save = t.store.save.bind(t.store);
  t.store.save = async (r: Release) => {
    if (!dies(r)) return save(r);
    t.store.frozen = true;
    throw new ProcessDied("process died while it saved the release record");
  };
  await crashed(run(machine(t)));
  t.store.save = save;
  t.reboot();
}

const BETWEEN = "the process ended between two steps, before this one started";

const interruptedEvents = (r: Release) => r.events.filter((e) => e.event === "interrupted");

describe("interrupted releases (core, with fake ports)", () => {
  it("status shows a release whose process died as interrupted at once, and records the crash once", async () => {
    const { t, id } = await releaseKilledAt("train");
    expect((await t.store.load(id)).state).to.equal("running"); // what the crash left on disk
    const [seen] = await machine(t).status();
    expect(seen!.state).to.equal("failed");
    expect(seen!.steps.train.status).to.equal("failed");
    expect(seen!.steps.train.error).to.deep.include({ code: "interrupted" });
    // persisted, not only shown
    expect((await t.store.load(id)).state).to.equal("failed");
    await machine(t).status();
    await machine(t).status();
    expect(interruptedEvents(await t.store.load(id))).to.have.length(1);
    expect(interruptedEvents(await t.store.load(id))[0]!.detail).to.match(/at train; resume with 'mlops resume rel-/);
  });

  it("status takes the release lock only when a record says running, under the purpose 'status'", async () => {
    const { t, again, locks } = recordingMachine();
    await again().start();
    locks.length = 0;
    await again().status();
    expect(locks).to.deep.equal([]); // nothing to mark: a command starting now is never refused because of status
    t.fp = { ...t.fp, codeDigest: "code2" };
    t.crash = { at: "train", when: "before" };
    await rejects(again().start());
    t.reboot();
    locks.length = 0;
    await again().status();
    expect(locks).to.deep.equal(["status"]);
  });

  it("status leaves a running release alone while a live process holds the release lock", async () => {
    const { t, id } = await releaseKilledAt("train");
    // the same record in a file store, whose lock names a live pid (this process)
    const files = new FileReleaseStore(tempDir("mlops-live-"));
    await files.save(await t.store.load(id));
    (t as { store: unknown }).store = files;
    const held = await t.store.lock("resume (a live command in this very process)");
    try {
      const [seen] = await machine(t).status();
      expect(seen!.state).to.equal("running");
      expect(interruptedEvents(seen!)).to.have.length(0);
    } finally {
      await held.release();
    }
    expect((await machine(t).status())[0]!.state).to.equal("failed");
  });

  it("resume records the interruption in the release's log before it continues, once", async () => {
    const { t, id } = await releaseKilledAt("register");
    const r = await machine(t).resume(id);
    expect(r.state).to.equal("awaiting-approval");
    expect(interruptedEvents(r)).to.have.length(1);
    expect(interruptedEvents(r)[0]!.detail).to.match(/^at register/);
  });

  for (const [at, when] of [
    ["deploy-prod", "before"],
    ["deploy-prod", "after"],
    ["crown", "before"],
  ] as const) {
    it(`promote of a release interrupted in PROD (${when} ${at}) finishes it instead of refusing it as not approved`, async () => {
      const { t, r2 } = await killedInProd(at, when);
      const r = await machine(t).promote(r2.id);
      expect(r.state).to.equal("released");
      expect(t.serving.prod!.version).to.equal("2");
      expect(t.championVersion).to.equal("2");
      expect(interruptedEvents(r)).to.have.length(1);
    });
  }

  it("promote of a release interrupted before the approval hold says to resume it", async () => {
    const { t, id } = await releaseKilledAt("deploy-int");
    try {
      await machine(t).promote(id);
      expect.fail("expected a refusal");
    } catch (e) {
      expect(e).to.be.instanceOf(InvalidStateError);
      expect((e as Error).message).to.match(new RegExp(`release ${id} stopped at deploy-int .*before the approval hold; run 'mlops resume ${id}'`));
    }
  });

  for (const step of ["test", "train"] as const) {
    it(`a release killed before it saved ${step} as running shows as interrupted before ${step} (not merely failed), and resumes from it`, async () => {
      const t = new FakeTarget();
      await killedBetweenSteps(
        t,
        (m) => m.start(),
        (r) => r.steps[step].status === "running",
      );
      const [onDisk] = await t.store.list();
      const id = onDisk!.id;
      expect(onDisk!.state).to.equal("running");
      expect(STEPS.filter((s) => onDisk!.steps[s].status !== "pending")).to.deep.equal(step === "test" ? [] : ["test"]);

      const [seen] = await machine(t).status();
      expect(seen!.state).to.equal("failed");
      expect(stoppedAt(seen!)).to.deep.equal({ step, code: "interrupted", message: BETWEEN });
      expect(interruptedEvents(seen!).map((e) => e.detail)).to.deep.equal([`before ${step}; resume with 'mlops resume ${id}'`]);
      expect(statusJson("fake", [seen!], []).releases[0]!.interruptedAt).to.equal(step);
      expect(renderStatus([seen!], [])).to.include(`  ${id}  ${"interrupted".padEnd(17)} -  at ${step}`);

      const r = await machine(t).resume(id);
      expect(r.state).to.equal("awaiting-approval");
      expect(t.counts.tests).to.equal(1); // run once in all: before the kill (train) or on resume (test)
      expect(t.counts.train).to.equal(1);
      expect(r.steps[step].attempts).to.equal(1);
      expect(interruptedEvents(r)).to.have.length(1);
    });
  }

  it("a release killed while it recorded the approval hold is interrupted before awaiting-approval; resume records it", async () => {
    const t = new FakeTarget();
    await killedBetweenSteps(
      t,
      (m) => m.start(),
      (r) => r.state === "awaiting-approval",
    );
    const [seen] = await machine(t).status();
    expect(stoppedAt(seen!)).to.deep.equal({ step: "awaiting-approval", code: "interrupted", message: BETWEEN });
    const refused = await machine(t)
      .promote(seen!.id)
      .catch((e: unknown) => e as Error);
    expect((refused as Error).message).to.equal(
      `release ${seen!.id} stopped at awaiting-approval (interrupted) before the approval hold; run 'mlops resume ${seen!.id}', then approve it`,
    );
    expect((await machine(t).resume(seen!.id)).state).to.equal("awaiting-approval");
    expect(t.counts["deploy-int"]).to.equal(1);
  });

  it("a skipped step is done: a release with profile-int skipped, killed recording the approval hold, is before awaiting-approval", async () => {
    const t = new FakeTarget();
    delete (t as { profiling?: unknown }).profiling; // a target that cannot profile: profile-int is skipped
    await killedBetweenSteps(
      t,
      (m) => m.start(),
      (r) => r.state === "awaiting-approval",
    );
    const [seen] = await machine(t).status();
    expect(seen!.steps["profile-int"].status).to.equal("skipped");
    expect(stoppedAt(seen!)).to.deep.equal({ step: "awaiting-approval", code: "interrupted", message: BETWEEN });
  });

  it("a promote killed before it saved validate-prod as running: PROD is left mid-rollout, interrupted at validate-prod", async () => {
    const { t, r2 } = await championThenApprovedChallenger(machine);
    await killedBetweenSteps(
      t,
      (m) => m.promote(r2.id),
      (r) => r.steps["validate-prod"].status === "running",
    );
    const releases = await machine(t).status();
    const seen = releases.find((r) => r.id === r2.id)!;
    expect(stoppedAt(seen)).to.deep.equal({ step: "validate-prod", code: "interrupted", message: BETWEEN });
    expect(attentionNotes(releases)).to.have.length(1);
    expect(attentionNotes(releases)[0]).to.match(
      new RegExp(`^prod is left mid-rollout by release ${r2.id} \\(v2, interrupted at validate-prod\\): it may serve v2 and v1 side by side`),
    );
  });

  it("a promote killed after PROD was validated, before the crowning, is interrupted before champion; promote finishes it", async () => {
    const { t, r2 } = await killedInProd("crown", "before");
    const seen = (await machine(t).status()).find((r) => r.id === r2.id)!;
    expect(stoppedAt(seen)).to.deep.equal({ step: "champion", code: "interrupted", message: BETWEEN });
    expect(interruptedEvents(seen)[0]!.detail).to.equal(`before champion; resume with 'mlops resume ${r2.id}'`);
    expect(attentionNotes([seen])).to.deep.equal([]);
    expect((await machine(t).promote(r2.id)).state).to.equal("released");
    expect(t.championVersion).to.equal("2");
  });

  it("a release that stopped by itself, or is still running, has no stop to report", async () => {
    const t = new FakeTarget();
    const r = await machine(t).start();
    expect(stoppedAt(r)).to.equal(undefined);
    expect(stoppedAt({ ...r, state: "running" })).to.equal(undefined);
  });

  it("while PROD is left mid-rollout, status says so plainly, naming the release and both ways out", async () => {
    const { t, r1, r2 } = await killedInProd("deploy-prod", "after");
    const releases = await machine(t).status();
    const notes = attentionNotes(releases);
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(new RegExp(`^prod is left mid-rollout by release ${r2.id} \\(v2, interrupted at deploy-prod\\)`));
    expect(notes[0]).to.include(`'mlops resume ${r2.id}'`).and.to.include("'mlops rollback prod'").and.to.include(`v${r1.model!.version}`);
    await machine(t).resume(r2.id);
    expect(attentionNotes(await machine(t).status())).to.deep.equal([]);
  });

  it("a PROD rollout that a live command is running now is said to be in progress, not left behind", async () => {
    const { t, r2 } = await killedInProd("deploy-prod", "after");
    const running = await t.store.load(r2.id); // as status sees it while the lock is held by a live promote
    expect(running.state).to.equal("running");
    expect(attentionNotes([running])).to.deep.equal([`prod rollout in progress: release ${r2.id} (v2) is at deploy-prod in a running mlops command`]);
  });
});
