/**
 * End to end: what PROD sees after a release, on the local target with real processes (MLflow, azmlinfsrv running
 * ml/score.py with collection on, the weighted router) in a temp copy of the repo on ports 5690-5694.
 *   release + promote v1; the driver's own smoke/probe traffic is not collected -> `mlops monitor prod`: not enough data
 *   20 user requests to INT -> `mlops monitor int`: not enough data (20 rows < minSamples 200), exit 10
 *   300 user requests drawn from the training data -> `mlops monitor prod`: no drift, exit 0
 *   300 requests with bmi shifted by +8 -> `mlops monitor prod --since <that batch> --retrain`: drift naming bmi,
 *   exit 9, and a release started whose record says why
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { ReleaseStateMachine } from "../../driver/core/releaseStateMachine.js";
import { createLocalTarget, type LocalTarget } from "../../driver/targets/local/index.js";
import { postScore } from "../../driver/host/smokeRequest.js";
import { REPO_ROOT, SHARED_VENV_ROOT, makeTempRepo, RecordingProgress, type TempRepo } from "./localRepoFixture.js";

const PORTS = { mlflow: 5690, int: 5691, prod: 5692, prodBlue: 5693, prodGreen: 5694 };
const OVERRIDES = {
  // a retrain on unchanged data does not beat the champion: the gate records that without blocking
  gate: { mode: "dry_run", metrics: { rmse: { greater_is_better: false, threshold: 62 } } },
  profile: { enabled: false },
  rollout: { steps: [100], observeSeconds: 1, probeRps: 20, minRequests: 5, maxErrorRate: 0.01 },
  monitor: { minSamples: 200, window: "1h" },
};
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function mlops(repo: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [path.join(REPO_ROOT, "bin", "mlops.js"), "--repo", repo, ...args], {
      env: { ...process.env, MLOPS_VENV_ROOT: SHARED_VENV_ROOT },
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === "number" ? x.code : 1, stdout: x.stdout ?? "", stderr: x.stderr ?? "" };
  }
}

/** Rows of ml/data.txt drawn with a seeded generator; `shift` adds to one column. */
function userRows(n: number, seed: number, shift?: { column: number; by: number }): number[][] {
  const data = readFileSync(path.join(REPO_ROOT, "ml", "data.txt"), "utf8")
    .trim()
    .split("\n")
    .slice(1);
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, () => {
    const row = data[Math.floor(rand() * data.length)]!.split(",").slice(0, 10).map(Number);
    if (shift) row[shift.column]! += shift.by;
    return row;
  });
}

async function send(uri: string, rows: number[][]): Promise<void> {
  for (const row of rows) {
    const r = await postScore(uri, { data: [row] });
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
  }
}

describe("local target: mlops monitor on what PROD served (collection, drift, retrain)", function () {
  this.timeout(20 * 60_000);
  let repo: TempRepo;
  let target: LocalTarget;
  let machine: ReleaseStateMachine;
  const progress = new RecordingProgress();

  before(async () => {
    repo = await makeTempRepo(PORTS, OVERRIDES);
    target = await createLocalTarget({ repoRoot: repo.root, config: repo.config, progress, venvRoot: SHARED_VENV_ROOT });
    machine = new ReleaseStateMachine({ target, config: repo.config, progress });
    const r = await machine.start();
    expect(r.state, progress.lines.slice(-5).join("\n")).to.equal("awaiting-approval");
    await machine.approve(r.id, (await target.approvals.approvers("prod"))[0]!);
    expect((await machine.promote(r.id)).state, progress.lines.slice(-5).join("\n")).to.equal("released");
  });

  after(async () => {
    if (target) await target.down();
    if (repo && !process.env.MLOPS_E2E_KEEP) await repo.remove();
  });

  it("collects nothing of the driver's own smoke and probe traffic: monitor says there is not enough data", async () => {
    const r = await mlops(repo.root, "monitor", "prod");
    expect(r.code, r.stderr).to.equal(10);
    // (the validation's one malformed request is a collected 400: the driver cannot mark a body that is not JSON)
    expect(r.stdout).to.match(/^prod: diabetes-ridge v1: not enough data \(0 rows from [01] requests/);
    expect(r.stdout).to.match(/ {2}(nothing was collected yet|no answered request of v1 was collected in the last 1h \(1 rejected\)): /);
  });

  it("too few requests to INT: not enough data (exit 10), never a verdict", async () => {
    await send(`http://127.0.0.1:${PORTS.int}/score`, userRows(20, 3));
    await sleep(1000); // the sink thread drains the SDK's queue after the answers went out
    const r = await mlops(repo.root, "monitor", "int");
    expect(r.code, r.stderr).to.equal(10);
    expect(r.stdout).to.include("20 collected rows, at least 200 needed for a verdict");
  });

  it("traffic drawn from the training distribution: no drift (exit 0), collected by PROD's serving slot", async () => {
    await send(`http://127.0.0.1:${PORTS.prod}/score`, userRows(300, 11));
    await sleep(1000);
    expect(readdirSync(path.join(repo.root, ".mlops", "collected", "prod", "blue")).some((f) => f.endsWith(".jsonl"))).to.equal(true);
    const r = await mlops(repo.root, "--json", "monitor", "prod");
    const out = JSON.parse(r.stdout) as { verdict: string; reasons: string[]; result: { counts: { rows: number; requests: number } } };
    expect([r.code, out.verdict], out.reasons.join("; ")).to.deep.equal([0, "no-drift"]);
    expect(out.result.counts.rows).to.equal(300);
    expect(out.result.counts.requests - 300).to.be.within(0, 2); // + the validation's malformed request
  });

  it("one feature shifted: drift naming it (exit 9); --retrain starts a release whose record says why", async () => {
    await sleep(2000);
    const t2 = Date.now();
    await send(`http://127.0.0.1:${PORTS.prod}/score`, userRows(300, 17, { column: 2, by: 8 }));
    await sleep(1000);
    const since = `${Math.ceil((Date.now() - t2) / 1000) + 1}s`;
    const r = await mlops(repo.root, "--json", "monitor", "prod", "--since", since, "--retrain");
    expect(r.code, r.stderr.split("\n").slice(-5).join("\n")).to.equal(9);
    const out = JSON.parse(r.stdout) as {
      verdict: string;
      reasons: string[];
      release: { id: string; state: string } | null;
      result: { features: { name: string; drifted: boolean }[] };
    };
    expect(out.verdict).to.equal("drift");
    expect(out.result.features.filter((f) => f.drifted).map((f) => f.name)).to.deep.equal(["bmi"]);
    expect(out.reasons[0]).to.match(/^bmi: PSI /);
    expect(out.release?.state).to.equal("awaiting-approval");
    const status = await mlops(repo.root, "--json", "status", out.release!.id);
    const record = JSON.parse(status.stdout) as { trigger: { kind: string; stack: string; reasons: string[] } };
    expect(record.trigger).to.deep.include({ kind: "monitor", stack: "prod" });
    expect(record.trigger.reasons[0]).to.match(/^bmi: PSI /);
    const overview = await mlops(repo.root, "status");
    expect(overview.stdout).to.match(new RegExp(`monitor:\\n(.*\\n)*  prod .* v1  drift -> ${out.release!.id}  \\.mlops/reports/monitor-prod-`));
  });
});
