/**
 * Figures for the README:
 *   (1) the profiler's run-to-run spread against a loopback endpoint with a fixed 20 ms delay (in this process);
 *   (2) the weighted router's overhead (issue 11, goal 5: p99 overhead <= 5 % at the profiled concurrency): the
 *       router run as the local target runs PROD's (its own process: node --import tsx driver/router/routerMain.ts,
 *       100/0 split as after a rollout) in front of an upstream in its own process, profiled direct and through the
 *       router at mlops.yaml's profile.concurrency levels, RUNS times with the order alternating. Two upstreams:
 *       the real inference server (azmlinfsrv serving a model trained by ml/pipeline.py, as INT and PROD run it)
 *       for the relative figure, and an instantly answering loopback server for the router's cost in milliseconds
 *       and its CPU per request (from /proc, Linux), which is also measured in front of azmlinfsrv.
 *   npx tsx bench/profileAndRouter.ts [runs=3] [seconds=2]
 * Ports 5740-5743; every process it starts is stopped. Prints Markdown; writes bench/results/profile-router.json.
 */
import { execa } from "execa";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readReleaseConfig } from "../driver/config/releaseConfig.js";
import type { Progress } from "../driver/core/ports.js";
import { waitForHttp } from "../driver/host/httpProbe.js";
import { isPortFree } from "../driver/host/portProbe.js";
import { cpuTimeMs, membersOfGroup } from "../driver/host/procScan.js";
import { spawnDetached, stopProcessGroup } from "../driver/host/processes.js";
import { ensurePythonEnv } from "../driver/host/pythonEnv.js";
import { readSmokeRequest } from "../driver/host/smokeRequest.js";
import { runLoadLevel } from "../driver/profile/loadLevel.js";
import { runProfile } from "../driver/profile/profiler.js";
import type { LevelResult } from "../driver/profile/profileTypes.js";
import { writeRouterStateFile } from "../driver/router/routerStateFile.js";
import { adminFileFor } from "../driver/router/routerAdminFile.js";
import { RouterClient } from "../driver/router/routerClient.js";
import { healthUri, inferenceServerArgs, scoringUri } from "../driver/targets/local/inferenceServer.js";
import { ROUTER_MAIN } from "../driver/targets/local/routerProcess.js";
import { SHARED_VENV_ROOT } from "../test/e2e/localRepoFixture.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Math.min(10, Math.max(2, Number(process.argv[2] ?? 3)));
const SECONDS = Math.min(10, Math.max(1, Number(process.argv[3] ?? 2)));
const STABILITY_LEVELS = [1, 4, 16];
const PORTS = { inference: 5740, instant: 5741, routerReal: 5742, routerInstant: 5743 };
/** loose enough that no level stops the profile early: every level is measured on both paths */
const LOOSE_SLO = { p95Ms: 60_000, p99Ms: 60_000, maxErrorRate: 1 };
const quiet: Progress = { stepStarted() {}, stepFinished() {}, info() {} };
const pids: number[] = [];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mmm = (xs: number[], f: (x: number) => string): string => `${f(Math.min(...xs))} / ${f(median(xs))} / ${f(Math.max(...xs))}`;
const spread = (xs: number[]): string => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return `${mean.toFixed(2)} ± ${((100 * (Math.max(...xs) - Math.min(...xs))) / 2 / mean).toFixed(1)}%`;
};

async function delayServer(delayMs: number): Promise<{ url: string; close: () => Promise<void> }> {
  const s = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => setTimeout(() => (res.writeHead(200, { "content-type": "application/json" }), res.end("[152.1]")), delayMs));
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, close: () => (s.closeAllConnections(), new Promise((r) => s.close(() => r()))) };
}

const profile = (url: string, body: string, levels: readonly number[], warmupSeconds = 1): Promise<LevelResult[]> =>
  runProfile({ request: { url, body }, settings: { concurrency: levels, secondsPerLevel: SECONDS, warmupSeconds, slo: LOOSE_SLO } }).then((r) => r.levels);

