/**
 * The MLflow client against a REAL MLflow tracking server (the local target's `mlflow server`, SQLite store,
 * in a temporary state directory): a registry of 250 model versions and an experiment of 250 runs are read
 * whole, page after page by next_page_token, and a maxResults cap is kept.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import type { Progress } from "../../../driver/core/ports.js";
import { ensurePythonEnv } from "../../../driver/host/pythonEnv.js";
import { MlflowClient } from "../../../driver/mlflow/mlflowClient.js";
import { localPaths } from "../../../driver/targets/local/localPaths.js";
import { ensureMlflowServer, stopMlflowServer } from "../../../driver/targets/local/mlflowServer.js";
import { freePort } from "../../support/freePort.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const quiet: Progress = { stepStarted() {}, stepFinished() {}, info() {} };
const N = 250;

/** Runs `fn` over 0..n-1, `width` at a time (the server has one worker and a SQLite store). */
async function inBatches(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += width) await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, k) => fn(i + k)));
}

describe("MLflow client against a real MLflow server: searches follow next_page_token", function () {
  this.timeout(15 * 60_000); // a cold virtualenv build; a warm one starts the server in seconds
  let state: string;
  let paths: ReturnType<typeof localPaths>;
  let client: MlflowClient;
  let experimentId: string;

  before(async () => {
    state = await mkdtemp(path.join(tmpdir(), "mlflow-paging-"));
    paths = localPaths(state, process.env.MLOPS_VENV_ROOT?.trim() || path.join(REPO_ROOT, ".mlops", "venvs"));
    const rec = await ensureMlflowServer({
      paths,
      port: await freePort(),
      pythonEnv: () => ensurePythonEnv({ repoRoot: REPO_ROOT, venvRoot: paths.venvRoot, progress: quiet }),
      progress: quiet,
    });
    client = new MlflowClient({ baseUrl: rec.url });
    experimentId = await client.createExperiment("paging");
    await client.createRegisteredModel("paged");
    // through the REST API, 10 at a time: each version comes from a run of its own (MLflow checks the source)
    const runs: { run_id: string; artifact_uri: string }[] = new Array(N);
    await inBatches(N, 10, async (i) => {
      const r = await fetch(`${rec.url}/api/2.0/mlflow/runs/create`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ experiment_id: experimentId, start_time: 1_700_000_000_000 + i, tags: [{ key: "i", value: String(i) }] }),
      });
      if (!r.ok) throw new Error(`runs/create: HTTP ${r.status}`);
      runs[i] = ((await r.json()) as { run: { info: { run_id: string; artifact_uri: string } } }).run.info;
    });
    await inBatches(N, 10, (i) => client.createModelVersion({ name: "paged", source: `${runs[i]!.artifact_uri}/model`, runId: runs[i]!.run_id }));
  });

  after(async () => {
    if (paths) await stopMlflowServer(paths);
    if (state) await rm(state, { recursive: true, force: true });
  });

  it("searchModelVersions returns all 250 versions of a model (two pages of 200)", async () => {
    const versions = await client.searchModelVersions("name='paged'");
    expect(versions).to.have.length(N);
    expect(new Set(versions.map((v) => v.version)).size).to.equal(N);
  });

  it("searchModelVersions with a page of 7 still returns every version exactly once", async () => {
    const versions = await client.searchModelVersions("name='paged'", 7);
    expect(new Set(versions.map((v) => v.version)).size).to.equal(N);
    expect(versions).to.have.length(N);
  });

  it("searchRuns without a cap returns all 250 runs (three pages of 100), in the order asked", async () => {
    const runs = await client.searchRuns({ experimentIds: [experimentId], orderBy: ["attributes.start_time DESC"] });
    expect(runs).to.have.length(N);
    expect(runs[0]!.info.run_id).to.not.equal(runs[N - 1]!.info.run_id);
    const starts = runs.map((r) => Number((r.info as { start_time?: number | string }).start_time));
    expect(starts).to.deep.equal([...starts].sort((a, b) => b - a));
  });

  it("searchRuns with maxResults returns at most that many", async () => {
    const runs = await client.searchRuns({ experimentIds: [experimentId], maxResults: 20 });
    expect(runs).to.have.length(20);
  });
});
