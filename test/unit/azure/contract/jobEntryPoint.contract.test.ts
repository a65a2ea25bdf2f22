/**
 * Contract test: the training job's entry point run the way an Azure ML command job runs it, against the
 * loopback fake. The driver submits the job (AzureTraining.train); the test then plays Azure ML's job runtime:
 * it materializes the uploaded code snapshot, mounts an output folder, runs the job's own `command` with the
 * Python of the job's environment file (a test-only venv built by the project's venv machinery) and the
 * environment an Azure ML job gives its process, "uploads" the mounted output to the datastore, and marks the
 * job Completed. The driver's own read (runs/get on the workspace tracking URI, model.pkl from the job output)
 * must then return exactly what ml/pipeline.py logged.
 *
 * The job's MLflow environment (see docs/azure-target.md for the sources):
 * - MLFLOW_TRACKING_URI: the workspace's azureml://<host>/mlflow/v1.0/subscriptions/... URI. azureml-mlflow turns
 *   it into https://<host>/mlflow/v2.0/subscriptions/... (azureml/mlflow/_internal/utils.py,
 *   get_service_context_from_tracking_url_mlflow_env_vars; _store/azureml_reststore.py, get_host_credentials);
 *   <host> is the fake here.
 * - MLFLOW_TRACKING_TOKEN, MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_ID: the variables azureml-mlflow expects of a
 *   submitted run (_internal/service_context_loader.py, _mlflow_env_vars_set); the token is the run's own
 *   (AzureMLTokenAuthentication, a JWT whose exp it reads), sent as Bearer.
 * - AZUREML_RUN_ID: the remote run's id, which makes the plugin leave the run's status to the service
 *   (_store/tracking/store.py, update_run_info).
 * - REQUESTS_CA_BUNDLE: trusts the fake's loopback certificate (requests honours it for verify=True).
 */
import { sha256Hex } from "../../../../config/sha256.js";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { expect } from "chai";
import type { SourceFingerprint, TrainingResult } from "../../../../driver/core/release.js";
import { AZURE_TRAINING_CONDA_FILE, CONDA_FILE } from "../../../../driver/source/fingerprint.js";
import { AzureTraining } from "../../../../driver/targets/azure/azureTraining.js";
import { localPaths } from "../../../../driver/targets/local/localPaths.js";
import { ensurePythonEnv, type PythonEnv } from "../../../../driver/host/pythonEnv.js";
import { accountOf, CONTAINER, FakeAzure } from "../support/fakeAzure.js";
import { AAD_MLFLOW_TOKEN } from "../support/fakeMlflowTracking.js";
import { clientsFor, outputsFor, RecordingProgress, REPO, settingsFor, tempRepo } from "../support/harness.js";
import { loopbackCert } from "../support/loopbackTls.js";

const source: SourceFingerprint = { gitCommit: "c0ffee".padEnd(40, "0"), gitDirty: false, codeDigest: "code1", dataDigest: "data1", envDigest: "env1" };

interface JobRun {
  jobName: string;
  exitCode: number;
  stderr: string;
  outputDir: string;
  codeDir: string;
  result: Promise<TrainingResult>;
}

function listFiles(dir: string, rel = ""): string[] {
  return readdirSync(path.join(dir, rel)).flatMap((n) => (statSync(path.join(dir, rel, n)).isDirectory() ? listFiles(dir, `${rel}${n}/`) : [`${rel}${n}`]));
}

