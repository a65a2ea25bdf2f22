/**
 * `mlops status` as a user runs it (the CLI, local target, a temp repository): a release left `running` by a
 * process that died is shown and recorded as interrupted at once, and a PROD left mid-rollout is said plainly
 * above the listing. Status starts no service.
 */
import { expect } from "chai";
import path from "node:path";
import { newRelease, type Release } from "../../../driver/core/release.js";
import { FileReleaseStore } from "../../../driver/store/fileReleaseStore.js";
import { tempRepo } from "../azure/support/harness.js";
import { runCli } from "../azure/support/cliAndTarget.js";

const T0 = "2026-11-27T10:00:00.000Z";

function killedWhile(id: string, step: "train" | "deploy-prod"): Release {
  const r = newRelease(id, "local", "diabetes-ridge", T0);
  const done = step === "train" ? ["test"] : ["test", "train", "gate", "register", "deploy-int", "validate-int", "profile-int"];
  for (const s of done) r.steps[s as keyof Release["steps"]] = { status: "succeeded", attempts: 1 };
  r.steps[step] = { status: "running", attempts: 1, startedAt: T0 };
  if (step === "deploy-prod") {
    r.model = { name: "diabetes-ridge", version: "2", digest: "b".repeat(64), runId: "run2", metrics: {}, tags: {} };
    r.approval = { stack: "prod", by: "alice", at: T0, modelName: "diabetes-ridge", modelVersion: "2", digest: "b".repeat(64) };
  }
  return r;
}

describe("CLI: mlops status tells the truth about dead releases (local target)", function () {
  this.timeout(60_000);

  it("shows a release whose process died as interrupted at once, and records the crash in its log once", async () => {
    const repo = tempRepo();
    try {
      const store = new FileReleaseStore(path.join(repo.root, ".mlops"));
      const id = "rel-20261127-100000-dead";
      await store.save(killedWhile(id, "train"));
      const text = await runCli(repo.root, {}, "status");
      expect(text.code, text.stderr).to.equal(0);
      expect(text.stdout).to.match(new RegExp(`${id}\\s+interrupted\\s+-\\s+at train`));
      const json = await runCli(repo.root, {}, "status", "--json");
      const listed = JSON.parse(json.stdout) as { releases: Array<{ id: string; state: string; interruptedAt: string | null }> };
      expect(listed.releases).to.deep.include({ ...listed.releases[0]!, id, state: "failed", interruptedAt: "train" });
      const record = await store.load(id);
      expect(record.events.filter((e) => e.event === "interrupted")).to.have.length(1);
    } finally {
      repo.cleanup();
    }
  });

  it("says plainly that PROD is left mid-rollout, and what to run", async () => {
    const repo = tempRepo();
    try {
      const store = new FileReleaseStore(path.join(repo.root, ".mlops"));
      const id = "rel-20261127-110000-dead";
      await store.save(killedWhile(id, "deploy-prod"));
      const r = await runCli(repo.root, {}, "status");
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.split("\n");
      expect(lines[0]).to.equal("attention:");
      expect(lines[1]).to.match(
        new RegExp(`^  prod is left mid-rollout by release ${id} \\(v2, interrupted at deploy-prod\\).*'mlops resume ${id}'.*'mlops rollback prod'`),
      );
      const json = JSON.parse((await runCli(repo.root, {}, "status", "--json")).stdout) as { attention: string[] };
      expect(json.attention).to.have.length(1);
    } finally {
      repo.cleanup();
    }
  });
});
