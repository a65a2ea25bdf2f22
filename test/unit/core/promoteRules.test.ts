/**
 * What promote does with a release in each situation PROD can be left in: the registry's artifact changed,
 * a process died half-way through PROD, the store failed before PROD was validated. PROD is rolled back only
 * on a validation verdict.
 */
import { expect } from "chai";
import { ApprovalError, InvalidStateError } from "../../../driver/core/errors.js";
import type { Release } from "../../../driver/core/release.js";
import { recordedChallenger, recordingMachine, rejects } from "../../support/recordingMachine.js";

/** v1 serving in prod, v2 approved. */
const v2Approved = () => recordedChallenger(recordingMachine());

describe("promote rules (core, with fake ports)", () => {
  it("a registry whose artifact for the approved version changed is refused, naming the approved digest", async () => {
    const { t, m } = recordingMachine();
    const r = await m.start();
    await m.approve(r.id, "alice");
    t.versions[0]!.digest = "e".repeat(64);
    const err = await rejects(m.promote(r.id));
    expect(err).to.be.instanceOf(ApprovalError);
    expect(err.message).to.equal("diabetes-ridge v1 in the registry no longer has digest sha100000000; the approved artifact changed, refusing to deploy");
  });

  it("a release a dead process left running in prod is finished by promote, as by resume (marked interrupted first)", async () => {
    const { t, m, again } = recordingMachine();
    const r = await m.start();
    await m.approve(r.id, "alice");
    t.crash = { at: "validate-prod", when: "before" };
    await rejects(m.promote(r.id));
    t.reboot();
    const done = await again().promote(r.id);
    expect(done.state).to.equal("released");
    expect(done.events.filter((e) => e.event === "interrupted")).to.have.length(1);
  });

  it("a store that fails to record the start of PROD validation rolls nothing back: nothing was validated, resume decides", async () => {
    const { t, m, again, r2 } = await v2Approved();
    const save = t.store.save.bind(t.store);
    let failOnce = true;
    t.store.save = async (r: Release) => {
      if (failOnce && r.steps["validate-prod"].status === "running") {
        failOnce = false;
        throw new Error("disk full");
      }
      return save(r);
    };
    expect((await rejects(m.promote(r2.id))).message).to.equal("disk full");
    expect(t.counts["rollBack-prod"]).to.equal(undefined);
    expect(t.serving.prod!.version).to.equal("2");
    const stored = await t.store.load(r2.id);
    expect(stored.steps["deploy-prod"].status).to.equal("succeeded");
    expect(stored.steps["validate-prod"].status).to.equal("pending");
    expect((await again().resume(r2.id)).state).to.equal("released");
    expect(t.championVersion).to.equal("2");
  });

  it("promote of a release that failed in INT names the failure it stopped at and says to resume it", async () => {
    const { t, m } = recordingMachine();
    t.broken.add("int:1");
    await rejects(m.start());
    const [r] = await t.store.list();
    const err = await rejects(m.promote(r!.id));
    expect(err).to.be.instanceOf(InvalidStateError);
    expect(err.message).to.equal(
      `release ${r!.id} stopped at validate-int (int validation failed: scoring returned 500) before the approval hold; run 'mlops resume ${r!.id}', then approve it`,
    );
  });

  it("resume of a release that failed in PROD does not take PROD back to an older version either", async () => {
    const { t, m, again, r2 } = await v2Approved();
    t.broken.add("prod:2");
    await rejects(m.promote(r2.id)); // validation failed: PROD rolled back to v1
    t.broken.clear();
    t.fp = { ...t.fp, codeDigest: "code3" };
    const r3 = await again().start();
    await m.approve(r3.id, "alice");
    await m.promote(r3.id);
    const err = await rejects(again().resume(r2.id));
    expect(err).to.be.instanceOf(InvalidStateError);
    expect(err.message).to.match(
      new RegExp(`^release ${r2.id} would take prod from diabetes-ridge v3 back to v2 \\(champion: v3\\): promote does not downgrade`),
    );
    expect(t.serving.prod!.version).to.equal("3");
  });
});
