/**
 * The `attention:` lines of `mlops status` (statusNotes.ts): only a PROD left between its deploy and its crowning is
 * named, with the step it stopped at, whether a dead process or a failure stopped it, and what served before; a
 * canary or validation failure that was rolled back, a release stopped before PROD and an old settled record are not.
 */
import { expect } from "chai";
import { withAllSteps, type Release } from "../../../driver/core/release.js";
import { attentionNotes } from "../../../driver/core/statusNotes.js";
import type { Effect } from "../../support/fakeTarget.js";
import { ProcessDied } from "../../support/fakeTarget.js";
import { recordingMachine, rejects } from "../../support/recordingMachine.js";

/** Releases v1..v<released> released in turn on one fake target (each a code change), then the next one approved. */
async function releasedThenApproved(released: number) {
  const rec = recordingMachine();
  const { t, again } = rec;
  for (let i = 1; i <= released + 1; i++) {
    t.fp = { ...t.fp, codeDigest: `code${i}` };
    const r = await again().start();
    await again().approve(r.id, "alice");
    if (i <= released) await again().promote(r.id);
  }
  const next = (await t.store.list()).find((r) => r.state === "approved")!;
  return { ...rec, next };
}

/** The approved release's promote killed at `at`; then `status` (a fresh machine) marks it. */
async function promoteKilled(released: number, at: Effect, when: "before" | "after") {
  const rec = await releasedThenApproved(released);
  rec.t.crash = { at, when };
  expect(await rejects(rec.again().promote(rec.next.id))).to.be.instanceOf(ProcessDied);
  rec.t.reboot();
  return { ...rec, releases: await rec.again().status() };
}

const note = (id: string, model: string, how: string, before: string) =>
  `prod is left mid-rollout by release ${id} (${model}, ${how}): it may serve ${model}${before} side by side, and ${model} is not champion; finish it with 'mlops resume ${id}', or go back with 'mlops rollback prod'`;

describe("status attention notes (core, with fake ports)", () => {
  it("names the newest released version as what served before, when the killed deploy recorded none", async () => {
    const { next, releases, again, t } = await promoteKilled(2, "deploy-prod", "after");
    // a newer release that was never released does not count as what PROD served
    t.fp = { ...t.fp, codeDigest: "code9" };
    const newer = await again().start();
    expect(newer.state).to.equal("awaiting-approval");
    expect(attentionNotes([...releases, newer])).to.deep.equal([note(next.id, "v3", "interrupted at deploy-prod", " and v2")]);
  });

  it("the first PROD deployment cut short names no earlier version", async () => {
    const { next, releases } = await promoteKilled(0, "deploy-prod", "after");
    expect(attentionNotes(releases)).to.deep.equal([note(next.id, "v1", "interrupted at deploy-prod", "")]);
  });

  it("a PROD validation that failed and could not be rolled back is named as failed, not interrupted", async () => {
    const { t, again, next } = await releasedThenApproved(1);
    t.broken.add("prod:2");
    t.versions = t.versions.filter((v) => v.version !== "1");
    await rejects(again().promote(next.id));
    expect(attentionNotes(await again().status())).to.deep.equal([note(next.id, "v2", "failed at validate-prod", " and v1")]);
  });

  it("a PROD validation failure or a canary that was rolled back leaves PROD clean: no note", async () => {
    const { t, again, next } = await releasedThenApproved(1);
    t.broken.add("prod:2");
    await rejects(again().promote(next.id));
    expect((await t.store.load(next.id)).steps["deploy-prod"].error!.code).to.equal("rolled-back");
    expect(attentionNotes(await again().status())).to.deep.equal([]);
    t.broken.clear();
    t.canaryFails.add("prod:2");
    await rejects(again().promote(next.id));
    expect((await t.store.load(next.id)).steps["deploy-prod"].status).to.equal("failed");
    expect(attentionNotes(await again().status())).to.deep.equal([]);
  });

  it("a release interrupted before PROD (in INT) is not a PROD rollout", async () => {
    const { t, again } = recordingMachine();
    t.crash = { at: "deploy-int", when: "after" };
    await rejects(again().start());
    t.reboot();
    const releases = await again().status();
    expect(releases.map((r) => r.state)).to.deep.equal(["failed"]);
    expect(attentionNotes(releases)).to.deep.equal([]);
  });

  it("a live command's rollout is named at the step it runs (validate-prod), or at deploy-prod between the two", async () => {
    const { next, t } = await releasedThenApproved(1);
    const live = (steps: Partial<Record<"deploy-prod" | "validate-prod", "running" | "succeeded" | "pending">>): Release => {
      const r = JSON.parse(JSON.stringify(next)) as Release;
      r.state = "running";
      for (const [s, status] of Object.entries(steps)) r.steps[s as "deploy-prod"].status = status;
      return r;
    };
    expect(t.serving.prod!.version).to.equal("1");
    expect(attentionNotes([live({ "deploy-prod": "succeeded", "validate-prod": "running" })])).to.deep.equal([
      `prod rollout in progress: release ${next.id} (v2) is at validate-prod in a running mlops command`,
    ]);
    expect(attentionNotes([live({ "deploy-prod": "succeeded" })])).to.deep.equal([
      `prod rollout in progress: release ${next.id} (v2) is at deploy-prod in a running mlops command`,
    ]);
  });

  it("an old released record, written before validate-prod was a step, is not mid-rollout", async () => {
    const { next } = await releasedThenApproved(0);
    const old = JSON.parse(JSON.stringify(next)) as Release;
    old.state = "released";
    old.steps["deploy-prod"] = { status: "succeeded", attempts: 1 };
    delete (old.steps as Partial<Release["steps"]>)["validate-prod"];
    const loaded = withAllSteps(old);
    expect(loaded.steps["validate-prod"].status).to.equal("skipped");
    expect(attentionNotes([loaded])).to.deep.equal([]);
  });
});
