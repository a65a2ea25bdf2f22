/**
 * Bounded soak of the local target (issue 10): CYCLES rounds of release → approve → promote → rollback, each after
 * a code change (a comment line added to ml/pipeline.py, so every round trains and registers a new model version;
 * the gate runs in dry_run so the champion comparison never stops a round), under a steady client at 10 req/s on PROD's router from
 * the first promote on. Figures: failed requests (goal 0), and the processes this repository's services run, their
 * open files and their memory (RSS) after round 2 (from then on both PROD slots run) and at the end (goal: no growth).
 *
 * Usage: npx tsx bench/soak.ts [cycles=4] [maxMinutes=10]
 * Ports 5790-5794; stops everything it started (`mlops down`) and removes its temporary repository.
 * Writes bench/results/soak.json and prints Markdown.
 */
import { execa } from "execa";
import { appendFile, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { postScore, readSmokeRequest } from "../driver/host/smokeRequest.js";
import { processesWithEnv } from "../driver/host/procScan.js";
import { SERVICE_ENV } from "../driver/host/serviceProcess.js";
import { makeTempRepo, REPO_ROOT, SHARED_VENV_ROOT } from "../test/e2e/localRepoFixture.js";

const PORTS = { mlflow: 5790, int: 5791, prod: 5792, prodBlue: 5793, prodGreen: 5794 };
const CYCLES = Math.max(1, Number(process.argv[2] ?? 4));
const MAX_MS = Math.max(1, Number(process.argv[3] ?? 10)) * 60_000;
const cli = path.join(REPO_ROOT, "bin", "mlops.js");
const env = { ...process.env, MLOPS_VENV_ROOT: SHARED_VENV_ROOT };

async function mlops(root: string, ...args: string[]): Promise<{ id?: string; state?: string }> {
  const r = await execa(process.execPath, [cli, "--repo", root, "--json", "--quiet", ...args], { env, reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) throw new Error(`mlops ${args.join(" ")} exited ${r.exitCode}: ${r.stderr.split("\n").slice(-3).join(" ")}`);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as { id?: string; state?: string }) : {};
}

interface Footprint {
  processes: number;
  openFiles: number;
  rssMiB: number;
}

/** The processes of this repository's services (their MLOPS_SERVICE names its state dir), their fds and RSS. */
async function footprint(stateDir: string): Promise<Footprint> {
  const pids = processesWithEnv(SERVICE_ENV, (v) => v.startsWith(`${stateDir}#`));
  let openFiles = 0;
  let rssKiB = 0;
  for (const pid of pids) {
    openFiles += await readdir(`/proc/${pid}/fd`).then(
      (fds) => fds.length,
      () => 0,
    );
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    rssKiB += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return { processes: pids.length, openFiles, rssMiB: Math.round(rssKiB / 1024) };
}

/** 10 req/s on PROD's router until stopped; counts the answers that are not 200. */
function steadyClient(url: string, payload: unknown) {
  let stopped = false;
  let sent = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      const t0 = Date.now();
      const r = await postScore(url, payload, 5_000).catch((e: unknown) => ({ status: 0, body: String(e) }));
      sent += 1;
      if (r.status !== 200) failures.push(`${new Date().toISOString()} ${r.status}`);
      await new Promise((res) => setTimeout(res, Math.max(0, 100 - (Date.now() - t0))));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { sent, failures };
    },
  };
}

async function main(): Promise<void> {
  const overrides = {
    profile: { enabled: false },
    rollout: { steps: [10, 50, 100], observeSeconds: 2, probeRps: 100, minRequests: 5, maxErrorRate: 0.01 },
  };
  const repo = await makeTempRepo(PORTS, overrides);
  // the gate records its verdict but does not block: each round's model differs a little from the champion
  const mlopsYaml = path.join(repo.root, "mlops.yaml");
  await writeFile(mlopsYaml, (await readFile(mlopsYaml, "utf8")).replace(/^(\s+)mode: enabled/m, "$1mode: dry_run"));
  const approver = (parse(await readFile(path.join(repo.root, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, string[]> }).config[
    "mlops:approvers"
  ]![0]!;
  const stateDir = path.join(repo.root, ".mlops");
  const smoke = await readSmokeRequest(repo.root, repo.config.smoke.request);
  const codeFile = path.join(repo.root, "ml", "pipeline.py");
  const started = Date.now();
  const rounds: Array<{ cycle: number; seconds: number; footprint: Footprint }> = [];
  let client: ReturnType<typeof steadyClient> | undefined;
  let first: Footprint | undefined;
  let last: Footprint | undefined;
  let error: string | undefined;
  try {
    for (let c = 1; c <= CYCLES && Date.now() - started < MAX_MS; c++) {
      const t0 = Date.now();
      await appendFile(codeFile, `# soak round ${c}\n`); // a code change: a new run and model version
      const r = await mlops(repo.root, "release");
      if (r.state !== "awaiting-approval") throw new Error(`round ${c}: release ended ${r.state}`);
      await mlops(repo.root, "approve", r.id!, "--as", approver);
      await mlops(repo.root, "promote", r.id!);
      client ??= steadyClient(`http://127.0.0.1:${PORTS.prod}/score`, smoke.payload);
      if (c > 1) await mlops(repo.root, "rollback", "prod");
      last = await footprint(stateDir);
      rounds.push({ cycle: c, seconds: (Date.now() - t0) / 1000, footprint: last });
      // the baseline is round 2: from then on PROD has both slots (round 1 starts only one)
      if (c === Math.min(2, CYCLES)) first = last;
      process.stderr.write(`round ${c}: ${rounds.at(-1)!.seconds.toFixed(1)} s, ${JSON.stringify(last)}\n`);
    }
  } catch (e) {
    error = (e as Error).message;
  } finally {
    const traffic = client ? await client.stop() : { sent: 0, failures: [] };
    await mlops(repo.root, "down").catch(() => undefined);
    const leftover = await footprint(stateDir);
    await repo.remove();
    const result = { cycles: rounds.length, minutes: (Date.now() - started) / 60_000, rounds, traffic, first, last, afterDown: leftover, error };
    await mkdir(path.join(REPO_ROOT, "bench", "results"), { recursive: true });
    await writeFile(path.join(REPO_ROOT, "bench", "results", "soak.json"), JSON.stringify(result, null, 2));
    console.log(`| soak: ${rounds.length} rounds of release → approve → promote → rollback (round 1: no rollback), ${result.minutes.toFixed(1)} min |`);
    console.log(`| steady client (10 req/s on PROD from the first promote) | ${traffic.sent} requests, ${traffic.failures.length} failed |`);
    console.log(
      `| services after round 2 (both PROD slots up) / at the end / after down | ${JSON.stringify(first)} / ${JSON.stringify(last)} / ${JSON.stringify(leftover)} |`,
    );
    if (error) console.log(`| stopped early | ${error} |`);
    if (error || traffic.failures.length) process.exitCode = 1;
  }
}

await main();
