/**
 * Benchmark of the local release, for the README's figures (issue 11, goals 2 and 3). Each of RUNS rounds, in a
 * fresh temporary copy of the repository (warm Python environment, fresh .mlops/ state):
 *   1. full release: `mlops release` up to the approval hold, as a user runs it (profile as in mlops.yaml);
 *   2. no-change rerun: `mlops release` again (tests, training, version, INT deployment and profile reused);
 *   3. the bare steps floor, in another fresh copy, in the same round: the commands the driver runs, each on its
 *      own with the same arguments and environment and nothing of the driver around them: pytest (PYTEST_ARGS,
 *      PYTEST_ENV), the MLflow server's start, ml/pipeline.py, azmlinfsrv's start and one scoring request, and the
 *      load profile of that server (profileEndpoint with mlops.yaml's settings).
 * Ratios per round: rerun / full (goal <= 0.10) and full / bare (goal <= 1.10); min / median / max over rounds.
 * "bare, MLflow beside pytest" is the same floor with the server's start overlapping pytest (its critical path).
 *
 * Usage: npx tsx bench/localRelease.ts [runs=3]
 * Ports 5680-5689; every process it starts is stopped. Writes bench/results/localRelease.json, prints Markdown.
 */
import { execa } from "execa";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Release } from "../driver/core/release.js";
import { STEPS } from "../driver/core/release.js";
import type { Progress } from "../driver/core/ports.js";
import { ensurePythonEnv } from "../driver/host/pythonEnv.js";
import { PYTEST_ARGS, PYTEST_ENV } from "../driver/host/pytestUnitTests.js";
import { mlflowServerArgs } from "../driver/targets/local/mlflowServer.js";
import { inferenceServerArgs, healthUri, scoringUri } from "../driver/targets/local/inferenceServer.js";
import { localPaths } from "../driver/targets/local/localPaths.js";
import { spawnDetached, stopProcessGroup } from "../driver/host/processes.js";
import { waitForHttp } from "../driver/host/httpProbe.js";
import { readSmokeRequest, postScore } from "../driver/host/smokeRequest.js";
import { profileEndpoint } from "../driver/profile/profileEndpoint.js";
import { makeTempRepo, REPO_ROOT, SHARED_VENV_ROOT } from "../test/e2e/localRepoFixture.js";

const PORTS = { mlflow: 5680, int: 5681, prod: 5682, prodBlue: 5683, prodGreen: 5684 };
const RUNS = Math.max(1, Number(process.argv[2] ?? 3));
const quiet: Progress = { stepStarted() {}, stepFinished() {}, info() {} };
const cli = path.join(REPO_ROOT, "bin", "mlops.js");
const env = { ...process.env, MLOPS_VENV_ROOT: SHARED_VENV_ROOT };

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

