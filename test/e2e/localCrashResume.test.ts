/**
 * End to end: a release killed with SIGKILL in the middle of a step, against the real local adapters (pytest,
 * ml/pipeline.py, the MLflow server, azmlinfsrv), then `mlops resume`: nothing is done twice. One MLflow run,
 * one model version, one INT inference server. `mlops` runs as a user runs it, a subprocess of bin/mlops.js,
 * in a temp copy of the repo on ports 5680-5684.
 */
import { execFile, spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { MlflowClient } from "../../driver/mlflow/mlflowClient.js";
import { REPO_ROOT, SHARED_VENV_ROOT, makeTempRepo, type TempRepo } from "./localRepoFixture.js";

const PORTS = { mlflow: 5680, int: 5681, prod: 5682, prodBlue: 5683, prodGreen: 5684 };
const MLOPS = path.join(REPO_ROOT, "bin", "mlops.js");
const env = { ...process.env, MLOPS_VENV_ROOT: SHARED_VENV_ROOT };
const run = promisify(execFile);

async function mlops(repo: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [MLOPS, "--repo", repo, ...args], { env, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === "number" ? x.code : 1, stdout: x.stdout ?? "", stderr: x.stderr ?? "" };
  }
}

/** Pids of inference servers (azmlinfsrv) for `port`: the launcher of each, not its gunicorn worker (a child
 * with the same command line). */
function inferenceServersOn(port: number): number[] {
  const out = execFileSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" });
  const procs = out
    .split("\n")
    .filter((l) => l.includes("--entry_script") && new RegExp(`--port ${port}( |$)`).test(l))
    .map((l) => l.trim().split(/\s+/).slice(0, 2).map(Number) as [number, number]);
  const pids = new Set(procs.map(([pid]) => pid));
  return procs.filter(([, ppid]) => !pids.has(ppid)).map(([pid]) => pid);
}

/** Starts `mlops release` and SIGKILLs it once `when` holds; resolves with its stderr so far. */
function releaseKilledWhen(repo: string, when: (stderr: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MLOPS, "--repo", repo, "release"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let killed = false;
    const poll = setInterval(() => {
      if (!killed && when(stderr)) {
        killed = true;
        child.kill("SIGKILL");
      }
    }, 50);
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearInterval(poll);
      if (signal === "SIGKILL") resolve(stderr);
      else reject(new Error(`mlops release ended on its own (code ${code}) before the kill point:\n${stderr}`));
    });
  });
}

describe("local target: kill -9 mid-step, then resume (end to end, real processes)", function () {
  this.timeout(20 * 60_000);
  let repo: TempRepo;

  before(async () => {
    repo = await makeTempRepo(PORTS, { profile: { enabled: false } });
  });
  after(async () => {
    if (repo) {
      await mlops(repo.root, "down");
      if (!process.env.MLOPS_E2E_KEEP) await repo.remove();
    }
  });

  it("a release SIGKILLed while deploy-int starts the INT server resumes without a second run, version or server", async () => {
    // the kill point: the INT inference server process exists, the deploy-int step has not finished
    const stderr = await releaseKilledWhen(repo.root, (err) => /\[mlops\] deploy-int: /.test(err) && inferenceServersOn(PORTS.int).length > 0);
    expect(stderr).to.match(/\[mlops\] register: done/);
    expect(stderr).to.not.match(/\[mlops\] deploy-int: done/);

    const status = await mlops(repo.root, "--json", "status");
    expect(status.code, status.stderr).to.equal(0);
    const [release] = (JSON.parse(status.stdout) as { releases: { id: string; state: string; interruptedAt: string | null }[] }).releases;
    // the dead process left it `running`; status sees nobody holds the lock and records it as interrupted
    expect(release!.state).to.equal("failed");
    expect(release!.interruptedAt).to.equal("deploy-int");

    const resumed = await mlops(repo.root, "--json", "resume", release!.id);
    expect(resumed.code, resumed.stderr).to.equal(0);
    const r = JSON.parse(resumed.stdout) as { state: string; steps: Record<string, { status: string; attempts: number; detail?: string }> };
    expect(r.state).to.equal("awaiting-approval");
    // the steps the dead process finished ran once; the interrupted one ran again
    expect(r.steps.test!.attempts).to.equal(1);
    expect(r.steps.train!.attempts).to.equal(1);
    expect(r.steps.register!.attempts).to.equal(1);
    expect(r.steps["deploy-int"]!.attempts).to.equal(2);

    const mlflow = new MlflowClient({ baseUrl: `http://127.0.0.1:${PORTS.mlflow}` });
    const exp = await mlflow.getExperimentByName(repo.config.model.experiment);
    const runs = await mlflow.searchRuns({ experimentIds: [exp!.experiment_id] });
    expect(runs.map((x) => x.info.status)).to.deep.equal(["FINISHED"]);
    const versions = await mlflow.searchModelVersions(`name='${repo.config.model.name}'`);
    expect(versions.map((v) => v.version)).to.deep.equal(["1"]);
    expect(inferenceServersOn(PORTS.int)).to.have.length(1);
    const deployment = JSON.parse(await readFile(path.join(repo.root, ".mlops", "stacks", "int", "deployment.json"), "utf8")) as {
      modelVersion: string;
      pid: number;
    };
    expect(deployment.modelVersion).to.equal("1");
    expect(inferenceServersOn(PORTS.int)).to.deep.equal([deployment.pid]);
  });
});
