/**
 * Figures for the README: (1) the profiler's run-to-run spread against a loopback endpoint with a fixed
 * 20 ms delay, (2) the weighted router's overhead (same endpoint, direct vs through the router, 90/10 split).
 * Loopback only; bounded: RUNS × 3 levels × SECONDS, then 2 × 3 levels × SECONDS.
 *   npx tsx bench/profileAndRouter.ts [runs=3] [seconds=2]
 * Prints a Markdown table to stdout; writes bench/results/profile-router.json (git-ignored).
 */
import { mkdir, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { runProfile } from "../driver/profile/profiler.js";
import type { LevelResult } from "../driver/profile/profileTypes.js";
import { startWeightedRouter } from "../driver/router/weightedRouter.js";

const RUNS = Math.min(10, Math.max(2, Number(process.argv[2] ?? 3)));
const SECONDS = Math.min(10, Math.max(1, Number(process.argv[3] ?? 2)));
const LEVELS = [1, 4, 16];
const slo = { p95Ms: 1000, p99Ms: 2000, maxErrorRate: 0.01 };

async function server(delayMs: number): Promise<{ url: string; close: () => Promise<void> }> {
  const s = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => setTimeout(() => (res.writeHead(200, { "content-type": "application/json" }), res.end("[152.1]")), delayMs));
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, close: () => (s.closeAllConnections(), new Promise((r) => s.close(() => r()))) };
}

const profile = (url: string): Promise<LevelResult[]> =>
  runProfile({
    request: { url: `${url}/score`, body: '{"data":[[1,2,3]]}' },
    settings: { concurrency: LEVELS, secondsPerLevel: SECONDS, warmupSeconds: 1, slo },
  }).then((r) => r.levels);

const spread = (xs: number[]): string => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return `${mean.toFixed(2)} ± ${((100 * (Math.max(...xs) - Math.min(...xs))) / 2 / mean).toFixed(1)}%`;
};

const out: Record<string, unknown> = { runs: RUNS, secondsPerLevel: SECONDS, levels: LEVELS };
const delayed = await server(20);
const runs: LevelResult[][] = [];
for (let i = 0; i < RUNS; i++) runs.push(await profile(delayed.url));
await delayed.close();
out.stability = runs;
const lines = [
  `Profiler stability: loopback endpoint with a fixed 20 ms delay, ${RUNS} runs, ${SECONDS} s per level (mean ± half-range)`,
  "",
  "| concurrency | req/s | p50 ms | p95 ms | p99 ms |",
  "| --- | --- | --- | --- | --- |",
];
LEVELS.forEach((c, i) => {
  const at = runs.map((r) => r[i]!);
  lines.push(
    `| ${c} | ${spread(at.map((l) => l.throughputRps))} | ${spread(at.map((l) => l.p50Ms))} | ${spread(at.map((l) => l.p95Ms))} | ${spread(at.map((l) => l.p99Ms))} |`,
  );
});

const fast = await server(0);
const other = await server(0);
const router = await startWeightedRouter({ port: 0, state: { upstreams: { blue: fast.url, green: other.url }, weights: { blue: 90, green: 10 } } });
const direct = await profile(fast.url);
const routed = await profile(router.url);
await router.close();
await fast.close();
await other.close();
out.router = { direct, routed };
lines.push(
  "",
  `Router overhead: immediate-answer loopback endpoint, direct vs through the weighted router (90/10), ${SECONDS} s per level`,
  "",
  "| concurrency | direct req/s | routed req/s | direct p50 ms | routed p50 ms | added p50 ms | direct p99 ms | routed p99 ms |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
);
LEVELS.forEach((c, i) => {
  const d = direct[i]!;
  const r = routed[i]!;
  lines.push(
    `| ${c} | ${d.throughputRps.toFixed(0)} | ${r.throughputRps.toFixed(0)} | ${d.p50Ms.toFixed(2)} | ${r.p50Ms.toFixed(2)} | ${(r.p50Ms - d.p50Ms).toFixed(2)} | ${d.p99Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} |`,
  );
});
const dir = path.join(path.dirname(new URL(import.meta.url).pathname), "results");
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, "profile-router.json"), JSON.stringify(out, null, 2));
process.stdout.write(lines.join("\n") + "\n");
