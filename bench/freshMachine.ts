/**
 * Benchmark of the first release on a fresh machine, for the README's figures: `mlops release --target local`
 * up to the approval hold, from an empty venv root and empty package caches (UV_CACHE_DIR and PIP_CACHE_DIR
 * pointed at new empty folders, so uv itself, every wheel and every index page is fetched again), once with uv
 * (the default) and once with MLOPS_UV=off (pip), alternating, in one run.
 *
 * Usage: npx tsx bench/freshMachine.ts [uvRuns=3] [pipRuns=1]
 * Runs in temporary copies of the repository on ports 5690-5694 and stops every process it starts; needs the
 * package index. Writes bench/results/freshMachine.json and prints a Markdown table (min / median / max).
 */
import { execa } from "execa";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Release } from "../driver/core/release.js";
import { STEPS } from "../driver/core/release.js";
import { makeTempRepo, REPO_ROOT } from "../test/e2e/localRepoFixture.js";

const PORTS = { mlflow: 5690, int: 5691, prod: 5692, prodBlue: 5693, prodGreen: 5694 };
const uvRuns = Number(process.argv[2] ?? 3);
const pipRuns = Number(process.argv[3] ?? 1);
const cli = path.join(REPO_ROOT, "bin", "mlops.js");

type Tool = "uv" | "pip";
interface Run {
  tool: Tool;
  /** wall time of `mlops release` to the approval hold */
  ms: number;
  /** the environment's build time and the tool its completion marker names */
  envSeconds: number;
  installer: string;
  steps: Record<string, number>;
  /** the machine's 1-minute load average when the run started (2 cores: above 2 the run shares the CPUs) */
  loadAtStart: number;
}

async function freshRelease(tool: Tool): Promise<Run> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), "mlops-fresh-"));
  const repo = await makeTempRepo(PORTS);
  const venvRoot = path.join(scratch, "venvs");
  const env: Record<string, string> = {
    MLOPS_VENV_ROOT: venvRoot,
    UV_CACHE_DIR: path.join(scratch, "uv-cache"),
    PIP_CACHE_DIR: path.join(scratch, "pip-cache"),
    MLOPS_UV: tool === "pip" ? "off" : "",
  };
  for (const d of [env.UV_CACHE_DIR!, env.PIP_CACHE_DIR!]) await mkdir(d, { recursive: true });
  try {
    const loadAtStart = os.loadavg()[0]!;
    const t0 = performance.now();
    const r = await execa("node", [cli, "--repo", repo.root, "--json", "--quiet", "release", "--target", "local"], {
      env,
      reject: false,
      stdin: "ignore",
    });
    const ms = performance.now() - t0;
    if (r.exitCode !== 0) throw new Error(`mlops release (${tool}) exited ${r.exitCode}: ${r.stderr.split("\n").slice(-3).join(" ")}`);
    const release = JSON.parse(r.stdout) as Release;
    if (release.state !== "awaiting-approval") throw new Error(`release (${tool}) ended ${release.state}`);
    const envDir = (await readdir(venvRoot)).find((n) => /^[0-9a-f]{16}$/.test(n));
    const marker = JSON.parse(await readFile(path.join(venvRoot, envDir!, ".mlops-complete.json"), "utf8")) as { installSeconds: number; installer?: string };
    const steps = Object.fromEntries(
      STEPS.filter((s) => release.steps[s].startedAt && release.steps[s].endedAt).map((s) => [
        s,
        Date.parse(release.steps[s].endedAt!) - Date.parse(release.steps[s].startedAt!),
      ]),
    );
    return { tool, ms, envSeconds: marker.installSeconds, installer: marker.installer ?? "?", steps, loadAtStart };
  } finally {
    await execa("node", [cli, "--repo", repo.root, "--quiet", "down"], { env, reject: false, stdin: "ignore" });
    await repo.remove();
    await rm(scratch, { recursive: true, force: true });
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
function spread(xs: number[]): string {
  if (xs.length === 0) return "not run";
  const v = [...xs].sort((a, b) => a - b);
  const mid = v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  return `${s(v[0]!)} / ${s(mid)} / ${s(v[v.length - 1]!)} (n=${v.length})`;
}

const RESULTS = path.join(REPO_ROOT, "bench", "results", "freshMachine.json");

async function main(): Promise<void> {
  const runs: Run[] = [];
  const failed: { tool: Tool; error: string }[] = [];
  await mkdir(path.dirname(RESULTS), { recursive: true });
  // alternate the tools so that a change of the machine's load falls on both
  const order: Tool[] = [];
  for (let i = 0; i < Math.max(uvRuns, pipRuns); i++) {
    if (i < uvRuns) order.push("uv");
    if (i < pipRuns) order.push("pip");
  }
  for (const [i, tool] of order.entries()) {
    process.stderr.write(`run ${i + 1}/${order.length}: first release with ${tool}, empty caches and venv root\n`);
    try {
      const run = await freshRelease(tool);
      process.stderr.write(`  ${s(run.ms)} (environment ${run.envSeconds} s by ${run.installer}; load ${run.loadAtStart.toFixed(1)} at start)\n`);
      runs.push(run);
    } catch (e) {
      // a failed release (e.g. a server that did not start on a loaded machine) is reported, not counted
      process.stderr.write(`  FAILED: ${(e as Error).message}\n`);
      failed.push({ tool, error: (e as Error).message });
    }
    await writeFile(RESULTS, JSON.stringify({ machine: { cpus: os.cpus().length, node: process.version }, runs, failed }, null, 2));
  }
  const of = (t: Tool) => runs.filter((r) => r.tool === t);
  const lines = [
    "| first release to the approval hold, empty caches (min / median / max) | release | of which the Python environment | load average at the runs' start |",
    "| --- | --- | --- | --- |",
    ...(["uv", "pip"] as Tool[]).map(
      (t) =>
        `| ${t === "uv" ? "uv (default)" : "pip (MLOPS_UV=off)"} | ${spread(of(t).map((r) => r.ms))} | ${spread(of(t).map((r) => r.envSeconds * 1000))} | ${of(
          t,
        )
          .map((r) => r.loadAtStart.toFixed(1))
          .join(", ")} |`,
    ),
    ...(failed.length ? [`| failed runs (not counted) | ${failed.map((f) => `${f.tool}: ${f.error.slice(0, 120)}`).join("; ")} | | |`] : []),
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

await main();
