/**
 * Benchmark of the local release, for the README's figures:
 *   1. the full release up to the approval hold, warm Python environment, fresh state (`mlops release` as a user runs it);
 *   2. the no-change rerun (training, registration and the INT deployment reused);
 *   3. the driver's overhead over the bare steps: the same release with profiling off, against the sum of the
 *      commands it runs, timed on their own (pytest, MLflow server start, pipeline.py, azmlinfsrv start + one
 *      scoring request).
 *
 * Usage: npx tsx bench/localRelease.ts [reruns=2]
 * Runs in temporary copies of the repository on ports 5680-5689 and stops every process it starts.
 * Writes bench/results/localRelease.json and prints a Markdown table.
 */
import { execa } from "execa";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parse, stringify } from "yaml";
import { readFile } from "node:fs/promises";
import type { Release } from "../driver/core/release.js";
import { STEPS } from "../driver/core/release.js";
import type { Progress } from "../driver/core/ports.js";
import { ensurePythonEnv } from "../driver/host/pythonEnv.js";
import { mlflowServerArgs } from "../driver/targets/local/mlflowServer.js";
import { inferenceServerArgs, healthUri, scoringUri } from "../driver/targets/local/inferenceServer.js";
import { localPaths } from "../driver/targets/local/localPaths.js";
import { spawnDetached, stopProcessGroup } from "../driver/host/processes.js";
import { waitForHttp } from "../driver/host/httpProbe.js";
import { readSmokeRequest, postScore } from "../driver/host/smokeRequest.js";
import { makeTempRepo, REPO_ROOT, SHARED_VENV_ROOT } from "../test/e2e/localRepoFixture.js";

const PORTS = { mlflow: 5680, int: 5681, prod: 5682, prodBlue: 5683, prodGreen: 5684 };
const reruns = Number(process.argv[2] ?? 2);
const quiet: Progress = { stepStarted() {}, stepFinished() {}, info() {} };
const cli = path.join(REPO_ROOT, "bin", "mlops.js");
const env = { ...process.env, MLOPS_VENV_ROOT: SHARED_VENV_ROOT };

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

async function mlops(root: string, ...args: string[]): Promise<Release> {
  const r = await execa("node", [cli, "--repo", root, "--json", "--quiet", ...args], { env, reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) throw new Error(`mlops ${args.join(" ")} exited ${r.exitCode}: ${r.stderr.split("\n").slice(-3).join(" ")}`);
  return JSON.parse(r.stdout) as Release;
}

async function withProfile(root: string, enabled: boolean): Promise<void> {
  const file = path.join(root, "mlops.yaml");
  const raw = parse(await readFile(file, "utf8")) as Record<string, Record<string, unknown>>;
  raw.profile = { ...(raw.profile ?? {}), enabled };
  await writeFile(file, stringify(raw));
}

const stepMs = (r: Release): Record<string, number> =>
  Object.fromEntries(
    STEPS.filter((s) => r.steps[s].startedAt && r.steps[s].endedAt).map((s) => [s, Date.parse(r.steps[s].endedAt!) - Date.parse(r.steps[s].startedAt!)]),
  );

async function fullRelease(profile: boolean): Promise<{ ms: number; steps: Record<string, number>; reruns: number[] }> {
  const repo = await makeTempRepo(PORTS);
  try {
    await withProfile(repo.root, profile);
    const [first, ms] = await timed(() => mlops(repo.root, "release"));
    if (first.state !== "awaiting-approval") throw new Error(`release ended ${first.state}`);
    const again: number[] = [];
    for (let i = 0; i < (profile ? reruns : 0); i++) {
      const [r, t] = await timed(() => mlops(repo.root, "release"));
      if (!r.training?.reused) throw new Error("the rerun did not reuse the training");
      again.push(t);
    }
    return { ms, steps: stepMs(first), reruns: again };
  } finally {
    await execa("node", [cli, "--repo", repo.root, "--quiet", "down"], { env, reject: false, stdin: "ignore" });
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
    [, out.pytest] = await timed(() => execa(py.python, ["-m", "pytest", "-q", "tests"], { cwd: path.join(repo.root, "ml"), stdin: "ignore" }));
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
      execa(py.python, ["ml/pipeline.py", "--data", "ml/data.txt", "--out", outDir], {
        cwd: repo.root,
        env: { ...process.env, MLFLOW_TRACKING_URI: `http://127.0.0.1:${PORTS.mlflow}`, MLFLOW_EXPERIMENT_NAME: "diabetes" },
        stdin: "ignore",
      }),
    );
    const run = JSON.parse(await readFile(path.join(outDir, "run.json"), "utf8")) as { model_dir: string };
    const smoke = await readSmokeRequest(repo.root, repo.config.smoke.request);
    [, out.serveAndScore] = await timed(async () => {
      const logFile = path.join(paths.logs, "bench-inference.log");
      const p = spawnDetached(py.python, inferenceServerArgs(path.join(repo.root, "ml", "score.py"), path.dirname(run.model_dir), PORTS.int), {
        cwd: path.join(repo.root, "ml"),
        env: { ...process.env, AZUREML_MODEL_DIR: path.dirname(run.model_dir) },
        logFile,
      });
      pids.push(p.pid);
      await waitForHttp({ url: healthUri(PORTS.int), what: "azmlinfsrv", timeoutMs: 120_000, pid: p.pid, logFile, progress: quiet });
      const r = await postScore(scoringUri(PORTS.int), smoke.payload);
      if (r.status !== 200) throw new Error(`scoring answered ${r.status}`);
    });
    return out;
  } finally {
    for (const pid of pids) await stopProcessGroup(pid);
    await repo.remove();
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  process.stderr.write("warming the Python environment (built once per conda.yml)\n");
  const warm = await makeTempRepo(PORTS);
  await ensurePythonEnv({ repoRoot: warm.root, venvRoot: SHARED_VENV_ROOT, progress: quiet });
  await warm.remove();

  process.stderr.write("full release (profile on) and no-change reruns\n");
  const full = await fullRelease(true);
  process.stderr.write("release with profiling off\n");
  const noProfile = await fullRelease(false);
  process.stderr.write("bare steps\n");
  const bare = await bareSteps();
  const bareSum = Object.values(bare).reduce((a, b) => a + b, 0);
  const result = {
    machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
    fullReleaseMs: full.ms,
    fullReleaseSteps: full.steps,
    noChangeRerunMs: full.reruns,
    releaseWithoutProfileMs: noProfile.ms,
    bareStepsMs: bare,
    bareSumMs: bareSum,
    driverOverheadMs: noProfile.ms - bareSum,
  };
  await mkdir(path.join(REPO_ROOT, "bench", "results"), { recursive: true });
  await writeFile(path.join(REPO_ROOT, "bench", "results", "localRelease.json"), JSON.stringify(result, null, 2));
  const lines = [
    "| figure | value |",
    "| --- | --- |",
    `| full local release to the approval hold (warm environment, fresh state) | ${s(full.ms)} |`,
    `| of which per step | ${Object.entries(full.steps)
      .map(([k, v]) => `${k} ${s(v)}`)
      .join(", ")} |`,
    `| no-change rerun (training, version and INT deployment reused) | ${full.reruns.map(s).join(", ")} |`,
    `| release without the profile step | ${s(noProfile.ms)} |`,
    `| the same commands run bare | ${s(bareSum)} (${Object.entries(bare)
      .map(([k, v]) => `${k} ${s(v)}`)
      .join(", ")}) |`,
    `| driver overhead over the bare steps | ${s(noProfile.ms - bareSum)} |`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

await main();
