/**
 * End to end: `mlops score-batch` on the local target, as a user runs it (a subprocess of bin/mlops.js), against a
 * real release in a temp copy of the repo (MLflow, azmlinfsrv on ports 5685-5689). Proves that batch and online
 * give identical predictions on the same rows (both run ml/score.py's init()/run()), that bad rows are reported
 * and never scored, that bad input, an unknown version and an empty stack end with one line and their exit code,
 * and that a scoring process killed mid-file leaves neither an output nor a temp file behind.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { ReleaseStateMachine } from "../../driver/core/releaseStateMachine.js";
import { createLocalTarget, type LocalTarget } from "../../driver/targets/local/index.js";
import { postScore } from "../../driver/host/smokeRequest.js";
import { REPO_ROOT, SHARED_VENV_ROOT, makeTempRepo, RecordingProgress, type TempRepo } from "./localRepoFixture.js";

const PORTS = { mlflow: 5685, int: 5686, prod: 5687, prodBlue: 5688, prodGreen: 5689 };
const FEATURES = "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6";
const run = promisify(execFile);

async function mlops(repo: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [path.join(REPO_ROOT, "bin", "mlops.js"), "--repo", repo, ...args], {
      env: { ...process.env, MLOPS_VENV_ROOT: SHARED_VENV_ROOT },
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === "number" ? x.code : 1, stdout: x.stdout ?? "", stderr: x.stderr ?? "" };
  }
}

const csvRows = (file: string): string[][] =>
  readFileSync(file, "utf8")
    .trimEnd()
    .split("\n")
    .map((l) => l.split(","));

/** The one line mlops prints for an error (progress lines start with [mlops]). */
const errorLines = (stderr: string): string[] => stderr.split("\n").filter((l) => l.startsWith("mlops: "));

