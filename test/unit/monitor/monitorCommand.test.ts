/**
 * `mlops monitor` on its ports: a fake source (what a stack serves, a folder of collected JSON lines), a fake
 * registry, and the real ml/monitor.py in the project's Python environment. Verdicts, exit codes, the report,
 * the record `mlops status` links, and --retrain starting a release whose trigger says what drifted.
 */
import { expect } from "chai";
import { FEATURES, trainingRows } from "../../support/trainingRows.js";
import { execa } from "execa";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import type { MonitorConfig } from "../../../driver/config/monitorConfig.js";
import { EXIT, NotEnoughDataError, NotFoundError, UsageError } from "../../../driver/core/errors.js";
import type { Progress, RegistryPort } from "../../../driver/core/ports.js";
import type { RegisteredModel, Release, ReleaseTrigger } from "../../../driver/core/release.js";
import { ensurePythonEnv, venvRootFor } from "../../../driver/host/pythonEnv.js";
import { readLastMonitors, renderLastMonitors } from "../../../driver/monitor/lastMonitor.js";
import { decide, monitorCommand, type MonitorCommandDeps } from "../../../driver/monitor/monitorCommand.js";
import type { MonitorSource } from "../../../driver/monitor/monitorSource.js";
import { dataDigest } from "../../../driver/source/fingerprint.js";
import { tempDir } from "../../support/tempDirs.js";

const REPO = path.resolve(import.meta.dirname, "../../..");
const quiet: Progress = { stepStarted: () => undefined, stepFinished: () => undefined, info: () => undefined };

/** Collected lines as score.py's sink writes them, `n` requests of one row drawn (seeded) from the training data
 * (inputs and request outcomes; prediction drift is proven in ml/tests/test_monitor.py with the model's own predictions). */
function writeCollected(dir: string, n: number, o: { shift?: { feature: string; by: number }; version?: string; seed?: number } = {}): void {
  mkdirSync(dir, { recursive: true });
  const rows = trainingRows();
  let seed = o.seed ?? 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const now = Math.floor(Date.now() / 1000);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const row = [...rows[Math.floor(rand() * rows.length)]!];
    if (o.shift) row[FEATURES.indexOf(o.shift.feature)]! += o.shift.by;
    const common = { id: `p${i}`, correlationid: `c${i}`, time: now - n + i, modelversion: o.version ?? "3" };
    out.push(JSON.stringify({ ...common, collection: "model_inputs", data: [Object.fromEntries(FEATURES.map((f, j) => [f, row[j]]))] }));
    out.push(JSON.stringify({ ...common, collection: "mlops_requests", data: [{ status: 200, rows: 1, elapsed_ms: 2.5, reason: null }] }));
  }
  writeFileSync(path.join(dir, `20261202T000000-1-${String(o.seed ?? 7).padStart(5, "0")}.jsonl`), out.join("\n") + "\n");
}

