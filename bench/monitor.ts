/**
 * Figures for the README (docs/monitoring.md): what data collection costs a scoring request, and how long
 * `mlops monitor`'s statistics take.
 *   1. Two azmlinfsrv servers serving ml/score.py with the same model, one with collection off and one collecting
 *      100% of requests to a local sink (the local target's MLOPS_COLLECT_* settings). Rounds of sequential
 *      one-row requests alternate between them (so machine noise hits both alike); client-side latency p50/p95/p99,
 *      and the CPU time each server's processes (gunicorn, its worker and its collector, from /proc) spent per request, which
 *      the machine's load disturbs far less than the latency.
 *      Then 8 connections for 10 s to the collecting server (every core busy): how many of those requests are collected.
 *   2. ml/monitor.py (what `mlops monitor` runs) on N collected rows (one request per row, as score.py's sink writes
 *      them), drawn from ml/data.txt: wall time, including Python's start.
 *   MLOPS_VENV_ROOT=... npx tsx bench/monitor.ts [requestsPerServer=3000] [monitorRows=100000]
 * Prints a Markdown table to stdout; writes bench/results/monitor.json (git-ignored).
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FEATURES, trainingRows } from "../test/support/trainingRows.js";
import { parseReleaseConfig } from "../driver/config/releaseConfig.js";
import { ensurePythonEnv } from "../driver/host/pythonEnv.js";
import { waitForHttp } from "../driver/host/httpProbe.js";
import { cpuTimeMs, membersOfGroup } from "../driver/host/procScan.js";
import { runLoadLevel, type LevelMeasurement } from "../driver/profile/loadLevel.js";
import { percentile, sortedCopy } from "../driver/profile/percentiles.js";
import { collectedDir } from "../driver/monitor/collectionEnv.js";
import { runMonitorScript } from "../driver/monitor/runMonitorScript.js";
import { startInferenceServer, stopInferenceServer } from "../driver/targets/local/inferenceServer.js";
import { localPaths } from "../driver/targets/local/localPaths.js";

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REQUESTS = Math.min(100_000, Number(process.argv[2] ?? 3000) || 3000);
const MONITOR_ROWS = Math.min(2_000_000, Number(process.argv[3] ?? 100_000) || 100_000);
const ROUNDS = 10;
const quiet = { stepStarted() {}, stepFinished() {}, info() {} };
const PORTS = { off: 5697, on: 5698 };
/** the saturation phase: every core busy with scoring; its requests carry this age, no training row's */
const SATURATION = { concurrency: 8, seconds: 10 };
const SATURATION_MARK = 12345;

async function post(url: string, body: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return performance.now() - t0;
}

/** model_inputs records (one per collected request) in a local sink folder: the saturation phase's, the others. */
async function countCollected(dir: string): Promise<{ saturation: number; other: number }> {
  const n = { saturation: 0, other: 0 };
  for (const name of await readdir(dir)) {
    if (!name.endsWith(".jsonl")) continue;
    for (const line of (await readFile(path.join(dir, name), "utf8")).split("\n"))
      if (line.includes('"collection": "model_inputs"')) n[line.includes(`"age":${SATURATION_MARK.toFixed(1)}`) ? "saturation" : "other"]++;
  }
  return n;
}

/** CPU ms used so far by the processes of group `pgid` (the server and its gunicorn worker), from /proc. */
const groupCpuMs = (pgid: number): number => membersOfGroup(pgid).reduce((sum, pid) => sum + (cpuTimeMs(pid) ?? 0), 0);
const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");

const stats = (ms: number[]) => {
  const s = sortedCopy(ms);
  return { n: ms.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99) };
};