describe("azure training job entry point (contract test: ml/pipeline.py run as an Azure ML job against the loopback fake)", function () {
  this.timeout(120_000);
  let fake: FakeAzure;
  let repo: ReturnType<typeof tempRepo>;
  let work: string;
  let caFile: string;
  const progress = new RecordingProgress();
  let scoringEnv: PythonEnv;

  before(async function () {
    this.timeout(20 * 60_000); // a cold build of the two venvs; warm, it is a marker read
    const venvRoot = localPaths(REPO).venvRoot;
    await ensurePythonEnv({ repoRoot: REPO, venvRoot, progress, condaFile: AZURE_TRAINING_CONDA_FILE });
    scoringEnv = await ensurePythonEnv({ repoRoot: REPO, venvRoot, progress, condaFile: CONDA_FILE });
  });
  beforeEach(async () => {
    fake = await new FakeAzure().start();
    fake.jobScript = () => ({ statuses: ["Queued", "Running"] }); // runs until the test's job runtime finishes it
    repo = tempRepo();
    work = mkdtempSync(path.join(tmpdir(), "mlops-job-"));
    caFile = path.join(work, "loopback-ca.pem");
    writeFileSync(caFile, loopbackCert().cert);
  });
  afterEach(async () => {
    await fake.stop();
    repo.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  /**
   * The job's Python: the conda file of the environment version the job names, materialized as Azure ML builds
   * its image (here: the project's digest-keyed venv; the same file text gives the venv before() built).
   */
  async function environmentOf(environmentId: string, ws: string): Promise<PythonEnv> {
    const asset = fake.assets.get(`${ws}${environmentId.split(`/workspaces/${ws}`)[1]}`)!;
    const dir = mkdtempSync(path.join(work, "env-"));
    writeFileSync(path.join(dir, "conda.yml"), (asset.properties as { condaFile: string }).condaFile);
    return ensurePythonEnv({ repoRoot: dir, venvRoot: localPaths(REPO).venvRoot, progress, condaFile: "conda.yml" });
  }

  /** Submit through the driver, then run the submitted job the way Azure ML's runtime does. */
  async function runJob(): Promise<JobRun> {
    const training = new AzureTraining({
      repoRoot: repo.root,
      experimentName: "diabetes",
      ws: clientsFor(fake, "int"),
      settings: settingsFor(fake),
      poll: { timeoutMs: 300_000 },
    });
    const result = training.train(source, progress);
    let submitFailed: unknown;
    result.catch((e: unknown) => (submitFailed = e)); // awaited by the test
    while (fake.jobs.size === 0) {
      if (submitFailed) throw submitFailed;
      await new Promise((r) => setTimeout(r, 10));
    }
    const [jobName, job] = [...fake.jobs.entries()][0]!;
    const props = job.body.properties as {
      command: string;
      codeId: string;
      environmentId: string;
      experimentName: string;
      environmentVariables: Record<string, string>;
      outputs: Record<string, { uri: string }>;
    };

    // the code asset: the snapshot the driver uploaded, as the job's working directory
    const code = fake.assets.get(`${job.ws}${props.codeId.split(`/workspaces/${job.ws}`)[1]}`)!;
    const prefix = new URL((code.properties as { codeUri: string }).codeUri).pathname.slice(1) + "/";
    const codeDir = path.join(work, "code");
    for (const [key, blob] of fake.blobs) {
      if (!key.startsWith(prefix)) continue;
      const file = path.join(codeDir, key.slice(prefix.length));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, blob.data);
    }
    // the output, mounted read-write; the command's ${{outputs.training}} is its mount path
    const outputDir = path.join(work, "outputs", "training");
    mkdirSync(outputDir, { recursive: true });
    const argv = props.command.replace("${{outputs.training}}", outputDir).split(/\s+/);
    expect(argv[0]).to.equal("python");

    const { python } = await environmentOf(props.environmentId, job.ws);
    const run = fake.tracking.startJobRun(jobName, props.experimentName);
    const env = {
      PATH: `${path.dirname(python)}:/usr/bin:/bin`,
      HOME: work,
      ...props.environmentVariables,
      MLFLOW_TRACKING_URI: String(outputsFor(fake, "int").mlflowTrackingUri),
      MLFLOW_TRACKING_TOKEN: run.token,
      MLFLOW_RUN_ID: run.runId,
      MLFLOW_EXPERIMENT_ID: run.experimentId,
      AZUREML_RUN_ID: run.runId,
      REQUESTS_CA_BUNDLE: caFile,
    };
    const p = await execa(python, argv.slice(1), { cwd: codeDir, env, extendEnv: false, reject: false, stdin: "ignore", timeout: 90_000 });

    // the runtime's side of a finished job: the mount's files in the datastore, the run's and job's status
    const outPath = props.outputs.training!.uri.replace(/^azureml:\/\/datastores\/[^/]+\/paths\//, "");
    for (const rel of listFiles(outputDir)) fake.putBlob(accountOf(job.ws), `${outPath}${rel}`, readFileSync(path.join(outputDir, rel)));
    fake.runs.get(jobName)!.status = p.exitCode === 0 ? "FINISHED" : "FAILED";
    const lastLine = p.stderr.trim().split("\n").at(-1) ?? "";
    job.script = { ...job.script, statuses: [p.exitCode === 0 ? "Completed" : "Failed"], ...(p.exitCode === 0 ? {} : { error: lastLine }) };
    return { jobName, exitCode: p.exitCode ?? -1, stderr: p.stderr, outputDir, codeDir, result };
  }

  it("contract test: in the job environment (azureml-mlflow) the job logs to its own run, the driver reads back exactly its metrics and model sha256, and ml/conda.yml's environment trains the byte-identical model.pkl", async () => {
    const job = await runJob();
    expect(job.exitCode, job.stderr).to.equal(0);
    const r = await job.result;

    const runJson = JSON.parse(readFileSync(path.join(job.outputDir, "run.json"), "utf8")) as {
      run_id: string;
      metrics: Record<string, number>;
      model_sha256: string;
      artifact_path: string | null;
    };
    const modelSha = sha256Hex(readFileSync(path.join(job.outputDir, "model", "model.pkl")));
    expect(runJson.run_id).to.equal(job.jobName); // MLflow resumed the job's run
    expect(r.runId).to.equal(job.jobName);
    expect(r.metrics).to.deep.equal(runJson.metrics);
    expect(r.metrics).to.deep.equal(JSON.parse(readFileSync(path.join(job.outputDir, "metrics.json"), "utf8")));
    expect(Object.keys(r.metrics).sort()).to.deep.equal(["mae", "r2", "rmse"]);
    expect(r.modelSha256).to.equal(modelSha);
    expect(runJson.model_sha256).to.equal(modelSha);
    expect(fake.runs.get(job.jobName)!.tags.model_sha256).to.equal(modelSha);
    expect(fake.runs.get(job.jobName)!.params).to.include({ alpha: "1.0", model: "StandardScaler+Ridge", sklearn_version: "1.9.1" });
    // the model stays in the job output (the driver registers it from there); nothing went to run artifacts
    expect(runJson.artifact_path).to.equal(null);
    expect(r.artifactUri).to.equal(`azureml://jobs/${job.jobName}/outputs/training/paths/model`);
    expect(fake.blobs.has(`${accountOf("ws-int")}/${CONTAINER}/mlops/jobs/${job.jobName}/model/model.pkl`)).to.equal(true);

    // the pins shared with ml/conda.yml decide the bytes: its environment fits the same split to the same model.pkl
    const local = path.join(work, "local");
    const fit = await execa(scoringEnv.python, ["train.py", "--train", path.join(job.outputDir, "split", "train.csv"), "--out", local, "--no-mlflow"], {
      cwd: job.codeDir,
      reject: false,
      stdin: "ignore",
    });
    expect(fit.exitCode, fit.stderr).to.equal(0);
    expect(sha256Hex(readFileSync(path.join(local, "model", "model.pkl")))).to.equal(modelSha);

    // the plugin's calls: /mlflow/v2.0 with the run's token, nothing the fake does not implement
    expect(fake.tracking.unsupported).to.deep.equal([]);
    const calls = fake.requests.filter((q) => q.path.startsWith("/mlflow/"));
    const byJob = calls.filter((q) => q.headers.authorization !== AAD_MLFLOW_TOKEN);
    expect(byJob.length).to.be.greaterThan(0);
    expect(
      byJob.every((q) =>
        q.path.startsWith(
          "/mlflow/v2.0/subscriptions/sub-int/resourceGroups/rg-int/providers/Microsoft.MachineLearningServices/workspaces/ws-int/api/2.0/mlflow/",
        ),
      ),
    ).to.equal(true);
    const ops = new Set(byJob.map((q) => `${q.method} ${q.path.split("/api/2.0/mlflow/")[1]}`));
    expect([...ops]).to.include.members(["GET experiments/get-by-name", "GET runs/get", "POST runs/log-batch"]);
    expect(ops.has("POST runs/create"), "no second run: the job's run is resumed").to.equal(false);
    // the driver's read: the workspace URI (v1.0) with its ARM-audience token
    const driverRead = calls.filter((q) => !byJob.includes(q));
    expect(driverRead.map((q) => q.path.split("/api/2.0/mlflow/")[0])).to.include(
      "/mlflow/v1.0/subscriptions/sub-int/resourceGroups/rg-int/providers/Microsoft.MachineLearningServices/workspaces/ws-int",
    );
  });

  it("contract test: in ml/conda.yml's environment (no azureml-mlflow) the job fails on the azureml:// tracking URI and the release stops at train", async () => {
    // the environment before the fix: the job registered with ml/conda.yml's content
    writeFileSync(path.join(repo.root, AZURE_TRAINING_CONDA_FILE), readFileSync(path.join(REPO, CONDA_FILE)));
    const job = await runJob();
    expect(job.exitCode).to.equal(1);
    // MLflow without the plugin knows no store for the scheme (MLflow 3.17.2 names the model registry store first)
    expect(job.stderr).to.match(/^pipeline failed: \w+: .*unsupported URI 'azureml:\/\/127\.0\.0\.1:\d+\/mlflow\/v1\.0\/subscriptions\//m);
    const err = (await job.result.catch((e: Error) => e)) as Error;
    expect(err.name).to.equal("TrainingError");
    expect(err.message).to.contain(`training job ${job.jobName} ended Failed: UserError: pipeline failed:`);
    expect(fake.requests.filter((q) => q.path.startsWith("/mlflow/v2.0/"))).to.have.length(0);
  });
});
