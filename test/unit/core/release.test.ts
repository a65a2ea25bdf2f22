/**
 * The release record: a new one, and the upgrade of a record written before a step existed (withAllSteps,
 * applied by the file store on every load), so `status`, `resume` and `promote` see every step of today.
 */
import { expect } from "chai";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { newRelease, STACKS, STEPS, withAllSteps, type Release, type ReleaseState } from "../../../driver/core/release.js";
import { FileReleaseStore } from "../../../driver/store/fileReleaseStore.js";
import { tempDir } from "../../support/tempDirs.js";

const NOW = "2026-11-27T10:00:00.000Z";

/** A record as an older mlops wrote it: no profile-int step (added later), the other steps as `state` left them. */
function oldRecord(state: ReleaseState): Release {
  const r = newRelease("rel-20261127-100000-abcd", "local", "m", NOW);
  r.state = state;
  for (const s of STEPS) r.steps[s] = { status: state === "failed" && s === "deploy-int" ? "failed" : "succeeded", attempts: 1, detail: `${s} done` };
  delete (r.steps as Partial<Release["steps"]>)["profile-int"];
  return r;
}

describe("release record", () => {
  it("a new release is running, has every step pending and starts its event log with 'created'", () => {
    const r = newRelease("rel-20261127-100000-abcd", "local", "m", NOW);
    expect(r).to.deep.include({ schema: 1, id: "rel-20261127-100000-abcd", target: "local", modelName: "m", createdAt: NOW, updatedAt: NOW, state: "running" });
    expect(Object.keys(r.steps)).to.deep.equal([...STEPS]);
    for (const s of STEPS) expect(r.steps[s], s).to.deep.equal({ status: "pending", attempts: 0 });
    expect(r.events).to.deep.equal([{ at: NOW, event: "created" }]);
    expect(r.deployments).to.deep.equal({});
    expect(r.validations).to.deep.equal({});
  });

  it("the stacks, in the order status and doctor show them: int, then prod", () => {
    expect(STACKS).to.deep.equal(["int", "prod"]);
  });

  for (const state of ["awaiting-approval", "approved", "released", "rejected"] as const) {
    it(`an old ${state} record gets the steps it never had as skipped, with the reason, and keeps its own`, () => {
      const r = withAllSteps(oldRecord(state));
      expect(r.steps["profile-int"]).to.deep.equal({ status: "skipped", attempts: 0, detail: "not a step when this release ran" });
      expect(r.steps["deploy-int"]).to.deep.equal({ status: "succeeded", attempts: 1, detail: "deploy-int done" });
    });
  }

  for (const state of ["running", "failed"] as const) {
    it(`an old ${state} record gets the steps it never had as pending, so resume runs them`, () => {
      const r = withAllSteps(oldRecord(state));
      expect(r.steps["profile-int"]).to.deep.equal({ status: "pending", attempts: 0 });
      expect(r.steps["train"]).to.deep.equal({ status: "succeeded", attempts: 1, detail: "train done" });
    });
  }

  it("the file store upgrades a record on load: an old released record shows every step of today", async () => {
    const dir = tempDir("mlops-release-");
    const old = oldRecord("released");
    await mkdir(path.join(dir, "releases"));
    await writeFile(path.join(dir, "releases", `${old.id}.json`), JSON.stringify(old));
    const loaded = await new FileReleaseStore(dir).load(old.id);
    expect(Object.keys(loaded.steps).sort()).to.deep.equal([...STEPS].sort());
    expect(loaded.steps["profile-int"]).to.include({ status: "skipped" });
  });
});
