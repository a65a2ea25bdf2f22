/**
 * End to end: the whole release on this machine with real processes (pytest, ml/pipeline.py, the MLflow
 * tracking server, azmlinfsrv), from a fresh .mlops/ in a temp copy of the repo, on test ports (56xx).
 * The first run on a machine builds the Python environment (~5 min); later runs reuse it.
 */
import { appendFile, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { expect } from "chai";
import { parseReleaseConfig } from "../../driver/config/releaseConfig.js";
import { ReleaseStateMachine } from "../../driver/core/releaseStateMachine.js";
import { newRelease, type Release } from "../../driver/core/release.js";
import { describeTestRun, testsReuseKey } from "../../driver/core/reuseKeys.js";
import { runTestStep } from "../../driver/core/testStep.js";
import { createLocalTarget, type LocalTarget } from "../../driver/targets/local/index.js";
import { MALFORMED_PAYLOAD, postScore, readSmokeRequest } from "../../driver/host/smokeRequest.js";
import { execa } from "execa";
import { REPO_ROOT, SHARED_VENV_ROOT, makeTempRepo, RecordingProgress, type TempRepo } from "./localRepoFixture.js";

const PORTS = { mlflow: 5650, int: 5651, prod: 5652, prodBlue: 5653, prodGreen: 5654 };

async function score(uri: string, payload: unknown): Promise<number[]> {
  const r = await postScore(uri, payload);
  expect(r.status, JSON.stringify(r.body)).to.equal(200);
  return (r.body as { predictions: number[] }).predictions;
}

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => resolve(s));
  });
}