/** (1) profiler stability, in this process */
async function stability(lines: string[], out: Record<string, unknown>): Promise<void> {
  const delayed = await delayServer(20);
  const runs: LevelResult[][] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await profile(`${delayed.url}/score`, '{"data":[[1,2,3]]}', STABILITY_LEVELS));
  await delayed.close();
  out.stability = runs;
  lines.push(
    `Profiler stability: loopback endpoint with a fixed 20 ms delay, ${RUNS} runs, ${SECONDS} s per level (mean ± half-range)`,
    "",
    "| concurrency | req/s | p50 ms | p95 ms | p99 ms |",
    "| --- | --- | --- | --- | --- |",
  );
  STABILITY_LEVELS.forEach((c, i) => {
    const at = runs.map((r) => r[i]!);
    lines.push(
      `| ${c} | ${spread(at.map((l) => l.throughputRps))} | ${spread(at.map((l) => l.p50Ms))} | ${spread(at.map((l) => l.p95Ms))} | ${spread(at.map((l) => l.p99Ms))} |`,
    );
  });
}

/** An instantly answering loopback server in its own process. */
async function startInstantUpstream(dir: string): Promise<{ url: string; pid: number }> {
  const script = `require("node:http").createServer((q,s)=>{q.resume();q.on("end",()=>{s.writeHead(200,{"content-type":"application/json"});s.end("[152.1]")})}).listen(${PORTS.instant},"127.0.0.1")`;
  const logFile = path.join(dir, "instant.log");
  const p = spawnDetached(process.execPath, ["-e", script], { cwd: dir, env: { ...process.env }, logFile });
  pids.push(p.pid);
  const url = `http://127.0.0.1:${PORTS.instant}`;
  await waitForHttp({ url: `${url}/health`, what: "instant upstream", timeoutMs: 30_000, pid: p.pid, logFile, progress: quiet });
  return { url, pid: p.pid };
}

