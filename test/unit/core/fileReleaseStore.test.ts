import { expect } from "chai";
import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { NotFoundError, ReleaseLockedError, UsageError } from "../../../driver/core/errors.js";
import { newRelease } from "../../../driver/core/release.js";
import { FileReleaseStore } from "../../../driver/store/fileReleaseStore.js";
import { tempDir } from "../../support/tempDirs.js";

describe("file release store", () => {
  let dir: string;
  beforeEach(async () => {
    dir = tempDir("mlops-store-");
  });

  it("saves atomically and lists releases oldest first, leaving no temp files", async () => {
    const s = new FileReleaseStore(dir);
    await s.save(newRelease("rel-20261127-100000-bbbb", "local", "m", "2026-11-27T10:00:00.000Z"));
    await s.save(newRelease("rel-20261127-090000-aaaa", "local", "m", "2026-11-27T09:00:00.000Z"));
    expect((await s.list()).map((r) => r.id)).to.deep.equal(["rel-20261127-090000-aaaa", "rel-20261127-100000-bbbb"]);
    expect((await readdir(path.join(dir, "releases"))).sort()).to.deep.equal(["rel-20261127-090000-aaaa.json", "rel-20261127-100000-bbbb.json"]);
  });

  it("an unknown id is not found and a malformed id is a usage error", async () => {
    const s = new FileReleaseStore(dir);
    try {
      await s.load("rel-20261127-100000-cccc");
      expect.fail();
    } catch (e) {
      expect(e).to.be.instanceOf(NotFoundError);
    }
    try {
      await s.load("../../etc/passwd");
      expect.fail();
    } catch (e) {
      expect(e).to.be.instanceOf(UsageError);
      expect((e as Error).message).to.match(/is not a release id/);
    }
  });

  it("refuses a lock held by a live process and names what it is doing", async () => {
    const s = new FileReleaseStore(dir);
    const held = await s.lock("release");
    try {
      await s.lock("promote x");
      expect.fail();
    } catch (e) {
      expect(e).to.be.instanceOf(ReleaseLockedError);
      expect((e as Error).message).to.match(/another mlops command is running \(release, pid \d+/);
    }
    await held.release();
    const again = await s.lock("approve");
    await again.release();
  });

  it("takes over a lock left by a process that died", async () => {
    const child = spawn(process.execPath, ["-e", "0"]);
    const pid = child.pid!;
    await new Promise((r) => child.on("exit", r));
    await writeFile(path.join(dir, "release.lock"), JSON.stringify({ pid, host: hostname(), purpose: "release", since: "x" }));
    const s = new FileReleaseStore(dir);
    const l = await s.lock("release");
    expect(JSON.parse(await readFile(path.join(dir, "release.lock"), "utf8")).pid).to.equal(process.pid);
    await l.release();
  });
});