describe("local target, end to end (real MLflow server and azmlinfsrv)", function () {
  this.timeout(15 * 60_000);
  let repo: TempRepo;
  let target: LocalTarget;
  let progress: RecordingProgress;
  let machine: ReleaseStateMachine;
  let first: Release;
  /** the release of 'mlops release --no-reuse' */
  let forced: Release;
  const timings: Record<string, number> = {};

  before(async () => {
    // the profile-int step runs, on two short levels: the profile's own figures are test/e2e/localProfile.test.ts's
    // (mlops.yaml's 4 levels of 5 s would add 20 s to each of this file's two full releases)
    repo = await makeTempRepo(PORTS, { profile: { enabled: true, concurrency: [1, 2], secondsPerLevel: 1, warmupSeconds: 0.5, targetRps: 20 } });
    progress = new RecordingProgress();
    target = await createLocalTarget({ repoRoot: repo.root, config: repo.config, progress, venvRoot: SHARED_VENV_ROOT });
    machine = new ReleaseStateMachine({ target, config: repo.config, progress });
  });

  after(async () => {
    if (target) {
      const stopped = await target.down();
      if (process.env.MLOPS_E2E_VERBOSE) process.stderr.write(`    down: ${stopped.join("; ")}\n    timings: ${JSON.stringify(timings)}\n`);
    }
    if (repo && !process.env.MLOPS_E2E_KEEP) await repo.remove();
  });

  it("creating the target starts nothing", async () => {
    const services = await target.services();
    expect(services.map((s) => s.name)).to.deep.equal(["mlflow", "inference-int", "router-prod", "inference-prod-blue", "inference-prod-green"]);
    expect(services.map((s) => s.running)).to.deep.equal([false, false, false, false, false]);
  });

  it("runs a release from a fresh state dir through test, train, gate, register, deploy and validate INT", async () => {
    // the shared venv root's ledger of test runs may hold a finished run of these inputs (npm test runs `mlops test`
    // first; other e2e files' releases): a passing one is reused, naming it; else the tests run here
    const key = testsReuseKey(await target.source.fingerprint(), target.tests.runner)!;
    const recorded = await target.tests.shared!.newest(key);
    const t0 = Date.now();
    first = await machine.start();
    timings.firstReleaseMs = Date.now() - t0;
    expect(first.state, progress.lines.slice(-5).join("\n")).to.equal("awaiting-approval");
    expect(first.tests!.passed).to.be.greaterThan(0);
    if (recorded?.outcome === "passed") {
      expect(first.tests).to.deep.include({ reusedFrom: recorded.ranBy, reusedFromCheckout: recorded.checkout, passed: recorded.passed });
      expect(first.steps.test.detail).to.match(new RegExp(`^reused the passing run of .* in ${recorded.checkout} \\(${recorded.passed} passed\\)`));
    } else {
      expect(first.tests!.reusedFrom, first.steps.test.detail).to.equal(undefined);
    }
    expect(first.training!.reused).to.equal(false);
    expect(first.gate!.outcome).to.equal("passed");
    expect(first.model!.digest).to.equal(first.training!.modelSha256);
    expect(first.deployments.int!.scoringUri).to.equal(`http://127.0.0.1:${PORTS.int}/score`);
    expect(first.validations.int!.healthy).to.equal(true);
  });

  it("a no-change rerun reuses the training run, the registered version and the INT deployment", async () => {
    const t0 = Date.now();
    const again = await machine.start();
    timings.noChangeRerunMs = Date.now() - t0;
    expect(again.state).to.equal("awaiting-approval");
    // the run that ran the tests: the first release's, or the one it reused
    const ran = first.tests!.reusedFrom ? first.tests! : { reusedFrom: first.id };
    expect(again.tests!.reusedFrom, again.steps.test.detail).to.equal(ran.reusedFrom);
    expect(again.steps.test.detail?.startsWith(`reused the passing run of ${describeTestRun(ran)} (`), again.steps.test.detail).to.equal(true);
    expect(again.testsKey!.digest).to.equal(first.testsKey!.digest);
    expect(again.training!.reused).to.equal(true);
    expect(again.training!.runId).to.equal(first.training!.runId);
    expect(again.model!.version).to.equal(first.model!.version);
    expect(again.deployments.int!.detail).to.match(/^no change/);
  });

  it("approve by a listed approver, then promote: PROD serves the same version and it is champion", async () => {
    const approvers = await target.approvals.approvers("prod");
    expect(approvers.length).to.be.greaterThan(0);
    await machine.approve(first.id, approvers[0]!);
    const t0 = Date.now();
    const released = await machine.promote(first.id);
    timings.promoteMs = Date.now() - t0;
    expect(released.state).to.equal("released");
    expect(released.deployments.prod!.modelVersion).to.equal(first.model!.version);
    const champion = await target.registry.champion(repo.config.model.name);
    expect(champion?.version).to.equal(first.model!.version);
    const tags = (await target.registry.getVersion(first.model!.name, first.model!.version))!.tags;
    expect(tags["mlops.approval.prod.by"]).to.equal(approvers[0]);
    expect(tags["mlops.approval.prod.digest"]).to.equal(first.model!.digest);
  });

  it("both endpoints answer the smoke payload over HTTP with the same predictions", async () => {
    const smoke = await readSmokeRequest(repo.root, repo.config.smoke.request);
    const int = await score(`http://127.0.0.1:${PORTS.int}/score`, smoke.payload);
    const prod = await score(`http://127.0.0.1:${PORTS.prod}/score`, smoke.payload);
    expect(int).to.have.length(smoke.payload.data.length);
    expect(prod).to.deep.equal(int);
    for (const p of prod) expect(p).to.be.within(smoke.prediction_range[0], smoke.prediction_range[1]);
  });

  it("a scoring request of the wrong shape gets a 4xx and the server keeps serving", async () => {
    for (const bad of [MALFORMED_PAYLOAD, { data: "nope" }, { rows: [] }]) {
      const r = await postScore(`http://127.0.0.1:${PORTS.prod}/score`, bad);
      expect(r.status, JSON.stringify(bad)).to.be.within(400, 499);
    }
    const status = await target.environments.describe("prod");
    expect(status.healthy).to.equal(true);
  });

  it("deploying to a stack whose port another process holds fails with an error naming the port and the config key", async () => {
    const busy = await listen(5659);
    try {
      const config = parseReleaseConfig({ ...repo.config, local: { host: "127.0.0.1", ports: { ...PORTS, int: 5659 } } });
      const t = await createLocalTarget({ repoRoot: path.join(repo.root, "other"), config, progress, venvRoot: SHARED_VENV_ROOT });
      const err = await t.environments.deploy("int", first.model!, progress).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.name).to.equal("EnvironmentError");
      expect(err?.message).to.equal("port 5659 (int) is in use by another process; stop it or set local.ports.int in mlops.yaml");
    } finally {
      busy.close();
    }
  });

  it("a port taken from the MLflow server fails with an error naming local.ports.mlflow", async () => {
    const busy = await listen(5658);
    try {
      const config = parseReleaseConfig({ ...repo.config, local: { host: "127.0.0.1", ports: { ...PORTS, mlflow: 5658 } } });
      const t = await createLocalTarget({ repoRoot: path.join(repo.root, "other"), config, progress, venvRoot: SHARED_VENV_ROOT });
      const err = await t.training.findReusable(first.source!).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.equal("port 5658 (mlflow) is in use by another process; stop it or set local.ports.mlflow in mlops.yaml");
    } finally {
      busy.close();
    }
  });

  it("'mlops release --no-reuse' runs the tests and trains again; 'mlops status <id>' shows the reuse keys' inputs", async () => {
    const cli = (...args: string[]) =>
      execa(process.execPath, [path.join(REPO_ROOT, "bin", "mlops.js"), "--repo", repo.root, ...args], {
        env: { MLOPS_VENV_ROOT: SHARED_VENV_ROOT },
        reject: false,
        stdin: "ignore",
      });
    const run = await cli("--json", "--quiet", "release", "--no-reuse");
    expect(run.exitCode, run.stderr).to.equal(0);
    const r = JSON.parse(run.stdout) as Release;
    forced = r;
    expect(r.noReuse).to.equal(true);
    expect(r.tests!.reusedFrom).to.equal(undefined);
    expect(r.tests!.passed).to.be.greaterThan(0);
    expect(r.training!.reused).to.equal(false);
    expect(r.training!.runId).to.not.equal(first.training!.runId);
    const status = await cli("status", r.id);
    expect(status.stdout).to.match(/reuse keys \(--no-reuse: every step ran\)/);
    for (const input of ["code", "tests", "data", "environment", "runner"]) expect(status.stdout).to.match(new RegExp(`\\n\\s+${input}\\s+\\S`));
  });

  it("another checkout sharing the venv root reuses that run at its test step, naming the release and the checkout", async () => {
    const other = await makeTempRepo(PORTS);
    try {
      const t = await createLocalTarget({ repoRoot: other.root, config: other.config, progress, venvRoot: SHARED_VENV_ROOT });
      const r = newRelease("rel-20261202-120000-e2e0", "local", other.config.model.name, new Date().toISOString());
      const detail = await runTestStep(r, t, progress, async () => undefined);
      expect(r.tests).to.deep.include({ reusedFrom: forced.id, reusedFromCheckout: repo.root, passed: forced.tests!.passed });
      expect(r.testsKey!.digest).to.equal(forced.testsKey!.digest);
      expect(detail).to.equal(
        `reused the passing run of release ${forced.id} in ${repo.root} (${forced.tests!.passed} passed): code, tests, data, environment, runner unchanged; shared through ${path.join(SHARED_VENV_ROOT, "test-runs")}`,
      );
    } finally {
      await other.remove();
    }
  });

  it("a failing ML unit test rejects the release before anything is trained", async () => {
    const bad = path.join(repo.root, "ml", "tests", "test_zz_deliberately_failing.py");
    await writeFile(bad, "def test_fails():\n    assert 1 == 2\n");
    try {
      const err = await machine.start().then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
      expect(err?.code).to.equal("tests-failed");
      const [r] = (await target.store.list()).filter((x) => x.state === "rejected");
      expect(r!.steps.test.status).to.equal("failed");
      expect(r!.steps.train.status).to.equal("pending");
    } finally {
      await rm(bad, { force: true });
    }
  });

  it("malformed data.txt is a DataError at the test step naming the file, line and column: nothing runs or trains", async () => {
    // The data check runs before the ML tests (which read ml/data.txt themselves): a bad row is reported as a data
    // error, not as a screen of failing tests, and the release is rejected there.
    const lines = (await readFile(path.join(repo.root, "ml", "data.txt"), "utf8")).trimEnd().split("\n").length;
    await appendFile(path.join(repo.root, "ml", "data.txt"), "1,2,not-a-number,4,5,6,7,8,9,10,11\n");
    const err = await machine.start().then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code, err?.message).to.equal("data");
    expect(err!.message).to.match(new RegExp(`data\\.txt line ${lines + 1}, column '\\w+': 'not-a-number' is not a number`));
    const rejected = (await target.store.list()).find((x) => x.steps.test.status === "failed");
    expect(rejected!.state).to.equal("rejected");
    expect(rejected!.steps.train.status).to.equal("pending");
  });
});