/** azmlinfsrv serving a model trained by ml/pipeline.py (local SQLite tracking store, no server), as INT runs it. */
async function startInferenceUpstream(dir: string): Promise<{ url: string; pid: number }> {
  const py = await ensurePythonEnv({ repoRoot: REPO, venvRoot: SHARED_VENV_ROOT, progress: quiet });
  const runDir = path.join(dir, "run");
  await execa(py.python, [path.join(REPO, "ml", "pipeline.py"), "--data", path.join(REPO, "ml", "data.txt"), "--out", runDir], {
    cwd: dir,
    env: { MLFLOW_TRACKING_URI: "", PYTHONDONTWRITEBYTECODE: "1" },
    stdin: "ignore",
  });
  // the model folder itself: the run folder also holds the SQLite store's artifact copy of model.pkl
  const modelDir = (JSON.parse(await readFile(path.join(runDir, "run.json"), "utf8")) as { model_dir: string }).model_dir;
  const entry = path.join(REPO, "ml", "score.py");
  const logFile = path.join(dir, "inference.log");
  const p = spawnDetached(py.python, inferenceServerArgs(entry, modelDir, PORTS.inference), {
    cwd: path.dirname(entry),
    env: { ...process.env, AZUREML_MODEL_DIR: modelDir, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
    logFile,
  });
  pids.push(p.pid);
  await waitForHttp({ url: healthUri(PORTS.inference), what: "azmlinfsrv", timeoutMs: 180_000, pid: p.pid, logFile, progress: quiet });
  return { url: scoringUri(PORTS.inference).replace(/\/score$/, ""), pid: p.pid };
}

/** CPU ms used so far by the processes of group `pgid` (azmlinfsrv: gunicorn and its worker), from /proc. */
const groupCpuMs = (pgid: number): number => membersOfGroup(pgid).reduce((sum, pid) => sum + (cpuTimeMs(pid) ?? 0), 0);

/** CPU per answered request of the upstream (its whole process group) and of the router, direct and routed, at concurrency c. */
async function cpuPerRequest(what: string, direct: string, routed: string, body: string, c: number, upstreamPid: number, routerPid: number): Promise<string[]> {
  const rows: string[] = [];
  for (const [name, url] of [
    ["direct", direct],
    ["routed", routed],
  ] as const) {
    const before = [groupCpuMs(upstreamPid), cpuTimeMs(routerPid)];
    const m = await runLoadLevel({ url, body }, c, SECONDS);
    const after = [groupCpuMs(upstreamPid), cpuTimeMs(routerPid)];
    const per = (i: number) => (before[i] === undefined || after[i] === undefined ? "n/a" : ((1000 * (after[i]! - before[i]!)) / Math.max(1, m.ok)).toFixed(0));
    rows.push(`| ${what} | ${c} | ${name} | ${m.ok} | ${m.p50Ms.toFixed(2)} | ${m.p99Ms.toFixed(2)} | ${per(0)} | ${per(1)} |`);
  }
  return rows;
}

/** The router process in front of `upstream` (blue 100, green 0), as PROD's router runs. */
async function startRouter(dir: string, name: string, port: number, upstream: string): Promise<{ url: string; pid: number }> {
  const stateFile = path.join(dir, `router-${name}.json`);
  await writeRouterStateFile(stateFile, { host: "127.0.0.1", port, upstreams: { blue: upstream, green: upstream }, weights: { blue: 100, green: 0 } });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const logFile = path.join(dir, `router-${name}.log`);
  const p = spawnDetached(process.execPath, ["--import", tsx, ROUTER_MAIN, stateFile], { cwd: REPO, env: { ...process.env }, logFile });
  pids.push(p.pid);
  const url = `http://127.0.0.1:${port}`;
  // ready once its admin listener answers with the token it wrote beside the state file (as the local target waits)
  const client = RouterClient.fromAdminFile(url, adminFileFor(stateFile), 3_000);
  const probe = (): Promise<boolean> =>
    client.state().then(
      () => true,
      () => false,
    );
  await waitForHttp({ url, probe, what: "router", timeoutMs: 30_000, pid: p.pid, logFile, progress: quiet });
  return { url, pid: p.pid };
}

interface Pair {
  direct: LevelResult[];
  routed: LevelResult[];
}

/** RUNS direct/routed pairs, the order alternating so drift in the machine's load does not favour one path. */
async function pairs(direct: string, routed: string, body: string, levels: readonly number[]): Promise<Pair[]> {
  const out: Pair[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) {
      const d = await profile(direct, body, levels);
      out.push({ direct: d, routed: await profile(routed, body, levels) });
    } else {
      const r = await profile(routed, body, levels);
      out.push({ direct: await profile(direct, body, levels), routed: r });
    }
  }
  return out;
}

