/**
 * End to end: the train step of the local target against a real MLflow tracking server (ml/pipeline.py in the
 * shared venv) when the server goes away, and after a training that a crash left RUNNING. Ports 5745-5749.
 */
import { expect } from "chai";
import { TrainingError } from "../../driver/core/errors.js";
import type { Progress } from "../../driver/core/ports.js";
import type { SourceFingerprint } from "../../driver/core/release.js";
import { ensurePythonEnv, type PythonEnv } from "../../driver/host/pythonEnv.js";
import { MlflowClient } from "../../driver/mlflow/mlflowClient.js";
import { FileSourceFingerprinter } from "../../driver/source/fingerprint.js";
import { localPaths, type LocalPaths } from "../../driver/targets/local/localPaths.js";
import { LocalTraining } from "../../driver/targets/local/localTraining.js";
import { ensureMlflowServer, stopMlflowServer } from "../../driver/targets/local/mlflowServer.js";
import { RecordingProgress, SHARED_VENV_ROOT, makeTempRepo, type TempRepo } from "./localRepoFixture.js";

const PORTS = { mlflow: 5745, int: 5746, prod: 5747, prodBlue: 5748, prodGreen: 5749 };

describe("local target: training when the tracking server fails (end to end, real MLflow)", function () {
  this.timeout(10 * 60_000);
  let repo: TempRepo;
  let paths: LocalPaths;
  let source: SourceFingerprint;
  const progress = new RecordingProgress();
  let envPromise: Promise<PythonEnv> | undefined;
  const pythonEnv = () => (envPromise ??= ensurePythonEnv({ repoRoot: repo.root, venvRoot: SHARED_VENV_ROOT, progress }));
  const startServer = async () =>
    new MlflowClient({ baseUrl: (await ensureMlflowServer({ paths, port: PORTS.mlflow, pythonEnv, progress })).url, connectRetryMs: 5_000 });

  before(async () => {
    repo = await makeTempRepo(PORTS, { profile: { enabled: false } });
    paths = localPaths(repo.root, SHARED_VENV_ROOT);
    source = await new FileSourceFingerprinter(repo.root).fingerprint();
  });
  after(async () => {
    if (paths) await stopMlflowServer(paths);
    if (repo && !process.env.MLOPS_E2E_KEEP) await repo.remove();
  });

  it("a run left RUNNING by an interrupted training is marked FAILED by the next training, which finishes its own", async () => {
    const client = await startServer();
    const experimentId =
      (await client.getExperimentByName(repo.config.model.experiment))?.experiment_id ?? (await client.createExperiment(repo.config.model.experiment));
    const stale = await client.createRun(experimentId, "killed-mid-training"); // as a pipeline.py killed with -9 leaves it
    expect(stale.info.status).to.equal("RUNNING");

    const training = new LocalTraining({ paths, experimentName: repo.config.model.experiment, pythonEnv, mlflow: async () => client });
    const result = await training.train(source, progress);

    expect((await client.getRun(stale.info.run_id))?.info.status).to.equal("FAILED");
    expect((await client.getRun(result.runId))?.info.status).to.equal("FINISHED");
    expect(progress.lines.join("\n")).to.contain(`marked run ${stale.info.run_id} FAILED`);
  });

  it("the tracking server going down during training fails the step with one line saying so (bounded by this test's 60 s)", async function () {
    this.timeout(60_000); // the MLflow client's defaults retried for about 8 minutes
    const client = await startServer();
    let stopping: Promise<unknown> | undefined;
    const killing: Progress = {
      ...progress,
      stepStarted: () => undefined,
      stepFinished: () => undefined,
      info: (line) => {
        progress.info(line);
        if (line.startsWith("running ml/pipeline.py")) stopping ??= stopMlflowServer(paths); // the server dies as training starts
      },
    };
    const training = new LocalTraining({ paths, experimentName: repo.config.model.experiment, pythonEnv, mlflow: async () => client });
    const err = await training.train(source, killing).then(
      () => undefined,
      (e: unknown) => e,
    );
    await stopping;
    expect(err).to.be.instanceOf(TrainingError);
    const message = (err as Error).message;
    expect(message).to.match(new RegExp(`^the MLflow tracking server at http://127\\.0\\.0\\.1:${PORTS.mlflow} is down `));
    expect(message).to.not.contain("\n");
  });
});
