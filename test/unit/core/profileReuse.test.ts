/**
 * When the profile-int step may reuse an earlier release's profile instead of loading INT again: only the
 * newest earlier profile of the same model (name, version, digest), the same scoring code (a recorded digest),
 * the same environment and the same profile settings. Each test changes exactly one of these on the earlier
 * record and sees INT measured again.
 */
import { expect } from "chai";
import type { Release } from "../../../driver/core/release.js";
import { recordingMachine } from "../../support/recordingMachine.js";

const edits: Array<[string, (r: Release) => void]> = [
  ["another model name", (r) => (r.model!.name = "other-model")],
  ["another model version", (r) => (r.model!.version = "9")],
  ["another model digest", (r) => (r.model!.digest = "9".repeat(64))],
  ["another scoring code digest", (r) => (r.source!.servingDigest = "score0")],
  ["another environment digest", (r) => (r.source!.envDigest = "env0")],
  ["other profile settings", (r) => (r.profileSettings = "{}")],
  ["no profile", (r) => delete r.profile],
  ["no model", (r) => delete r.model],
  ["no source", (r) => delete r.source],
];

describe("profile-int reuses an earlier profile only of the same deployment (core, with fake ports)", () => {
  for (const [what, change] of edits) {
    it(`an earlier release with ${what} is not reused: INT is profiled again`, async () => {
      const { t, m, again } = recordingMachine();
      const r1 = await m.start();
      const rec = await t.store.load(r1.id);
      change(rec);
      await t.store.save(rec);
      const r2 = await again().start();
      expect(t.counts["profile-int"]).to.equal(2);
      expect(r2.steps["profile-int"].detail).to.match(/^50 req\/s per instance/);
    });
  }

  it("neither record having a scoring code digest (records older than it) is not the same scoring code", async () => {
    const { t, m, again } = recordingMachine();
    delete t.fp.servingDigest;
    await m.start();
    const r2 = await again().start();
    expect(t.counts["profile-int"]).to.equal(2);
    expect(r2.steps["profile-int"].detail).to.not.match(/reused/);
  });

  it("of several earlier profiles, the newest is reused", async () => {
    const { t, m, again } = recordingMachine();
    await m.start();
    const rels = [await again().start(), await again().start(), await again().start()];
    expect(t.counts["profile-int"]).to.equal(1);
    expect(rels.map((r) => r.steps["profile-int"].detail!.split(" (")[0])).to.deep.equal([
      "reused the profile of release rel-1",
      "reused the profile of release rel-2",
      "reused the profile of release rel-3",
    ]);
  });
});
