/**
 * Figures for docs/local-target.md: what a hostile scoring request costs a well-behaved one. One azmlinfsrv
 * (one sync worker, ml/score.py, a model trained from ml/data.txt without MLflow) is hit directly (as INT is)
 * and through the weighted router (as PROD is): a valid request is timed while an oversized body (N MB of
 * valid-looking JSON) is being refused, and the hostile request's own status and time are recorded; then a
 * deeply nested body's status. Limit: scoring.maxRequestBytes's default (1 MiB).
 *   MLOPS_VENV_ROOT=... npx tsx bench/hostileBodies.ts [runs=3] [sizesMB=16,80]
 * Prints a Markdown table; writes bench/results/hostile-bodies.json (git-ignored).
 */
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ensurePythonEnv } from "../driver/host/pythonEnv.js";
import { startWeightedRouter } from "../driver/router/weightedRouter.js";
import { inferenceServerArgs } from "../driver/targets/local/inferenceServer.js";

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Math.min(10, Math.max(1, Number(process.argv[2] ?? 3)));
const SIZES = (process.argv[3] ?? "16,80")
  .split(",")
  .map(Number)
  .filter((n) => n > 0 && n <= 200);
const ROW = "[59,2,32.1,101,157,93.2,38,4,4.8598,87]";
const quiet = { stepStarted() {}, stepFinished() {}, info() {} };

const freePort = async (): Promise<number> => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
};

async function post(url: string, body: Uint8Array | string): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      body: body as BodyInit,
      headers: { "content-type": "application/json" },
      signal: AbortSignal.timeout(120_000),
    });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t0 };
  } catch {
    return { status: 0, ms: performance.now() - t0 };
  }
}

/** A valid request sent 100 ms after a hostile one started: how long it waited, and the hostile one's answer. */
async function during(url: string, hostile: Buffer): Promise<{ hostileStatus: number; hostileMs: number; validMs: number }> {
  const h = post(url, hostile);
  await new Promise((r) => setTimeout(r, 100));
  const v = await post(url, `{"data":[${ROW}]}`);
  const hr = await h;
  return { hostileStatus: hr.status, hostileMs: hr.ms, validMs: v.ms };
}

const env = await ensurePythonEnv({ repoRoot: REPO, venvRoot: process.env.MLOPS_VENV_ROOT?.trim() || path.join(REPO, ".mlops", "venvs"), progress: quiet });
const tmp = await mkdtemp(path.join(os.tmpdir(), "bench-hostile-"));
const port = await freePort();
let server: ReturnType<typeof spawn> | undefined;
try {
  await run(env.python, [path.join(REPO, "ml", "extract.py"), "--data", path.join(REPO, "ml", "data.txt"), "--out", path.join(tmp, "split")]);
  await run(env.python, [path.join(REPO, "ml", "train.py"), "--train", path.join(tmp, "split", "train.csv"), "--out", path.join(tmp, "train"), "--no-mlflow"]);
  const modelDir = path.join(tmp, "train", "model");
  server = spawn(env.python, inferenceServerArgs(path.join(REPO, "ml", "score.py"), modelDir, port), {
    cwd: path.join(REPO, "ml"),
    env: { ...process.env, AZUREML_MODEL_DIR: modelDir },
    stdio: "ignore",
    detached: true,
  });
  const direct = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      (await fetch(`${direct}/`).then(
        (r) => r.ok,
        () => false,
      )) ||
      i > 300
    )
      break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const router = await startWeightedRouter({ port: 0, state: { upstreams: { blue: direct }, weights: { blue: 100 } } });
  const results: Record<string, unknown>[] = [];
  const baseline = [];
  for (let i = 0; i < 20; i++) baseline.push((await post(`${direct}/score`, `{"data":[${ROW}]}`)).ms);
  for (const mb of SIZES) {
    const count = Math.ceil((mb * 1e6) / 2);
    const hostile = Buffer.from(`{"data":[${ROW}],"pad":[${"1,".repeat(count)}1]}`);
    for (const [via, url] of [
      ["azmlinfsrv directly (INT)", `${direct}/score`],
      ["through the router (PROD)", `${router.url}/score`],
    ] as const) {
      for (let r = 0; r < RUNS; r++) results.push({ via, mb, run: r + 1, ...(await during(url, hostile)) });
    }
  }
  const deep = Buffer.from(`{"data":${"[".repeat(100_000)}${"]".repeat(100_000)}}`);
  const deepDirect = await post(`${direct}/score`, deep);
  const deepRouted = await post(`${router.url}/score`, deep);
  await router.close();

  const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
  const lines = [
    `hostile bodies (${os.cpus().length} cores; one azmlinfsrv sync worker; limit 1 MiB; ${RUNS} runs each; valid request alone: ${spread(baseline)} ms)`,
    "",
    "| body | via | hostile answer | hostile ms | a valid request sent meanwhile waited ms |",
    "| --- | --- | --- | ---: | ---: |",
  ];
  for (const mb of SIZES)
    for (const via of ["azmlinfsrv directly (INT)", "through the router (PROD)"]) {
      const rs = results.filter((x) => x.mb === mb && x.via === via) as Array<{ hostileStatus: number; hostileMs: number; validMs: number }>;
      lines.push(
        `| ${mb} MB | ${via} | ${[...new Set(rs.map((x) => x.hostileStatus))].join("/")} | ${spread(rs.map((x) => x.hostileMs))} | ${spread(rs.map((x) => x.validMs))} |`,
      );
    }
  lines.push(
    "",
    `nested 100000 deep (200 KB): directly ${deepDirect.status} in ${deepDirect.ms.toFixed(0)} ms; through the router ${deepRouted.status} in ${deepRouted.ms.toFixed(0)} ms`,
  );
  process.stdout.write(lines.join("\n") + "\n");
  await mkdir(path.join(REPO, "bench", "results"), { recursive: true });
  await writeFile(
    path.join(REPO, "bench", "results", "hostile-bodies.json"),
    JSON.stringify({ at: new Date().toISOString(), baseline, results, deepDirect, deepRouted }, null, 2),
  );
} finally {
  if (server?.pid) process.kill(-server.pid, "SIGTERM");
  await rm(tmp, { recursive: true, force: true });
}