async function main(): Promise<void> {
  const env = await ensurePythonEnv({ repoRoot: REPO, venvRoot: localPaths(REPO).venvRoot, progress: quiet });
  const work = await mkdtemp(path.join(os.tmpdir(), "mlops-bench-monitor-"));
  const paths = localPaths(work);
  await mkdir(paths.logs, { recursive: true });
  const modelDir = path.join(work, "models", "diabetes-ridge", "1", "model");
  await run(
    env.python,
    [
      "-c",
      `import sys; sys.path.insert(0, 'ml'); import extract, train; s = extract.extract('ml/data.txt', '${work}/split'); train.train(s.train_path, '${path.dirname(modelDir)}', 1.0)`,
    ],
    {
      cwd: REPO,
    },
  );
  const collection = parseReleaseConfig({ model: { name: "m" }, gate: { metrics: { r2: { greater_is_better: true } } } }).monitor.collection;
  const entry = path.join(REPO, "ml", "score.py");
  const servers = {
    off: await startInferenceServer({
      paths,
      env,
      stack: "int",
      entryScript: entry,
      modelDir,
      port: PORTS.off,
      logName: "bench-off",
      service: "bench-off",
      recordFile: path.join(work, "services", "bench-off.json"),
      extra: {},
    }),
    on: await startInferenceServer({
      paths,
      env,
      stack: "prod",
      entryScript: entry,
      modelDir,
      port: PORTS.on,
      logName: "prod-bench",
      collection,
      service: "bench-on",
      recordFile: path.join(work, "services", "bench-on.json"),
      extra: {},
    }),
  };
  const rows = trainingRows(REPO);
  const latency: Record<"off" | "on", number[]> = { off: [], on: [] };
  const cpu: Record<"off" | "on", number> = { off: 0, on: 0 };
  let saturation: LevelMeasurement | undefined;
  const loadAtStart = loadavg();
  try {
    for (const s of Object.values(servers))
      await waitForHttp({ url: s.healthUri, what: "bench server", timeoutMs: 120_000, pid: s.pid, logFile: s.logFile, progress: quiet });
    const body = (i: number) => JSON.stringify({ data: [rows[i % rows.length]] });
    for (let i = 0; i < 200; i++) for (const s of Object.values(servers)) await post(s.scoringUri, body(i)); // warm-up
    const perRound = Math.ceil(REQUESTS / ROUNDS);
    for (let r = 0; r < ROUNDS; r++) {
      for (const k of (r % 2 ? ["on", "off"] : ["off", "on"]) as Array<"off" | "on">) {
        const before = groupCpuMs(servers[k].pid);
        for (let i = 0; i < perRound; i++) latency[k].push(await post(servers[k].scoringUri, body(r * perRound + i)));
        // the collector process gets what is pending every 0.2 s: its work for this round is done (and counted) 0.5 s later
        await new Promise((resolve) => setTimeout(resolve, 500));
        cpu[k] += groupCpuMs(servers[k].pid) - before;
      }
    }
    // every core busy: what the collector (which yields the cores to scoring) still collects
    const marked = [SATURATION_MARK, ...rows[0]!.slice(1)];
    saturation = await runLoadLevel({ url: servers.on.scoringUri, body: JSON.stringify({ data: [marked] }) }, SATURATION.concurrency, SATURATION.seconds);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // what the collector still has in hand
  } finally {
    for (const s of Object.values(servers)) await stopInferenceServer(s.record);
  }
  // the figure is only worth something if collection happened: every sequential request to "on" (warm-up included)
  const sentOn = 200 + latency.on.length;
  const collectedOn = await countCollected(collectedDir(paths.stateDir, "prod", "bench"));
  if (collectedOn.other !== sentOn) throw new Error(`the collecting server recorded ${collectedOn.other} of the ${sentOn} requests it answered`);

  // ml/monitor.py on MONITOR_ROWS collected rows (score.py's line format, one request per row)
  const collected = path.join(work, "collected", "prod", "blue");
  await mkdir(collected, { recursive: true });
  const now = Math.floor(Date.now() / 1000);
  const lines: string[] = [];
  for (let i = 0; i < MONITOR_ROWS; i++) {
    const row = rows[(i * 7919) % rows.length]!;
    const common = `"id": "p${i}", "correlationid": "c${i}", "time": ${now - MONITOR_ROWS + i}, "modelversion": "1"`;
    lines.push(`{"collection": "model_inputs", ${common}, "data": [${JSON.stringify(Object.fromEntries(FEATURES.map((f, j) => [f, row[j]])))}]}`);
    lines.push(`{"collection": "model_outputs", ${common}, "data": [{"prediction": 150.0}]}`);
    lines.push(`{"collection": "mlops_requests", ${common}, "data": [{"status": 200, "rows": 1, "elapsed_ms": 2.0, "reason": null}]}`);
  }
  await writeFile(path.join(collected, "bench-00001.jsonl"), lines.join("\n") + "\n");
  const monitor = parseReleaseConfig({ model: { name: "m" }, gate: { metrics: { r2: { greater_is_better: true } } } }).monitor;
  const t0 = performance.now();
  const result = await runMonitorScript({
    repoRoot: REPO,
    python: env.python,
    reference: path.join(REPO, "ml", "data.txt"),
    collected: [path.dirname(collected)],
    modelDir,
    modelVersion: "1",
    sinceEpochSeconds: 0,
    config: monitor,
    progress: quiet,
  });
  const monitorMs = performance.now() - t0;
  await rm(work, { recursive: true, force: true });

  const off = stats(latency.off);
  const on = stats(latency.on);
  const cpuUsPerRequest = { off: (1000 * cpu.off) / latency.off.length, on: (1000 * cpu.on) / latency.on.length };
  const out = {
    requestsPerServer: latency.off.length,
    collectedOn: collectedOn.other,
    saturation: { ...SATURATION, answered: saturation?.ok ?? 0, collected: collectedOn.saturation },
    off,
    on,
    p99Change: on.p99 / off.p99 - 1,
    cpuUsPerRequest,
    loadAverage: { start: loadAtStart, end: loadavg() },
    monitor: { rows: result.counts.rows, ms: monitorMs, verdict: result.verdict },
  };
  await mkdir(path.join(REPO, "bench", "results"), { recursive: true });
  await writeFile(path.join(REPO, "bench", "results", "monitor.json"), JSON.stringify(out, null, 2) + "\n");
  const f = (v: number) => v.toFixed(2);
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;
  process.stdout.write(
    [
      `| scoring, one row per request (${out.requestsPerServer} sequential requests each) | p50 ms | p95 ms | p99 ms | server CPU µs / request |`,
      "|---|---|---|---|---|",
      `| collection off | ${f(off.p50)} | ${f(off.p95)} | ${f(off.p99)} | ${cpuUsPerRequest.off.toFixed(0)} |`,
      `| collection on (100%, local sink) | ${f(on.p50)} | ${f(on.p95)} | ${f(on.p99)} | ${cpuUsPerRequest.on.toFixed(0)} |`,
      `| change | ${pct(on.p50 / off.p50 - 1)} | ${pct(on.p95 / off.p95 - 1)} | ${pct(out.p99Change)} | ${pct(cpuUsPerRequest.on / cpuUsPerRequest.off - 1)} |`,
      "",
      `every core busy (${SATURATION.concurrency} connections for ${SATURATION.seconds} s to the collecting server): ${out.saturation.answered} requests answered, ${out.saturation.collected} collected`,
      "",
      `ml/monitor.py on ${out.monitor.rows} collected rows: ${(monitorMs / 1000).toFixed(1)} s`,
      "",
      `load average at the start: ${out.loadAverage.start}; at the end: ${out.loadAverage.end}`,
      "",
    ].join("\n"),
  );
}

await main();
