/**
 * End to end: a release killed with SIGKILL in the middle of a step, against the real local adapters (pytest,
 * ml/pipeline.py, the MLflow server, azmlinfsrv), then `mlops resume`: nothing is done twice. One MLflow run,
 * one model version, one INT inference server. Then the services the tool starts: a PROD slot and the MLflow
 * server killed between their start and ready are still the tool's (`resume` goes on, `down` leaves no process of
 * their group and frees the port), and a stranger on a configured port is refused before the first step.
 * `mlops` runs as a user runs it, a subprocess of bin/mlops.js, in a temp copy of the repo on ports 5740-5744.
 */
import { execFile, spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import net from "node:net";
import { MlflowClient } from "../../driver/mlflow/mlflowClient.js";
import { httpOk } from "../../driver/host/httpProbe.js";
import { isPortFree } from "../../driver/host/portProbe.js";
import { REPO_ROOT, SHARED_VENV_ROOT, makeTempRepo, type TempRepo } from "./localRepoFixture.js";

const PORTS = { mlflow: 5740, int: 5741, prod: 5742, prodBlue: 5743, prodGreen: 5744 };
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

/** Process groups of every process whose command line names this temp repo (servers, router), by `ps`. */
function groupsOfRepo(root: string): Set<number> {
  const out = execFileSync("ps", ["-eo", "pgid=,args="], { encoding: "utf8" });
  return new Set(
    out
      .split("\n")
      .filter((l) => l.includes(root))
      .map((l) => Number(l.trim().split(/\s+/)[0])),
  );
}

/** Live (not zombie) pids of process group `pgid`, by `ps`. */
function liveInGroup(pgid: number): number[] {
  const out = execFileSync("ps", ["-eo", "pid=,pgid=,stat="], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => Number(f[1]) === pgid && !f[2]?.startsWith("Z"))
    .map((f) => Number(f[0]));
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 180_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

type ReleaseSummary = { id: string; state: string; interruptedAt: string | null };
async function releases(repo: string): Promise<ReleaseSummary[]> {
  const status = await mlops(repo, "--json", "status");
  expect(status.code, status.stderr).to.equal(0);
  return (JSON.parse(status.stdout) as { releases: ReleaseSummary[] }).releases;
}

/** `mlops down`, then: no process is left in any of `groups`, and every port of the test is free. */
async function downLeavesNothing(repo: string, groups: Set<number>): Promise<void> {
  const down = await mlops(repo, "down");
  expect(down.code, down.stderr).to.equal(0);
  for (const g of groups) expect(liveInGroup(g), `process group ${g} after 'mlops down'`).to.deep.equal([]);
  for (const [key, port] of Object.entries(PORTS)) expect(await isPortFree(port), `port ${port} (${key}) after 'mlops down'`).to.equal(true);
}

/** Starts `mlops <args>` (default: release) and SIGKILLs it once `when` holds; resolves with its stderr so far. */
function releaseKilledWhen(repo: string, when: (stderr: string) => boolean, args: string[] = ["release"]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MLOPS, "--repo", repo, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
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
      else reject(new Error(`mlops ${args.join(" ")} ended on its own (code ${code}) before the kill point:\n${stderr}`));
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
  it("a promote SIGKILLed while a PROD slot's server starts: resume serves PROD, and down leaves no process of its group", async () => {
    const [release] = (await releases(repo.root)).filter((r) => r.state === "awaiting-approval");
    const approved = await mlops(repo.root, "approve", release!.id, "--as", "alice@contoso.com");
    expect(approved.code, approved.stderr).to.equal(0);
    // the kill point: blue's server exists (spawned), prod's deploy still waits for it to be ready
    const stderr = await releaseKilledWhen(
      repo.root,
      (err) => /waiting for prod \(blue\)'s inference server/.test(err) && inferenceServersOn(PORTS.prodBlue).length > 0,
      ["promote", release!.id],
    );
    expect(stderr).to.not.match(/\[mlops\] deploy-prod: done/);
    const [orphan] = inferenceServersOn(PORTS.prodBlue);
    const groups = groupsOfRepo(repo.root);
    expect(groups.has(orphan!), "the slot server runs in its own process group").to.equal(true);

    const resumed = await mlops(repo.root, "--json", "resume", release!.id);
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect((JSON.parse(resumed.stdout) as { state: string }).state).to.equal("released");
    expect(inferenceServersOn(PORTS.prodBlue)).to.have.length(1); // adopted or replaced, never two

    await downLeavesNothing(repo.root, new Set([...groups, ...groupsOfRepo(repo.root)]));
  });

  it("a release SIGKILLed while the MLflow server starts, whose leader then dies (its worker keeps the port): resume goes on, down leaves nothing", async () => {
    const mlflowRecord = path.join(repo.root, ".mlops", "services", "mlflow.json");
    // MLflow starts in the background from preflight, before the release record exists: kill once the record does
    // (its test step has started) while the server is still starting
    const before = new Set((await releases(repo.root)).map((r) => r.id));
    await releaseKilledWhen(repo.root, (err) => /waiting for the MLflow tracking server/.test(err) && /\[mlops\] test: /.test(err));
    const { pid: leader } = JSON.parse(await readFile(mlflowRecord, "utf8")) as { pid: number };
    await until("the MLflow server to answer", () => httpOk(`http://127.0.0.1:${PORTS.mlflow}/health`));
    const groups = new Set([leader, ...groupsOfRepo(repo.root)]);
    process.kill(leader, "SIGKILL");
    await until("the MLflow leader to be gone", () => !liveInGroup(leader).includes(leader), 10_000);
    expect(liveInGroup(leader), "the MLflow worker outlives its leader").to.not.deep.equal([]);
    expect(await isPortFree(PORTS.mlflow)).to.equal(false);

    // the release the killed CLI started (status marks it failed: interrupted at its step, or before its first
    // step was recorded as running)
    const interrupted = (await releases(repo.root)).find((r) => !before.has(r.id));
    expect(interrupted, "the killed release's record").to.not.equal(undefined);
    expect(interrupted!.state).to.equal("failed");
    const resumed = await mlops(repo.root, "--json", "resume", interrupted!.id);
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect((JSON.parse(resumed.stdout) as { state: string }).state).to.equal("awaiting-approval");

    await downLeavesNothing(repo.root, new Set([...groups, ...groupsOfRepo(repo.root)]));
  });

  it("a stranger's process on a configured port refuses a release before its first step, with one line naming the port and key", async () => {
    const before = (await releases(repo.root)).length;
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(PORTS.int, "127.0.0.1", () => r()));
    try {
      const r = await mlops(repo.root, "release");
      expect(r.code).to.equal(8);
      expect(r.stderr).to.contain(`mlops: port ${PORTS.int} (int) is in use by another process; stop it or set local.ports.int in mlops.yaml`);
      expect(r.stderr, "no step ran").to.not.match(/\[mlops\] test: /);
      expect((await releases(repo.root)).length, "no release was recorded").to.equal(before);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });
});
