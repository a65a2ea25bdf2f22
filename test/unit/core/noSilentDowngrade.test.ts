/**
 * No silent downgrade: promote never takes PROD (or the champion) back to an older model version unless asked
 * with --allow-downgrade (going back is `mlops rollback`'s job), and promote of a release that was rolled back
 * says what PROD really serves instead of "already serving".
 */
import { expect } from "chai";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { InvalidStateError } from "../../../driver/core/errors.js";
import { rollbackStack } from "../../../driver/rollout/rollbackStack.js";
import { FakeTarget, silentProgress } from "../../support/fakeTarget.js";
import { championThenApprovedChallenger, machineFactory, rejection } from "../../support/coreHarness.js";

const config = parseReleaseConfig({
  model: { name: "diabetes-ridge" },
  gate: { mode: "enabled", metrics: { rmse: { greater_is_better: false, threshold: 60 } } },
});

const machine = machineFactory(config, "20261127-1300");

const refused = rejection;

/** v1 approved but never promoted; v2 (changed code) released: PROD serves v2, the champion is v2. */
async function olderApprovedNewerReleased() {
  const t = new FakeTarget();
  const m = machine(t);
  const older = await m.start();
  await m.approve(older.id, "alice");
  t.fp = { ...t.fp, codeDigest: "code2" };
  const newer = await m.start();
  await m.approve(newer.id, "alice");
  await m.promote(newer.id);
  return { t, m, older, newer };
}

describe("no silent downgrade (core, with fake ports)", () => {
  it("promote of an approved release older than what PROD serves is refused with one clear line; PROD and the champion stay", async () => {
    const { t, m, older, newer } = await olderApprovedNewerReleased();
    expect(older.model!.version).to.equal("1");
    expect(newer.model!.version).to.equal("2");
    const err = await refused(m.promote(older.id));
    expect(err).to.be.instanceOf(InvalidStateError);
    expect(err.message).to.equal(
      `release ${older.id} would take prod from diabetes-ridge v2 back to v1 (champion: v2): promote does not downgrade; to go back to an earlier version run 'mlops rollback prod', or promote it anyway with --allow-downgrade`,
    );
    expect(err.message.split("\n")).to.have.length(1);
    expect(t.serving.prod!.version).to.equal("2");
    expect(t.championVersion).to.equal("2");
    expect(t.counts["changed-prod"]).to.equal(1);
    expect((await t.store.load(older.id)).state).to.equal("approved");
  });

  it("an older version than the champion is refused even when PROD reports nothing serving", async () => {
    const { t, m, older } = await olderApprovedNewerReleased();
    delete t.serving.prod; // e.g. PROD's services are down
    expect((await refused(m.promote(older.id))).message).to.match(/would take prod from diabetes-ridge v2 back to v1/);
  });

  it("--allow-downgrade promotes the older version and says so in the release's log", async () => {
    const { t, m, older } = await olderApprovedNewerReleased();
    const r = await m.promote(older.id, { allowDowngrade: true });
    expect(r.state).to.equal("released");
    expect(t.serving.prod!.version).to.equal("1");
    expect(t.championVersion).to.equal("1");
    expect(r.events.find((e) => e.event === "downgrade-allowed")!.detail).to.equal("--allow-downgrade: prod served v2 (champion v2); promoting v1");
  });

  it("promote of a newer version, or of the version PROD already serves, is no downgrade", async () => {
    const { t, m, newer } = await olderApprovedNewerReleased();
    t.fp = { ...t.fp, codeDigest: "code3" };
    const third = await m.start();
    await m.approve(third.id, "alice");
    expect((await m.promote(third.id)).state).to.equal("released");
    expect(t.serving.prod!.version).to.equal("3");
    expect((await m.promote(third.id)).state).to.equal("released"); // again: nothing to do
    expect(newer.model!.version).to.equal("2");
  });

  it("promote of a release that was rolled back reports what PROD really serves, and changes nothing", async () => {
    const { t, m, r2 } = await championThenApprovedChallenger(machine, null);
    await m.promote(r2.id);
    await rollbackStack(t, "prod", silentProgress);
    expect(t.serving.prod!.version).to.equal("1");
    const err = await refused(m.promote(r2.id));
    expect(err).to.be.instanceOf(InvalidStateError);
    expect(err.message).to.match(
      new RegExp(
        `^release ${r2.id} put diabetes-ridge v2 into prod, but prod serves v1 now \\(rolled back at [0-9T:.Z-]+\\); promote does not deploy a release twice: start a new release to serve v2 again$`,
      ),
    );
    expect(t.serving.prod!.version).to.equal("1");
    expect(t.championVersion).to.equal("1");
  });
});