describe("mlops monitor (driver/monitor) with the real ml/monitor.py", function () {
  this.timeout(15 * 60_000); // a cold virtualenv build; warm, each run takes a few seconds
  let python: string;
  let modelDir: string;
  let work: string;
  let model: RegisteredModel;
  const started: ReleaseTrigger[] = [];

  before(async () => {
    const env = await ensurePythonEnv({ repoRoot: REPO, venvRoot: venvRootFor(REPO), progress: quiet });
    python = env.python;
    const root = tempDir("monitor-model-");
    modelDir = path.join(root, "model");
    // a real model, trained by ml/train.py on the training split (as the pipeline does)
    await execa(
      python,
      [
        "-c",
        `import sys; sys.path.insert(0, 'ml'); import extract, train; s = extract.extract('ml/data.txt', '${root}/split'); train.train(s.train_path, '${root}', 1.0)`,
      ],
      { cwd: REPO },
    );
    model = {
      name: "diabetes-ridge",
      version: "3",
      digest: "d",
      runId: "run-x",
      metrics: {},
      tags: { "mlops.data_digest": await dataDigest(REPO), "mlops.git_commit": "abc" },
    };
  });

  beforeEach(() => {
    work = tempDir("monitor-cmd-");
    started.length = 0;
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const config = (monitor: Record<string, unknown> = {}): MonitorConfig =>
    parseReleaseConfig({ model: { name: "diabetes-ridge" }, gate: { metrics: { rmse: { greater_is_better: false } } }, monitor }).monitor;

  function deps(o: { served?: boolean; monitor?: Record<string, unknown>; registry?: Partial<RegistryPort> } = {}): MonitorCommandDeps {
    const source: MonitorSource = {
      stateDir: path.join(work, ".mlops"),
      runsDir: path.join(work, ".mlops", "runs"),
      served: async () => (o.served === false ? undefined : { modelName: "diabetes-ridge", modelVersion: "3", modelDir }),
      collected: async (stack) => ({ dirs: [path.join(work, "collected", stack)] }),
      python: async () => python,
    };
    const registry = { getVersion: async () => model, ...o.registry } as unknown as RegistryPort;
    return {
      repoRoot: REPO,
      config: config(o.monitor),
      source,
      registry,
      progress: quiet,
      startRelease: async (trigger) => {
        started.push(trigger);
        return { id: "rel-20261202-060000-ab12", state: "awaiting-approval" } as Release;
      },
    };
  }

  it("maps verdicts to exit codes: 0 no drift, 9 drift, 10 not enough data; a dry run's drift exits 0", () => {
    expect(decide("no-drift", "enabled").exitCode).to.equal(0);
    expect(decide("drift", "enabled")).to.include({ exitCode: EXIT.drift, drift: true });
    expect(decide("drift", "dry_run")).to.include({ exitCode: 0, drift: false, outcome: "drift (dry run: not acted on)" });
    expect(decide("insufficient-data", "enabled").exitCode).to.equal(EXIT.notEnoughData);
    expect([EXIT.drift, EXIT.notEnoughData]).to.deep.equal([9, 10]);
  });

  it("a stack that serves nothing says so in one line, exit 10", async () => {
    const e = await monitorCommand(deps({ served: false }), "prod", {}).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(NotEnoughDataError);
    expect((e as NotEnoughDataError).message).to.equal("stack 'prod' serves nothing yet, so there is nothing to monitor; release (and promote) a model first");
    expect((e as NotEnoughDataError).exitCode).to.equal(10);
  });

  it("a bad stack or --since is a usage error", async () => {
    expect(await monitorCommand(deps(), "staging", {}).catch((x: unknown) => x)).to.be.instanceOf(UsageError);
    const e = await monitorCommand(deps(), "prod", { since: "a week" }).catch((x: unknown) => x);
    expect((e as Error).message).to.match(/^--since 'a week' is not a duration; use a whole number and s, m, h or d/);
  });

  it("a served version with nothing collected is not enough data, and says why", async () => {
    const out = await monitorCommand(deps(), "prod", {});
    expect(out.exitCode).to.equal(10);
    expect(out.json.reasons[0]).to.match(/^nothing was collected yet/);
  });

  it("traffic from the training distribution is no drift (exit 0), with a report linked from status", async () => {
    writeCollected(path.join(work, "collected", "prod", "blue"), 400);
    const out = await monitorCommand(deps(), "prod", { retrain: true });
    expect(out.json.verdict, out.json.reasons.join("; ")).to.equal("no-drift");
    expect(out.exitCode).to.equal(0);
    expect(started).to.deep.equal([]);
    expect(out.text).to.include("no release started (no drift to act on)");
    expect(readFileSync(out.json.report.html, "utf8")).to.include("<svg");
    const last = await readLastMonitors(path.join(work, ".mlops"));
    expect(last.map((m) => [m.stack, m.outcome])).to.deep.equal([["prod", "no drift"]]);
    expect(renderLastMonitors(last, work)).to.match(/prod .* v3 {2}no drift {2}\.mlops\/reports\/monitor-prod-.*\.html/);
  });

  it("one shifted feature is drift naming it (exit 9); --retrain starts a release whose trigger says what drifted", async () => {
    writeCollected(path.join(work, "collected", "prod", "green"), 400, { shift: { feature: "bmi", by: 8 } });
    const out = await monitorCommand(deps(), "prod", { retrain: true });
    expect(out.exitCode).to.equal(EXIT.drift);
    expect(out.json.result.features.filter((f) => f.drifted).map((f) => f.name)).to.deep.equal(["bmi"]);
    expect(started).to.have.length(1);
    expect(started[0]!).to.include({ kind: "monitor", stack: "prod", modelVersion: "3" });
    expect(started[0]!.reasons[0]).to.match(/^bmi: PSI \d/);
    expect(out.json.release).to.deep.equal({ id: "rel-20261202-060000-ab12", state: "awaiting-approval" });
    expect(readFileSync(out.json.report.markdown, "utf8")).to.match(/\| bmi \| [\d.]+ \| .* \| DRIFT \|/);
    expect((await readLastMonitors(path.join(work, ".mlops")))[0]!.release).to.equal("rel-20261202-060000-ab12");
  });

  it("in dry_run mode drift is reported, exit 0, and --retrain starts nothing", async () => {
    writeCollected(path.join(work, "collected", "prod", "green"), 400, { shift: { feature: "bmi", by: 8 } });
    const out = await monitorCommand(deps({ monitor: { mode: "dry_run" } }), "prod", { retrain: true });
    expect([out.exitCode, out.json.verdict, out.json.outcome]).to.deep.equal([0, "drift", "drift (dry run: not acted on)"]);
    expect(started).to.deep.equal([]);
  });

  it("fewer rows than minSamples is not enough data (exit 10), never a verdict", async () => {
    writeCollected(path.join(work, "collected", "int", "int"), 50);
    const out = await monitorCommand(deps(), "int", { retrain: true });
    expect([out.exitCode, out.json.verdict]).to.deep.equal([10, "insufficient-data"]);
    expect(out.json.reasons[0]).to.equal("50 collected rows, at least 200 needed for a verdict");
    expect(started).to.deep.equal([]);
  });

  it("a truncated collected file is skipped with a count and a warning naming the file", async () => {
    const dir = path.join(work, "collected", "prod", "blue");
    writeCollected(dir, 300);
    const broken = path.join(dir, "broken.jsonl");
    writeFileSync(broken, '{"collection": "model_inputs", "time": 1');
    const warnings: string[] = [];
    const out = await monitorCommand({ ...deps(), progress: { ...quiet, info: (m) => warnings.push(m) } }, "prod", {});
    expect(out.json.result.counts.badLines).to.equal(1);
    expect(out.json.result.counts.skipped).to.deep.equal([{ file: broken, badLines: 1 }]);
    expect(warnings).to.include(`warning: ${broken}: 1 truncated or unreadable line(s) skipped`);
    expect(out.text).to.include("1 bad collected line(s) skipped in 1 file(s)");
  });

  it("refuses in one line when the training data of the served version is no longer on this machine", async () => {
    const e = await monitorCommand(
      deps({ registry: { getVersion: async () => ({ ...model, tags: { "mlops.data_digest": "0".repeat(64), "mlops.git_commit": "abcdef1234567890" } }) } }),
      "prod",
      {},
    ).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(NotFoundError);
    expect((e as Error).message).to.match(
      /^the training data of diabetes-ridge v3 is not on this machine: ml\/data.txt no longer has its data digest 000000000000 .*check out ml\/data.txt of commit abcdef123456/,
    );
    expect(existsSync(path.join(work, ".mlops", "monitor"))).to.equal(false);
  });
});
