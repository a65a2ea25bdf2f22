/**
 * What shadow traffic costs a user of PROD's router: the user's latency through the router process (its own
 * process, as the local target runs it: node --import tsx driver/router/routerMain.ts, blue 100 / green 0) with
 * mirroring off, and with 100% of the requests copied to green when green is healthy (answers after 5 ms), slow
 * (answers after 2 s: copies pile up to maxInFlight, the rest are dropped) or dead (nothing listens). The live
 * upstream answers after 5 ms. Each mode is loaded at concurrency 4 for `seconds`, RUNS rounds with the mode order
 * rotating so drift in the machine's load does not favour one mode.
 *   npx tsx bench/shadowMirror.ts [runs=3] [seconds=3]
 * Ports 5750-5751 and free ones for the upstreams; every process it starts is stopped. Prints Markdown.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Progress } from "../driver/core/ports.js";
import { waitForHttp } from "../driver/host/httpProbe.js";
import { spawnDetached, stopProcessGroup } from "../driver/host/processes.js";
import { runLoadLevel, type LevelMeasurement } from "../driver/profile/loadLevel.js";
import { adminFileFor } from "../driver/router/routerAdminFile.js";
import { RouterClient } from "../driver/router/routerClient.js";
import { writeRouterStateFile } from "../driver/router/routerStateFile.js";
import { ROUTER_MAIN } from "../driver/targets/local/routerProcess.js";
import { startFixedDelayServer } from "../test/support/fixedDelayServer.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Math.min(10, Math.max(1, Number(process.argv[2] ?? 3)));
const SECONDS = Math.max(1, Number(process.argv[3] ?? 3));
const PORT = 5750;
const quiet: Progress = { stepStarted() {}, stepFinished() {}, info() {} };
const MODES = ["off", "healthy", "slow", "dead"] as const;
type Mode = (typeof MODES)[number];

const dir = await mkdtemp(path.join(os.tmpdir(), "mlops-bench-shadow-"));
const live = await startFixedDelayServer(5);
const healthy = await startFixedDelayServer(5);
const slow = await startFixedDelayServer(2000);
const shadowUrl: Record<Exclude<Mode, "off">, string> = { healthy: healthy.url, slow: slow.url, dead: "http://127.0.0.1:1" };
const pids: number[] = [];

async function startRouter(mode: Mode, port: number): Promise<RouterClient> {
  const stateFile = path.join(dir, `router-${mode}.json`);
  const green = mode === "off" ? healthy.url : shadowUrl[mode];
  await writeRouterStateFile(stateFile, { host: "127.0.0.1", port, upstreams: { blue: live.url, green }, weights: { blue: 100, green: 0 } });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const logFile = path.join(dir, `router-${mode}.log`);
  const p = spawnDetached(process.execPath, ["--import", tsx, ROUTER_MAIN, stateFile], { cwd: REPO, env: { ...process.env }, logFile });
  pids.push(p.pid);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp({ url: `${url}/`, what: "router", timeoutMs: 30_000, pid: p.pid, logFile, progress: quiet });
  const client = RouterClient.fromAdminFile(url, adminFileFor(stateFile));
  // the router writes its admin file just after it listens
  for (
    let i = 0;
    i < 100 &&
    !(await client.state().then(
      () => true,
      () => false,
    ));
    i++
  )
    await new Promise((r) => setTimeout(r, 50));
  if (mode !== "off") await client.setShadow({ to: "green", percent: 100 }, "bench");
  return client;
}

const results: Record<Mode, Array<LevelMeasurement & { sent: number; dropped: number }>> = { off: [], healthy: [], slow: [], dead: [] };
try {
  for (let run = 0; run < RUNS; run++) {
    for (let k = 0; k < MODES.length; k++) {
      const mode = MODES[(k + run) % MODES.length]!;
      const client = await startRouter(mode, PORT + (run % 2));
      const m = await runLoadLevel({ url: `${client.baseUrl}/score`, body: '{"data":[[1,2,3,4,5,6,7,8,9,10]]}' }, 4, SECONDS);
      const s = mode === "off" ? { sent: 0, dropped: 0 } : await client.shadow(Number.MAX_SAFE_INTEGER);
      results[mode].push({ ...m, sent: s.sent, dropped: s.dropped });
      await stopProcessGroup(pids.pop()!);
    }
  }
} finally {
  for (const pid of pids) await stopProcessGroup(pid);
  await Promise.all([live.close(), healthy.close(), slow.close()]);
  await rm(dir, { recursive: true, force: true });
}

const range = (xs: number[], digits = 2) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]!.toFixed(digits)} / ${s[Math.floor(s.length / 2)]!.toFixed(digits)} / ${s.at(-1)!.toFixed(digits)}`;
};
const lines = [
  `Shadow mirror, user latency through the router (concurrency 4, ${SECONDS} s per mode, ${RUNS} rounds; min / median / max over rounds; load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")})`,
  "",
  "| shadow | user p50 ms | user p99 ms | user non-2xx + errors | req/s | copies sent / dropped per round (median) |",
  "| --- | --- | --- | --- | --- | --- |",
];
for (const mode of MODES) {
  const r = results[mode];
  const med = (k: "sent" | "dropped") => [...r.map((x) => x[k])].sort((a, b) => a - b)[Math.floor(r.length / 2)]!;
  lines.push(
    `| ${mode === "off" ? "off" : `100% to a ${mode} green`} | ${range(r.map((x) => x.p50Ms))} | ${range(r.map((x) => x.p99Ms))} | ${r.reduce((a, x) => a + x.non2xx + x.errors, 0)} | ${range(
      r.map((x) => x.ok / SECONDS),
      0,
    )} | ${mode === "off" ? "-" : `${med("sent")} / ${med("dropped")}`} |`,
  );
}
process.stdout.write(`${lines.join("\n")}\n`);
