/**
 * No silent downgrade: promote never takes PROD (or the champion) back to an older model version unless asked
 * with --allow-downgrade (going back is `mlops rollback`'s job), and promote of a release that was rolled back
 * says what PROD really serves instead of "already serving".
 */
import { expect } from "chai";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { InvalidStateError } from "../../../driver/core/errors.js";
import { assertStillServing, checkDowngrade } from "../../../driver/core/prodVersionGuard.js";
import { newRelease } from "../../../driver/core/release.js";
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

/** A release of diabetes-ridge `version`, on a target whose PROD reports `served` (of `servedModel`, when it names one). */
function guarded(version: string, prod: { served?: string; servedModel?: string; champion?: string }) {
  const t = new FakeTarget();
  const release = newRelease("rel-20261202-100000-abcd", "fake", "diabetes-ridge", "2026-12-02T10:00:00.000Z");
  release.model = { name: "diabetes-ridge", version, digest: "d".repeat(64), runId: "run1", metrics: {}, tags: {} };
  t.environments.describe = async (stack) => ({
    stack,
    healthy: true,
    detail: "fake",
    ...(prod.served ? { modelVersion: prod.served } : {}),
    ...(prod.servedModel ? { modelName: prod.servedModel } : {}),
  });
  if (prod.champion) {
    t.versions.push({ ...release.model, version: prod.champion });
    t.championVersion = prod.champion;
  }
  return { t, release };
}

const downgradeOf = async (version: string, prod: Parameters<typeof guarded>[1], allow = false) => {
  const { t, release } = guarded(version, prod);
  return checkDowngrade(t, release, allow).catch((e: Error) => e);
};

describe("no silent downgrade (core, with fake ports)", () => {
  it("registry versions are ordered as numbers: v10 and v12 are newer than v9 and v10", async () => {
    expect(((await downgradeOf("9", { served: "10" })) as Error).message).to.match(/^release \S+ would take prod from diabetes-ridge v10 back to v9: /);
    expect(((await downgradeOf("10", { served: "12" })) as Error).message).to.match(/would take prod from diabetes-ridge v12 back to v10: /);
  });

  it("a version that is not a whole number is not ordered: no downgrade is claimed", async () => {
    expect(await downgradeOf("1", { served: "2.0" })).to.equal(undefined);
    expect(await downgradeOf("2.5", { served: "3" })).to.equal(undefined);
  });

  it("PROD serving another model is not an older or newer version of this one", async () => {
    expect(await downgradeOf("1", { served: "5", servedModel: "other-model" })).to.equal(undefined);
    expect(((await downgradeOf("1", { served: "5", servedModel: "diabetes-ridge" })) as Error).message).to.match(/from diabetes-ridge v5 back to v1/);
  });

  it("without a champion the refusal names none, and --allow-downgrade records what PROD served", async () => {
    expect(((await downgradeOf("1", { served: "2" })) as Error).message).to.equal(
      "release rel-20261202-100000-abcd would take prod from diabetes-ridge v2 back to v1: promote does not downgrade; to go back to an earlier version run 'mlops rollback prod', or promote it anyway with --allow-downgrade",
    );
    expect(await downgradeOf("1", { served: "2" }, true)).to.equal("--allow-downgrade: prod served v2; promoting v1");
  });

  it("--allow-downgrade past a newer champion while PROD reports nothing says PROD reported no version", async () => {
    expect(await downgradeOf("1", { champion: "2" }, true)).to.equal("--allow-downgrade: prod served no version it reported (champion v2); promoting v1");
  });

  it("a released release is still serving when PROD reports no version (nothing to contradict it)", async () => {
    const { t, release } = guarded("1", {});
    await assertStillServing(t, release);
  });

  it("promote of a released release that a newer release replaced says so (no rollback to name)", async () => {
    const { m, r1, r2 } = await championThenApprovedChallenger(machine, null);
    await m.promote(r2.id);
    const err = await refused(m.promote(r1.id));
    expect(err).to.be.instanceOf(InvalidStateError);
    expect(err.message).to.equal(
      `release ${r1.id} put diabetes-ridge v1 into prod, but prod serves v2 now (another release or a rollback replaced it); promote does not deploy a release twice: start a new release to serve v1 again`,
    );
  });

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
