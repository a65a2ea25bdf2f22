/**
 * One corrupt or truncated release record (a crash of the disk, a hand edit, a half-copied backup) must not stop
 * every command: it is named in a warning, moved aside as <id>.json.corrupt-<timestamp> with its bytes intact
 * (never deleted), and every other release still lists, resumes and promotes.
 */
import { expect } from "chai";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { NotFoundError } from "../../../driver/core/errors.js";
import { newRelease } from "../../../driver/core/release.js";
import { ReleaseStateMachine } from "../../../driver/core/releaseStateMachine.js";
import { FileReleaseStore } from "../../../driver/store/fileReleaseStore.js";
import { FakeTarget, ProcessDied, silentProgress } from "../../support/fakeTarget.js";
import { tempDir } from "../../support/tempDirs.js";

const GOOD = "rel-20261127-090000-aaaa";
const BAD = "rel-20261127-100000-bbbb";

async function storeWith(badText: string) {
  const dir = tempDir("mlops-corrupt-");
  const warnings: string[] = [];
  const store = new FileReleaseStore(dir, { warn: (m) => warnings.push(m) });
  await store.save(newRelease(GOOD, "local", "m", "2026-11-27T09:00:00.000Z"));
  const badFile = path.join(dir, "releases", `${BAD}.json`);
  await writeFile(badFile, badText);
  return { dir, store, warnings, releasesDir: path.join(dir, "releases") };
}

describe("file release store: a corrupt or truncated record", () => {
  const full = JSON.stringify(newRelease(BAD, "local", "m", "2026-11-27T10:00:00.000Z"), null, 2);
  const cases: Array<[string, string]> = [
    ["truncated mid-write", full.slice(0, Math.floor(full.length / 2))],
    ["empty", ""],
    ["valid JSON of the wrong shape", JSON.stringify({ id: BAD, state: "running" })],
    ["a record whose id is another release's", JSON.stringify(newRelease(GOOD, "local", "m", "2026-11-27T10:00:00.000Z"))],
  ];
  for (const [what, text] of cases) {
    it(`${what}: list warns naming it, moves it aside intact, and still lists the others`, async () => {
      const { store, warnings, releasesDir } = await storeWith(text);
      const listed = await store.list();
      expect(listed.map((r) => r.id)).to.deep.equal([GOOD]);
      expect(warnings).to.have.length(1);
      expect(warnings[0])
        .to.include(BAD)
        .and.to.match(/moved aside to .*\.corrupt-/);
      const files = await readdir(releasesDir);
      const aside = files.find((f) => f.startsWith(`${BAD}.json.corrupt-`));
      expect(aside, files.join(",")).to.be.a("string");
      expect(await readFile(path.join(releasesDir, aside!), "utf8")).to.equal(text);
      expect(files).to.not.include(`${BAD}.json`);
      // a second listing is quiet: the record was dealt with once
      expect((await store.list()).map((r) => r.id)).to.deep.equal([GOOD]);
      expect(warnings).to.have.length(1);
    });
  }

  it("loading the corrupt release by id is a not-found naming where its bytes went, not an internal error", async () => {
    const { store, warnings } = await storeWith("{");
    try {
      await store.load(BAD);
      expect.fail("expected an error");
    } catch (e) {
      expect(e).to.be.instanceOf(NotFoundError);
      expect((e as Error).message).to.match(new RegExp(`release ${BAD}'s record is unreadable .*moved aside to .*corrupt-`));
    }
    expect(warnings).to.have.length(1);
  });

  it("with a corrupt record beside them, other releases still start, resume and promote", async () => {
    const { store, releasesDir } = await storeWith('{"schema": 1, "id": "' + BAD + '", "ste');
    const t = new FakeTarget();
    (t as { store: unknown }).store = store;
    const config = parseReleaseConfig({
      model: { name: "diabetes-ridge" },
      gate: { mode: "enabled", metrics: { rmse: { greater_is_better: false, threshold: 60 } } },
    });
    const m = new ReleaseStateMachine({ target: t, config, progress: silentProgress, newId: () => "rel-20261127-110000-cccc" });
    t.crash = { at: "deploy-int", when: "before" };
    try {
      await m.start();
      expect.fail("expected the simulated crash");
    } catch (e) {
      expect(e).to.be.instanceOf(ProcessDied);
    }
    const resumed = await m.resume("rel-20261127-110000-cccc");
    expect(resumed.state).to.equal("awaiting-approval");
    await m.approve(resumed.id, "alice");
    expect((await m.promote(resumed.id)).state).to.equal("released");
    expect((await readdir(releasesDir)).some((f) => f.startsWith(`${BAD}.json.corrupt-`))).to.equal(true);
  });
});
