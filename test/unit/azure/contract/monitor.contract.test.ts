/**
 * Contract tests of `mlops monitor --target azure` against the loopback Azure fake: what PROD serves (the stack's
 * outputs), the model file from PROD's default datastore (sha256 checked), the online deployment read through ARM
 * (the model it runs, systemData.lastModifiedAt), and the data collector's blobs listed (paged by NextMarker) and
 * streamed from `modelDataCollector/<endpoint>/<deployment>/<collection>/YYYY/MM/DD/HH/*.jsonl` in the record format
 * Microsoft documents (support: collectorRecords.ts). The real ml/monitor.py judges the rows.
 */
import { expect } from "chai";
import { FEATURES, trainingRows } from "../../../support/trainingRows.js";
import { execa } from "execa";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { COLLECTIONS } from "../../../../components/dataCollection.js";
import { sha256Hex } from "../../../../config/sha256.js";
import { parseReleaseConfig } from "../../../../driver/config/releaseConfig.js";
import { NotEnoughDataError } from "../../../../driver/core/errors.js";
import type { Release, ReleaseTrigger } from "../../../../driver/core/release.js";
import { ensurePythonEnv, venvRootFor } from "../../../../driver/host/pythonEnv.js";
import { monitorCommand } from "../../../../driver/monitor/monitorCommand.js";
import { AzureRegistry } from "../../../../driver/targets/azure/azureRegistry.js";
import { azureMonitorSource } from "../../../../driver/targets/azure/azureMonitorSource.js";
import { MDC_COLLECTIONS } from "../../../../driver/targets/azure/collectorRecords.js";
import { dataDigest } from "../../../../driver/source/fingerprint.js";
import { STORAGE_TOKEN } from "../support/fakeCredential.js";
import { accountOf, FakeAzure } from "../support/fakeAzure.js";
import { clientsFor, FakeStackUpdater, outputsFor, RecordingProgress, REPO, tempRepo } from "../support/harness.js";
import { azureMachine } from "../support/cliAndTarget.js";
import { runMonitor } from "../../../../driver/cli/monitorCli.js";
import type { CliTarget } from "../../../../driver/targets/types.js";

const NAME = "diabetes-ridge";
const ENDPOINT = "mlops-prod-ep";
const HOUR = 3600;