describe("mlops score-batch on the local target, end to end (real release, azmlinfsrv for INT)", function () {
  this.timeout(20 * 60_000);
  let repo: TempRepo;
  let target: LocalTarget;

  before(async () => {
    repo = await makeTempRepo(PORTS, { profile: { enabled: false, concurrency: [1], secondsPerLevel: 1, warmupSeconds: 0.5, targetRps: 5 } });
    const progress = new RecordingProgress();
    target = await createLocalTarget({ repoRoot: repo.root, config: repo.config, progress, venvRoot: SHARED_VENV_ROOT });
    const r = await new ReleaseStateMachine({ target, config: repo.config, progress }).start();
    expect(r.state, progress.lines.slice(-5).join("\n")).to.equal("awaiting-approval");
  });

  after(async () => {
    if (target) await target.down();
    if (repo && !process.env.MLOPS_E2E_KEEP) await repo.remove();
  });

  it("batch and the running INT endpoint give identical predictions on the same rows (ml/data.txt, 442 rows)", async () => {
    const input = path.join(repo.root, "ml", "data.txt");
    const output = path.join(repo.root, "scored.csv");
    const r = await mlops(repo.root, "--json", "score-batch", "--stack", "int", "--input", input, "--output", output);
    expect(r.code, r.stderr).to.equal(0);
    const summary = JSON.parse(r.stdout) as { rows: number; scored: number; failed: number; model: { version: string; source: string } };
    expect(summary).to.include({ rows: 442, scored: 442, failed: 0 });
    expect(summary.model).to.include({ version: "1", source: "stack" });

    const lines = (await readFile(input, "utf8")).trimEnd().split("\n").slice(1);
    const features = lines.map((l) => l.split(",").slice(0, 10).map(Number));
    const online = await postScore(`http://127.0.0.1:${PORTS.int}/score`, { data: features });
    expect(online.status).to.equal(200);
    const onlinePredictions = (online.body as { predictions: number[] }).predictions;
    const rows = csvRows(output);
    expect(rows[0]).to.deep.equal(["file", "row", "prediction"]);
    expect(rows.slice(1).map((c) => Number(c[1]))).to.deep.equal(features.map((_, i) => i + 1));
    expect(rows.slice(1).map((c) => Number(c[2]))).to.deep.equal(onlinePredictions);
    expect(csvRows(`${output}.errors.csv`)).to.deep.equal([["file", "row", "column", "reason"]]);
  });

  it("bad rows are counted and reported with their row number and column; the good rows are scored, none as a silent zero", async () => {
    const good = "59,2,32.1,101,157,93.2,38,4,4.8598,87";
    const input = path.join(repo.root, "mixed.csv");
    await writeFile(
      input,
      [FEATURES, good, "1,2,3", good.replace("32.1", "abc"), good.replace("101", "NaN"), good.replace("157", "-inf"), good].join("\n") + "\n",
    );
    const output = path.join(repo.root, "mixed-scored.csv");
    const r = await mlops(repo.root, "score-batch", "--stack", "int", "--input", input, "--output", output);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/scored 2 of 6 rows with diabetes-ridge v1 .* 4 failed/);
    expect(
      csvRows(output)
        .slice(1)
        .map((c) => c[1]),
    ).to.deep.equal(["1", "6"]);
    expect(
      csvRows(output)
        .slice(1)
        .every((c) => Number(c[2]) !== 0 && Number.isFinite(Number(c[2]))),
    ).to.equal(true);
    const errors = readFileSync(`${output}.errors.csv`, "utf8").trimEnd().split("\n").slice(1);
    expect(errors).to.deep.equal([
      'mixed.csv,2,,"expected 10 values, found 3"',
      "mixed.csv,3,bmi,'abc' is not a number",
      "mixed.csv,4,bp,'NaN' is not a finite number",
      "mixed.csv,5,s1,'-inf' is not a finite number",
    ]);
  });

  it("a header that is not the training columns, an empty file, an unknown version and an empty stack: one line and the exit code", async () => {
    const output = path.join(repo.root, "never.csv");
    const header = path.join(repo.root, "header.csv");
    await writeFile(header, "age,sex,bmi,bp,s1,s2,s3,s4,s5,s7\n1,2,3,4,5,6,7,8,9,10\n");
    const h = await mlops(repo.root, "score-batch", "--stack", "int", "--input", header, "--output", output);
    expect(h.code).to.equal(2);
    expect(errorLines(h.stderr)).to.have.length(1);
    expect(errorLines(h.stderr)[0]).to.contain("the header does not match the training columns (missing 's6'; unexpected 's7')");

    const empty = path.join(repo.root, "empty.csv");
    await writeFile(empty, "");
    const e = await mlops(repo.root, "score-batch", "--stack", "int", "--input", empty, "--output", output);
    expect(e.code).to.equal(2);
    expect(errorLines(e.stderr)[0]).to.contain("is empty");

    const v = await mlops(repo.root, "score-batch", "--stack", "int", "--input", header, "--output", output, "--version", "42");
    expect(v.code).to.equal(7);
    expect(errorLines(v.stderr)[0]).to.contain("diabetes-ridge v42 is not in the local registry");

    const p = await mlops(repo.root, "score-batch", "--stack", "prod", "--input", header, "--output", output);
    expect(p.code).to.equal(7);
    expect(errorLines(p.stderr)[0]).to.contain("nothing is deployed to prod");
    expect(readdirSync(repo.root).filter((f) => f.startsWith("never.csv"))).to.deep.equal([]);
  });

  it("a scoring process killed in the middle of a file leaves no output, no errors file and no temp file", async () => {
    const input = path.join(repo.root, "big.csv");
    const row = "59,2,32.1,101,157,93.2,38,4,4.8598,87\n";
    await writeFile(input, FEATURES + "\n" + row.repeat(400_000));
    const output = path.join(repo.root, "killed.csv");
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, "bin", "mlops.js"), "--repo", repo.root, "score-batch", "--stack", "int", "--input", input, "--output", output],
      {
        env: { ...process.env, MLOPS_VENV_ROOT: SHARED_VENV_ROOT },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
    // wait for the Python worker scoring into a temp file beside the output, then kill it
    let pid: number | undefined;
    for (let i = 0; i < 600 && !pid; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (readdirSync(repo.root).some((f) => f.startsWith("killed.csv.partial-"))) {
        pid = Number(
          readdirSync(repo.root)
            .find((f) => f.startsWith("killed.csv.partial-"))!
            .split("-")
            .pop(),
        );
      }
    }
    expect(pid, stderr).to.be.a("number");
    process.kill(pid!, "SIGKILL");
    const code = await exited;
    expect(code, stderr).to.equal(1);
    expect(errorLines(stderr)).to.have.length(1);
    expect(errorLines(stderr)[0]).to.match(/ml\/batch_score\.py failed \(exit SIGKILL\).*nothing was written/);
    expect(readdirSync(repo.root).filter((f) => f.startsWith("killed.csv"))).to.deep.equal([]);
    expect(existsSync(output)).to.equal(false);
  });
});