function overheadTable(lines: string[], title: string, ps: Pair[], levels: readonly number[]): void {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const ms = (x: number) => x.toFixed(2);
  lines.push(
    "",
    title,
    "",
    "| concurrency | direct p50 ms | routed p50 ms | direct p99 ms | routed p99 ms | added p99 ms | p99 overhead | p50 overhead | direct / routed req/s |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  levels.forEach((c, i) => {
    const d = ps.map((p) => p.direct[i]!);
    const r = ps.map((p) => p.routed[i]!);
    const rel = (k: "p50Ms" | "p99Ms") => ps.map((_, j) => (r[j]![k] - d[j]![k]) / d[j]![k]);
    lines.push(
      `| ${c} | ${mmm(
        d.map((l) => l.p50Ms),
        ms,
      )} | ${mmm(
        r.map((l) => l.p50Ms),
        ms,
      )} | ${mmm(
        d.map((l) => l.p99Ms),
        ms,
      )} | ${mmm(
        r.map((l) => l.p99Ms),
        ms,
      )} | ${mmm(
        ps.map((_, j) => r[j]!.p99Ms - d[j]!.p99Ms),
        ms,
      )} | ${mmm(rel("p99Ms"), pct)} | ${mmm(rel("p50Ms"), pct)} | ${median(d.map((l) => l.throughputRps)).toFixed(0)} / ${median(r.map((l) => l.throughputRps)).toFixed(0)} |`,
    );
  });
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = { runs: RUNS, secondsPerLevel: SECONDS, machine: { cpus: os.cpus().length, node: process.version } };
  const lines: string[] = [];
  await stability(lines, out);

  const levels = (await readReleaseConfig(REPO)).profile.concurrency;
  const smoke = await readSmokeRequest(REPO, (await readReleaseConfig(REPO)).smoke.request);
  const dir = await mkdtemp(path.join(os.tmpdir(), "mlops-bench-router-"));
  try {
    for (const [what, port] of Object.entries(PORTS)) {
      if (!(await isPortFree(port)))
        throw new Error(`port ${port} (${what}) is in use by another process; stop it or change PORTS in bench/profileAndRouter.ts`);
    }
    process.stderr.write("training a model and starting azmlinfsrv, an instant upstream and two routers\n");
    const real = await startInferenceUpstream(dir);
    const instant = await startInstantUpstream(dir);
    const realRouterProcess = await startRouter(dir, "real", PORTS.routerReal, real.url);
    const realRouter = realRouterProcess.url;
    const instantRouterProcess = await startRouter(dir, "instant", PORTS.routerInstant, instant.url);
    const instantRouter = instantRouterProcess.url;
    const body = JSON.stringify(smoke.payload);
    process.stderr.write(`router overhead, azmlinfsrv upstream, concurrency ${levels.join(", ")}, ${RUNS} pairs\n`);
    const realPairs = await pairs(`${real.url}/score`, `${realRouter}/score`, body, levels);
    process.stderr.write("router overhead, instant upstream\n");
    const instantPairs = await pairs(`${instant.url}/score`, `${instantRouter}/score`, body, levels);
    const cpuRows: string[] = [];
    for (const c of [levels[0]!, levels.at(-1)!]) {
      cpuRows.push(...(await cpuPerRequest("instant", `${instant.url}/score`, `${instantRouter}/score`, body, c, instant.pid, instantRouterProcess.pid)));
      cpuRows.push(...(await cpuPerRequest("azmlinfsrv", `${real.url}/score`, `${realRouter}/score`, body, c, real.pid, realRouterProcess.pid)));
    }
    out.router = { levels, inferenceServer: realPairs, instant: instantPairs };
    overheadTable(
      lines,
      `Router overhead (goal 5: p99 overhead <= 5 %): azmlinfsrv serving the model, direct vs through PROD's router process (100/0), at mlops.yaml's profile concurrency, ${SECONDS} s per level, ${RUNS} pairs, min / median / max`,
      realPairs,
      levels,
    );
    overheadTable(lines, "Router cost in milliseconds: an instantly answering upstream process, direct vs through the router process", instantPairs, levels);
    lines.push(
      "",
      `Where the router's time goes: CPU per answered request (from /proc) of the upstream (the instant one; azmlinfsrv, which closes its connection after every answer) and of the router process, ${SECONDS} s each`,
      "",
      "| upstream | concurrency | path | requests | p50 ms | p99 ms | upstream CPU µs / request | router CPU µs / request |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
      ...cpuRows,
    );
  } finally {
    for (const pid of pids) await stopProcessGroup(pid);
    await rm(dir, { recursive: true, force: true });
  }
  lines.push(
    "",
    `load average at the end: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );
  const resDir = path.join(REPO, "bench", "results");
  await mkdir(resDir, { recursive: true });
  await writeFile(path.join(resDir, "profile-router.json"), JSON.stringify(out, null, 2));
  process.stdout.write(lines.join("\n") + "\n");
}

await main();
