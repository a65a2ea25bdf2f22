/**
 * The release report written at the end of `release` and `promote` belongs to the release the command ran: a
 * command refused before it touched any release (the lock is held, the release is not approved) writes and prints
 * no report at all, least of all the newest other release's.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { writeReportFor } from "../../../driver/cli/profileCommands.js";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { ReleaseStateMachine } from "../../../driver/core/releaseStateMachine.js";
import { newRelease } from "../../../driver/core/release.js";
import { reportPaths } from "../../../driver/report/writeReleaseReport.js";
import { FileReleaseStore } from "../../../driver/store/fileReleaseStore.js";
import { runCli } from "../azure/support/cliAndTarget.js";
import { tempRepo } from "../azure/support/harness.js";
import { FakeTarget, silentProgress } from "../../support/fakeTarget.js";
import { tempDir } from "../../support/tempDirs.js";

const config = parseReleaseConfig({
  model: { name: "diabetes-ridge" },
  gate: { mode: "enabled", metrics: { rmse: { greater_is_better: false, threshold: 60 } } },
});

let seq = 0;
const machine = (t: FakeTarget) =>
  new ReleaseStateMachine({ target: t, config, progress: silentProgress, newId: () => `rel-20261127-1200${String(seq++ % 100).padStart(2, "0")}-abcd` });

/** Runs `fn` with process.stderr captured; returns what it printed (and its error, if any). */
async function captured(fn: () => Promise<unknown>): Promise<{ stderr: string; error?: unknown }> {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = "";
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write;
  try {
    await fn();
    return { stderr };
  } catch (error) {
    return { stderr, error };
  } finally {
    process.stderr.write = write;
  }
}

describe("release report: only the release a command ran", () => {
  let root: string;
  let t: FakeTarget;
  let other: string;
  beforeEach(async () => {
    root = tempDir("mlops-report-");
    t = new FakeTarget();
    other = (await machine(t).start()).id; // the newest release on record
  });

  it("mlops release refused because another command holds the lock writes and prints no report (CLI, local target)", async function () {
    this.timeout(60_000);
    const repo = tempRepo();
    try {
      const state = path.join(repo.root, ".mlops");
      const newest = "rel-20261127-100000-aaaa";
      await new FileReleaseStore(state).save(newRelease(newest, "local", "diabetes-ridge", "2026-11-27T10:00:00.000Z"));
      // a live holder: this test's own process
      await writeFile(path.join(state, "release.lock"), JSON.stringify({ pid: process.pid, host: hostname(), purpose: "promote", since: "now" }));
      const r = await runCli(repo.root, {}, "release");
      expect(r.code).to.equal(6);
      expect(r.stderr.trimEnd().split("\n")).to.deep.equal([
        `mlops: another mlops command is running (promote, pid ${process.pid}, since now); wait for it to finish`,
      ]);
      expect(existsSync(reportPaths(repo.root, newest).html), `report of ${newest}`).to.equal(false);
    } finally {
      repo.cleanup();
    }
  });

  it("a promote refused because the release is not approved writes and prints no report", async () => {
    const m = machine(t);
    const out = await captured(() =>
      writeReportFor(
        root,
        t,
        () => m.promote(other),
        () => m.activeReleaseId,
      ),
    );
    expect((out.error as Error).message).to.match(/is not approved/);
    expect(out.stderr).to.not.match(/report:/);
    expect(existsSync(reportPaths(root, other).html)).to.equal(false);
  });

  it("a release that ran and failed still gets its own report, and only it", async () => {
    t.metrics = { rmse: 99, mae: 80, r2: 0.1 };
    t.fp = { ...t.fp, codeDigest: "code2" };
    const m = machine(t);
    const out = await captured(() =>
      writeReportFor(
        root,
        t,
        () => m.start(),
        () => m.activeReleaseId,
      ),
    );
    expect((out.error as Error).message).to.match(/rmse 99/);
    const rejected = (await t.store.list()).find((r) => r.state === "rejected")!;
    expect(out.stderr).to.include(reportPaths(root, rejected.id).html);
    expect(existsSync(reportPaths(root, rejected.id).html)).to.equal(true);
    expect(existsSync(reportPaths(root, other).html)).to.equal(false);
  });
});
