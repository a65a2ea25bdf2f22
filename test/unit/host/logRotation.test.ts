/**
 * Logs under .mlops/logs are rotated by size: a log over the limit is copied to <name>.1 (older ones shift to .2,
 * .3; the oldest beyond that is dropped) and emptied in place, so a service that keeps the file open in append
 * mode goes on logging into the same file from its start. Every mlops command does this on its way in.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { LOG_KEEP, LOG_MAX_BYTES, rotateLogsBySize } from "../../../driver/host/logRotation.js";
import { runCli } from "../azure/support/cliAndTarget.js";
import { tempRepo } from "../azure/support/harness.js";
import { tempDir } from "../../support/tempDirs.js";

describe("log rotation by size", () => {
  it("every mlops command rotates a service log over the limit (CLI, local target: mlops status)", async function () {
    this.timeout(60_000);
    const repo = tempRepo();
    try {
      const logs = path.join(repo.root, ".mlops", "logs");
      await mkdir(logs, { recursive: true });
      const big = Buffer.alloc(LOG_MAX_BYTES + 1024, "x");
      await writeFile(path.join(logs, "inference-int.log"), big);
      await writeFile(path.join(logs, "router-prod.log"), "small\n");
      const r = await runCli(repo.root, {}, "status");
      expect(r.code, r.stderr).to.equal(0);
      expect((await stat(path.join(logs, "inference-int.log"))).size).to.equal(0);
      expect((await stat(path.join(logs, "inference-int.log.1"))).size).to.equal(big.length);
      expect(await readFile(path.join(logs, "router-prod.log"), "utf8")).to.equal("small\n");
      expect(existsSync(path.join(logs, "router-prod.log.1"))).to.equal(false);
    } finally {
      repo.cleanup();
    }
  });

  it(`keeps ${LOG_KEEP} generations, newest in .1, and drops the oldest`, async () => {
    const dir = tempDir("mlops-logs-");
    const log = path.join(dir, "mlflow.log");
    for (const gen of ["a", "b", "c", "d", "e"]) {
      await writeFile(log, gen.repeat(200));
      expect(await rotateLogsBySize(dir, { maxBytes: 100 })).to.deep.equal(["mlflow.log"]);
    }
    expect((await readdir(dir)).sort()).to.deep.equal(["mlflow.log", ...Array.from({ length: LOG_KEEP }, (_, i) => `mlflow.log.${i + 1}`)]);
    expect((await readFile(`${log}.1`, "utf8"))[0]).to.equal("e");
    expect((await readFile(`${log}.${LOG_KEEP}`, "utf8"))[0]).to.equal(["e", "d", "c", "b", "a"][LOG_KEEP - 1]);
  });

  it("a process holding the log open in append mode keeps writing into the emptied file, from its start", async () => {
    const dir = tempDir("mlops-logs-");
    const log = path.join(dir, "inference-prod-blue.log");
    await writeFile(log, "old ".repeat(100));
    // a writer like a detached service: stdout appended to the log; writes one line when it reads one
    const child = spawn(process.execPath, ["-e", "process.stdin.on('data', (d) => process.stdout.write(d))"], {
      stdio: ["pipe", (await import("node:fs")).openSync(log, "a"), "ignore"],
    });
    try {
      expect(await rotateLogsBySize(dir, { maxBytes: 100 })).to.deep.equal(["inference-prod-blue.log"]);
      child.stdin!.write("after rotation\n");
      for (let i = 0; i < 100 && (await stat(log)).size === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await readFile(log, "utf8")).to.equal("after rotation\n");
      expect(await readFile(`${log}.1`, "utf8")).to.equal("old ".repeat(100));
    } finally {
      child.kill();
    }
  });

  it("leaves alone what is not a log, and a missing directory is nothing to do", async () => {
    const dir = tempDir("mlops-logs-");
    await writeFile(path.join(dir, "state.json"), "x".repeat(500));
    expect(await rotateLogsBySize(dir, { maxBytes: 100 })).to.deep.equal([]);
    expect(await rotateLogsBySize(path.join(dir, "nope"), { maxBytes: 100 })).to.deep.equal([]);
  });
});
