/**
 * A state directory mlops cannot use (`.mlops` is a file) is a machine that is not ready: one line naming the
 * path and what to do, exit 8, not an "internal error" pointing at logs under that same unusable directory.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { REPO, tempRepo } from "../azure/support/harness.js";

describe("CLI: an unusable .mlops state directory", function () {
  this.timeout(60_000);
  it("mlops approve with .mlops as a file exits 8 with one line naming the path", async () => {
    const repo = tempRepo();
    try {
      writeFileSync(path.join(repo.root, ".mlops"), "not a directory\n");
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = execFile(
          process.execPath,
          [path.join(REPO, "bin", "mlops.js"), "--repo", repo.root, "approve", "rel-20261127-101500-3f2a", "--as", "alice@contoso.com"],
          { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: repo.root }, cwd: repo.root },
          (e, _stdout, stderr) => resolve({ code: p.exitCode ?? (e as { code?: number } | null)?.code ?? null, stderr }),
        );
      });
      expect(r.stderr.trimEnd().split("\n")).to.deep.equal([
        `mlops: cannot create or write ${path.join(repo.root, ".mlops")} (EEXIST); it must be a writable directory: move the file aside or fix its permissions ('mlops doctor' checks it)`,
      ]);
      expect(r.code).to.equal(8);
    } finally {
      repo.cleanup();
    }
  });
});