/** One line as Azure ML's data collector stores it (MS Learn, "Collect production data ...", collected data schema). */
function mdcLine(collection: string, at: number, data: unknown[], correlationid: string): string {
  const body = JSON.stringify(data);
  return JSON.stringify({
    specversion: "1.0",
    id: randomUUID(),
    source: `/subscriptions/sub-prod/resourceGroups/rg-prod/providers/Microsoft.MachineLearningServices/workspaces/ws-prod/onlineEndpoints/${ENDPOINT}/deployments/blue`,
    type: `azureml.inference.${collection}`,
    datacontenttype: "application/json",
    time: new Date(at * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    data,
    correlationid,
    xrequestid: correlationid,
    modelversion: "default",
    collectdatatype: "pandas.core.frame.DataFrame",
    agent: "azureml-ai-monitoring/1.0.0",
    contentrange: `bytes 0-${body.length - 1}/${body.length}`,
  });
}

const hourFolder = (at: number): string => new Date(Math.floor(at / HOUR) * HOUR * 1000).toISOString().slice(0, 13).replace(/[-T]/g, "/");

describe("mlops monitor --target azure (contract tests against the loopback ARM / Blob fake, with the real ml/monitor.py)", function () {
  this.timeout(15 * 60_000); // a cold virtualenv build; warm, each test takes a few seconds
  let python: string;
  let pkl: Buffer;
  let predictions: number[];
  let fake: FakeAzure;
  let state: string;
  const started: ReleaseTrigger[] = [];
  const prodAccount = accountOf("ws-prod");

  before(async () => {
    python = (await ensurePythonEnv({ repoRoot: REPO, venvRoot: venvRootFor(REPO), progress: new RecordingProgress() })).python;
    const root = mkdtempSync(path.join(os.tmpdir(), "monitor-azure-model-"));
    await execa(
      python,
      [
        "-c",
        `import sys; sys.path.insert(0, 'ml'); import extract, train; s = extract.extract('ml/data.txt', '${root}/split'); train.train(s.train_path, '${root}', 1.0)`,
      ],
      { cwd: REPO },
    );
    pkl = readFileSync(path.join(root, "model", "model.pkl"));
    // the model's own prediction of every row of the training data, as score.py would answer (model_outputs)
    const out = await execa(
      python,
      [
        "-c",
        `import json, pickle, sys; sys.path.insert(0, 'ml'); m = pickle.load(open('${root}/model/model.pkl', 'rb')); print(json.dumps([float(p) for p in m.predict(${JSON.stringify(trainingRows())})]))`,
      ],
      { cwd: REPO },
    );
    predictions = JSON.parse(out.stdout) as number[];
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(async () => {
    fake = await new FakeAzure().start();
    state = mkdtempSync(path.join(os.tmpdir(), "monitor-azure-state-"));
    started.length = 0;
    const sha = sha256Hex(pkl);
    const tags = { "mlops.model_sha256": sha, "mlops.data_digest": await dataDigest(REPO), "mlops.run_id": "job-1", "mlops.git_commit": "abc" };
    const asset = (ws: string, modelUri: string) =>
      fake.assets.set(`${ws}/models/${NAME}/versions/3`, {
        id: `${ws}/models/${NAME}/versions/3`,
        name: "3",
        properties: { modelType: "custom_model", modelUri, tags },
      });
    asset("ws-int", "azureml://jobs/job-1/outputs/training/paths/model");
    asset(
      "ws-prod",
      `azureml://subscriptions/sub-prod/resourcegroups/rg-prod/workspaces/ws-prod/datastores/workspaceblobstore/paths/mlops/models/${NAME}/3/model`,
    );
    fake.putBlob(prodAccount, `mlops/models/${NAME}/3/model/model.pkl`, pkl);
    fake.putBlob(prodAccount, `mlops/models/${NAME}/3/model/MLmodel`, Buffer.from("flavors: {}\n"));
    const modelId = (v: string) =>
      `/subscriptions/sub-prod/resourceGroups/rg-prod/providers/Microsoft.MachineLearningServices/workspaces/ws-prod/models/${NAME}/versions/${v}`;
    fake.onlineDeployments.set(`ws-prod/${ENDPOINT}/blue`, { model: modelId("3"), lastModifiedAt: new Date(Date.now() - 3 * 86400_000).toISOString() });
    fake.onlineDeployments.set(`ws-prod/${ENDPOINT}/green`, { model: modelId("2"), lastModifiedAt: new Date(Date.now() - 9 * 86400_000).toISOString() });
  });
  afterEach(async () => {
    await fake.stop();
    rmSync(state, { recursive: true, force: true });
  });

  /** `n` requests of one row each (seeded from the training data), written as the collector does, `perBlob` lines a blob. */
  function collect(n: number, o: { shift?: { feature: string; by: number }; deployment?: string; perBlob?: number; endAt?: number } = {}): string[] {
    const rows = trainingRows();
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const end = o.endAt ?? Math.floor(Date.now() / 1000);
    const blobs = new Map<string, string[]>();
    for (let i = 0; i < n; i++) {
      const pick = Math.floor(rand() * rows.length);
      const row = [...rows[pick]!];
      if (o.shift) row[FEATURES.indexOf(o.shift.feature)]! += o.shift.by;
      const at = end - (n - i) * 5;
      const put = (collection: string, data: unknown[]) => {
        const folder = `modelDataCollector/${ENDPOINT}/${o.deployment ?? "blue"}/${collection}/${hourFolder(at)}`;
        const lines = blobs.get(folder) ?? [];
        lines.push(mdcLine(collection, at, data, `c${i}`));
        blobs.set(folder, lines);
      };
      put("model_inputs", [Object.fromEntries(FEATURES.map((f, j) => [f, row[j]]))]);
      if (!o.shift) put("model_outputs", [{ prediction: predictions[pick]! }]);
      put("mlops_requests", [{ status: 200, rows: 1, elapsed_ms: 2.5, reason: null }]);
    }
    const names: string[] = [];
    for (const [folder, lines] of blobs) {
      const per = o.perBlob ?? lines.length;
      for (let k = 0; k < lines.length; k += per) {
        const name = `${folder}/${randomUUID()}.jsonl`;
        fake.putBlob(prodAccount, name, Buffer.from(lines.slice(k, k + per).join("\n") + "\n"));
        names.push(name);
      }
    }
    return names;
  }

  function run(o: { traffic?: Record<string, number>; since?: string; retrain?: boolean; monitor?: Record<string, unknown> } = {}) {
    const progress = new RecordingProgress();
    const traffic = o.traffic ?? { blue: 100 };
    const config = parseReleaseConfig({ model: { name: NAME }, gate: { metrics: { rmse: { greater_is_better: false } } }, monitor: o.monitor ?? {} }).monitor;
    const source = azureMonitorSource({
      stateDir: path.join(state, ".mlops"),
      runsDir: path.join(state, ".mlops", "runs"),
      python: async () => python,
      progress,
      workspace: async (stack) => clientsFor(fake, stack),
      outputs: async (stack) => ({
        ...outputsFor(fake, stack),
        traffic,
        servedModel: { name: NAME, deployments: { blue: { version: "3", weight: traffic.blue ?? 0 }, green: { version: "2", weight: traffic.green ?? 0 } } },
      }),
    });
    const out = monitorCommand(
      {
        repoRoot: REPO,
        config,
        source,
        registry: new AzureRegistry(clientsFor(fake, "int")),
        progress,
        startRelease: async (trigger) => {
          started.push(trigger);
          return { id: "rel-20261202-060000-ab12", state: "awaiting-approval" } as Release;
        },
      },
      "prod",
      { ...(o.since ? { since: o.since } : {}), ...(o.retrain ? { retrain: true } : {}) },
    );
    return { out, progress };
  }

  const lists = () =>
    fake.requests.filter((r) => r.query.comp === "list" && r.query.restype === "container" && (r.query.prefix ?? "").startsWith("modelDataCollector/"));

  it("contract test: the collections read are the ones the deployments enable", () => {
    expect([...MDC_COLLECTIONS]).to.deep.equal([...COLLECTIONS]);
  });

  it("contract test: traffic from the training distribution is no drift (exit 0); the deployment is read through ARM and its collector blobs listed and downloaded with a storage token", async () => {
    collect(300);
    const { out, progress } = run();
    const r = await out;
    expect(r.exitCode, r.text).to.equal(0);
    expect(r.json).to.include({ stack: "prod", modelVersion: "3", outcome: "no drift" });
    expect(r.json.result.counts).to.include({ rows: 300, requests: 300, predictions: 300, badLines: 0 });
    expect(r.json.result.prediction, "prediction drift judged with the model read from PROD's datastore").to.include({ drifted: false });
    expect(fake.armCalls()).to.include(`GET /onlineEndpoints/${ENDPOINT}/deployments/blue`);
    expect(fake.armCalls()).to.not.include(`GET /onlineEndpoints/${ENDPOINT}/deployments/green`); // v2 is not judged with v3
    expect(lists().map((l) => l.query.prefix)).to.deep.equal([`modelDataCollector/${ENDPOINT}/blue/`]);
    for (const q of lists()) expect(q.headers.authorization).to.equal(STORAGE_TOKEN);
    expect(
      progress.lines.some((l) => /^monitor: read \d+ collected blob\(s\) of mlops-prod-ep \(blue\) from acctwsprod\/azureml-blobstore-1$/.test(l)),
    ).to.equal(true);
  });

  it("contract test: a shifted feature is drift naming it (exit 9), and --retrain starts a release whose trigger says so", async () => {
    collect(300, { shift: { feature: "bmi", by: 8 } });
    const r = await run({ retrain: true }).out;
    expect(r.exitCode, r.text).to.equal(9);
    expect(r.json.reasons.join("\n")).to.contain("bmi");
    expect(started).to.have.length(1);
    expect(started[0]).to.include({ kind: "monitor", stack: "prod", modelVersion: "3" });
    expect(r.json.release).to.deep.equal({ id: "rel-20261202-060000-ab12", state: "awaiting-approval" });
  });

  it("contract test: fewer rows than minSamples is not enough data (exit 10), and records older than --since are not counted", async () => {
    collect(40);
    collect(300, { endAt: Math.floor(Date.now() / 1000) - 2 * 86400 }); // two days ago: outside --since 24h
    const r = await run({ since: "24h" }).out;
    expect(r.exitCode, r.text).to.equal(10);
    expect(r.json.verdict).to.equal("insufficient-data");
    expect(r.json.result.counts.rows).to.equal(40);
  });

  it("contract test: a corrupt blob (a broken line, a truncated last line) is skipped line by line with a count and a warning naming the blob's datastore URI", async () => {
    collect(300);
    const name = `modelDataCollector/${ENDPOINT}/blue/model_inputs/${hourFolder(Math.floor(Date.now() / 1000))}/corrupt.jsonl`;
    const good = mdcLine("model_inputs", Math.floor(Date.now() / 1000) - 1, [Object.fromEntries(FEATURES.map((f, j) => [f, trainingRows()[0]![j]]))], "x");
    fake.putBlob(prodAccount, name, Buffer.from(`${good}\nnot json at all\n${good.slice(0, 80)}`));
    const { out, progress } = run();
    const r = await out;
    expect(r.exitCode, r.text).to.equal(0);
    const uri = `azureml://datastores/workspaceblobstore/paths/${name}`;
    expect(r.json.result.counts.badLines).to.equal(2);
    expect(r.json.result.counts.skipped).to.deep.equal([{ file: uri, badLines: 2 }]);
    expect(progress.lines).to.include(`warning: ${uri}: 2 truncated or unreadable line(s) skipped`);
    expect(r.json.result.counts.rows).to.equal(301);
  });

  it("contract test: a listing of several pages is followed by its NextMarker to the end", async () => {
    fake.listPageSize = 4;
    const names = collect(300, { perBlob: 40 });
    expect(names.length).to.be.greaterThan(8);
    const r = await run().out;
    expect(r.exitCode, r.text).to.equal(0);
    expect(r.json.result.counts.rows).to.equal(300);
    const pages = lists();
    expect(pages.length).to.equal(Math.ceil(names.length / 4));
    expect(pages[0]!.query.marker).to.equal(undefined);
    for (const p of pages.slice(1)) expect(p.query.marker).to.be.a("string").and.not.equal("");
  });

  it("contract test: records a deployment wrote before its last update belong to the version it held then, not to the served one", async () => {
    fake.onlineDeployments.set(`ws-prod/${ENDPOINT}/blue`, {
      ...fake.onlineDeployments.get(`ws-prod/${ENDPOINT}/blue`)!,
      lastModifiedAt: new Date(Date.now() - 600_000).toISOString(), // ten minutes ago
    });
    collect(300); // 25 minutes of requests, 5 s apart: the first 15 minutes' are the previous model's
    const r = await run().out;
    expect(r.json.result.counts.rows).to.be.within(115, 125);
    expect(r.json.result.counts.otherVersions).to.be.greaterThan(0);
  });

  it("contract test: a stack that serves nothing (no deployment takes traffic) is not enough data in one line (exit 10), and no blob is listed", async () => {
    collect(300);
    const e = await run({ traffic: {} }).out.catch((x: unknown) => x);
    expect(e).to.be.instanceOf(NotEnoughDataError);
    expect((e as NotEnoughDataError).exitCode).to.equal(10);
    expect((e as Error).message).to.equal("stack 'prod' serves nothing yet, so there is nothing to monitor; release (and promote) a model first");
    expect(lists()).to.deep.equal([]);
  });

  it("contract test: the CLI's wiring: the azure target hands `mlops monitor` its source (the stack's outputs after `up`, PROD's workspace)", async () => {
    const repo = tempRepo();
    // the temp checkout uses the repository's Python environments (else it would build its own: ~25 s)
    const venvRoot = process.env.MLOPS_VENV_ROOT;
    process.env.MLOPS_VENV_ROOT = venvRootFor(REPO);
    try {
      const updater = new FakeStackUpdater(repo.root, fake);
      await updater.setServing("prod", { model: NAME, deployments: { blue: { version: "3", weight: 100 } } });
      for (let i = 0; i < 2; i++) await updater.up("prod", new RecordingProgress()); // a new color takes traffic on the second up
      collect(300);
      const { m, t, progress } = await azureMachine(repo.root, fake, updater);
      const config = parseReleaseConfig({ model: { name: NAME }, gate: { metrics: { rmse: { greater_is_better: false } } }, monitor: {} }).monitor;
      const out = await runMonitor({ repoRoot: repo.root, config, target: t as CliTarget, machine: m, progress, stack: "prod", options: {} });
      expect(out.exitCode, out.text).to.equal(0);
      expect(out.json.result.counts.rows).to.equal(300);
      expect(lists().map((l) => l.query.prefix)).to.deep.equal([`modelDataCollector/${ENDPOINT}/blue/`]);
    } finally {
      if (venvRoot === undefined) delete process.env.MLOPS_VENV_ROOT;
      else process.env.MLOPS_VENV_ROOT = venvRoot;
      repo.cleanup();
    }
  });

  it("contract test: a model file whose sha256 is not the registered one is refused, before any collected data is read", async () => {
    fake.putBlob(prodAccount, `mlops/models/${NAME}/3/model/model.pkl`, Buffer.from("tampered"));
    collect(300);
    const e = await run().out.catch((x: unknown) => x);
    expect((e as Error).message).to.match(
      /ws-prod's model\.pkl of diabetes-ridge v3 has sha256 [0-9a-f]{12}, not the registered [0-9a-f]{12}; refusing to judge with it/,
    );
    expect(lists()).to.deep.equal([]);
  });
});