async function mlops(root: string, ...args: string[]): Promise<Release> {
  const r = await execa(process.execPath, [cli, "--repo", root, "--json", "--quiet", ...args], { env, reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) throw new Error(`mlops ${args.join(" ")} exited ${r.exitCode}: ${r.stderr.split("\n").slice(-3).join(" ")}`);
  return JSON.parse(r.stdout) as Release;
}

const stepMs = (r: Release): Record<string, number> =>
  Object.fromEntries(
    STEPS.filter((s) => r.steps[s].startedAt && r.steps[s].endedAt).map((s) => [s, Date.parse(r.steps[s].endedAt!) - Date.parse(r.steps[s].startedAt!)]),
  );

interface ReleaseRound {
  fullMs: number;
  fullSteps: Record<string, number>;
  rerunMs: number;
  rerunSteps: Record<string, number>;
}

async function releaseAndRerun(): Promise<ReleaseRound> {
  const repo = await makeTempRepo(PORTS);
  try {
    const [first, fullMs] = await timed(() => mlops(repo.root, "release"));
    if (first.state !== "awaiting-approval") throw new Error(`release ended ${first.state}`);
    const [again, rerunMs] = await timed(() => mlops(repo.root, "release"));
    if (again.tests?.reusedFrom !== first.id) throw new Error(`the rerun did not reuse the tests: ${again.steps.test.detail}`);
    if (!again.training?.reused) throw new Error("the rerun did not reuse the training");
    return { fullMs, fullSteps: stepMs(first), rerunMs, rerunSteps: stepMs(again) };
  } finally {
    await execa(process.execPath, [cli, "--repo", repo.root, "--quiet", "down"], { env, reject: false, stdin: "ignore" });
    await repo.remove();
  }
}

/** The commands a release runs, each timed on its own, with nothing of the driver around them. */
async function bareSteps(): Promise<Record<string, number>> {
  const repo = await makeTempRepo(PORTS);
  const paths = localPaths(repo.root, SHARED_VENV_ROOT);
  const py = await ensurePythonEnv({ repoRoot: repo.root, venvRoot: SHARED_VENV_ROOT, progress: quiet });
  const pids: number[] = [];
  const out: Record<string, number> = {};
  try {
    await mkdir(paths.logs, { recursive: true });
    [, out.pytest] = await timed(() => execa(py.python, [...PYTEST_ARGS], { cwd: path.join(repo.root, "ml"), env: PYTEST_ENV, stdin: "ignore" }));
    await mkdir(paths.mlflowArtifacts, { recursive: true });
    [, out.mlflowStart] = await timed(async () => {
      const logFile = path.join(paths.logs, "bench-mlflow.log");
      const p = spawnDetached(py.bin("mlflow"), mlflowServerArgs(paths, PORTS.mlflow), {
        cwd: paths.mlflowDir,
        env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false" },
        logFile,
      });
      pids.push(p.pid);
      await waitForHttp({ url: `http://127.0.0.1:${PORTS.mlflow}/health`, what: "mlflow", timeoutMs: 240_000, pid: p.pid, logFile, progress: quiet });
    });
    const outDir = path.join(repo.root, ".mlops", "bench-run");
    [, out.pipeline] = await timed(() =>
      execa(py.python, [path.join("ml", "pipeline.py"), "--data", path.join("ml", "data.txt"), "--out", outDir], {
        cwd: repo.root,
        env: {
          MLFLOW_TRACKING_URI: `http://127.0.0.1:${PORTS.mlflow}`,
          MLFLOW_EXPERIMENT_NAME: repo.config.model.experiment,
          PYTHONDONTWRITEBYTECODE: "1",
          PYTHONUNBUFFERED: "1",
        },
        stdin: "ignore",
      }),
    );
    const run = JSON.parse(await readFile(path.join(outDir, "run.json"), "utf8")) as { model_dir: string };
    const smoke = await readSmokeRequest(repo.root, repo.config.smoke.request);
    const modelDir = path.dirname(run.model_dir);
    let serverPid = 0;
    [, out.serveAndScore] = await timed(async () => {
      const logFile = path.join(paths.logs, "bench-inference.log");
      const entry = path.join(repo.root, "ml", "score.py");
      const p = spawnDetached(py.python, inferenceServerArgs(entry, modelDir, PORTS.int), {
        cwd: path.dirname(entry),
        env: { ...process.env, AZUREML_MODEL_DIR: modelDir, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
        logFile,
      });
      pids.push(p.pid);
      serverPid = p.pid;
      await waitForHttp({ url: healthUri(PORTS.int), what: "azmlinfsrv", timeoutMs: 120_000, pid: p.pid, logFile, progress: quiet });
      const r = await postScore(scoringUri(PORTS.int), smoke.payload);
      if (r.status !== 200) throw new Error(`scoring answered ${r.status}`);
    });
    [, out.profile] = await timed(() =>
      profileEndpoint({
        stack: "int",
        url: scoringUri(PORTS.int),
        body: JSON.stringify(smoke.payload),
        pid: serverPid,
        config: repo.config.profile,
        progress: quiet,
      }),
    );
    return out;
  } finally {
    for (const pid of pids) await stopProcessGroup(pid);
    await repo.remove();
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const spread = (xs: number[], f: (x: number) => string) => `${f(Math.min(...xs))} / ${f(median(xs))} / ${f(Math.max(...xs))}`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const r2 = (x: number) => x.toFixed(3);

async function main(): Promise<void> {
  process.stderr.write("warming the Python environment (built once per conda.yml)\n");
  const warm = await makeTempRepo(PORTS);
  await ensurePythonEnv({ repoRoot: warm.root, venvRoot: SHARED_VENV_ROOT, progress: quiet });
  await warm.remove();

  const rounds: Array<ReleaseRound & { bare: Record<string, number>; bareMs: number; bareOverlappedMs: number }> = [];
  for (let i = 1; i <= RUNS; i++) {
    process.stderr.write(`round ${i}/${RUNS}: full release and no-change rerun\n`);
    const rel = await releaseAndRerun();
    process.stderr.write(`round ${i}/${RUNS}: bare steps\n`);
    const bare = await bareSteps();
    const bareMs = sum(Object.values(bare));
    const bareOverlappedMs = bareMs - Math.min(bare.pytest!, bare.mlflowStart!);
    rounds.push({ ...rel, bare, bareMs, bareOverlappedMs });
    process.stderr.write(`  full ${s(rel.fullMs)}, rerun ${s(rel.rerunMs)}, bare ${s(bareMs)}\n`);
  }
  const col = (f: (r: (typeof rounds)[number]) => number) => rounds.map(f);
  const stepNames = [...new Set(rounds.flatMap((r) => Object.keys(r.fullSteps)))];
  const bareNames = Object.keys(rounds[0]!.bare);
  const result = {
    machine: { cpus: os.cpus().length, node: process.version, loadAverageAtEnd: os.loadavg() },
    runs: RUNS,
    rounds,
  };
  await mkdir(path.join(REPO_ROOT, "bench", "results"), { recursive: true });
  await writeFile(path.join(REPO_ROOT, "bench", "results", "localRelease.json"), JSON.stringify(result, null, 2));
  const lines = [
    `Local release, ${RUNS} rounds (min / median / max)`,
    "",
    "| figure | min / median / max |",
    "| --- | --- |",
    `| full release to the approval hold (warm environment, fresh state) | ${spread(
      col((r) => r.fullMs),
      s,
    )} |`,
    ...stepNames.map(
      (n) =>
        `| - of which ${n} | ${spread(
          col((r) => r.fullSteps[n] ?? 0),
          s,
        )} |`,
    ),
    `| no-change rerun (tests, training, version, INT deployment, profile reused) | ${spread(
      col((r) => r.rerunMs),
      s,
    )} |`,
    `| rerun / full release (goal <= 0.10) | ${spread(
      col((r) => r.rerunMs / r.fullMs),
      r2,
    )} |`,
    `| bare steps, one after another (same round) | ${spread(
      col((r) => r.bareMs),
      s,
    )} |`,
    ...bareNames.map(
      (n) =>
        `| - of which ${n} | ${spread(
          col((r) => r.bare[n]!),
          s,
        )} |`,
    ),
    `| full release / bare steps (goal <= 1.10) | ${spread(
      col((r) => r.fullMs / r.bareMs),
      r2,
    )} |`,
    `| bare steps with MLflow's start beside pytest | ${spread(
      col((r) => r.bareOverlappedMs),
      s,
    )} |`,
    `| full release / that floor | ${spread(
      col((r) => r.fullMs / r.bareOverlappedMs),
      r2,
    )} |`,
    "",
    `load average at the end: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

await main();
