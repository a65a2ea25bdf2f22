/**
 * The `local` target: the whole release chain on this machine, for real. Python in a virtualenv built from
 * ml/conda.yml, an MLflow tracking server + model registry on loopback (SQLite), one Azure ML inference
 * server for INT, and for PROD two (blue, green) behind a weighted router. State lives under <repo>/.mlops/ (see docs/local-target.md).
 *
 * Creating the target starts nothing: the venv and the tracking server are made on first use by a port, and a
 * release's preflight (tools, ports) starts the tracking server in the background while the unit tests run.
 */
import path from "node:path";
import type { ReleaseConfig } from "../../config/releaseConfig.js";
import type { Progress, Target } from "../../core/ports.js";
import { localIdentity } from "../../host/localIdentity.js";
import { MlflowClient } from "../../mlflow/mlflowClient.js";
import { StackFileApprovers } from "../../pulumi/stackApprovers.js";
import { FileSourceFingerprinter } from "../../source/fingerprint.js";
import { FileReleaseStore } from "../../store/fileReleaseStore.js";
import { LocalProfiling } from "./localProfiling.js";
import { LocalBatchScoring } from "./localBatchScoring.js";
import { LocalEnvironments } from "./localEnvironments.js";
import { localPaths, type LocalPaths } from "./localPaths.js";
import { LocalRegistry } from "./localRegistry.js";
import { localServicesStatus, stopLocalServices, type LocalServiceStatus } from "./localServices.js";
import { LocalTraining } from "./localTraining.js";
import { PytestUnitTests } from "../../host/pytestUnitTests.js";
import { TestRunLedger } from "../../host/testRunLedger.js";
import { ensureMlflowServer } from "./mlflowServer.js";
import { localPreflight } from "./localPreflight.js";
import { ensurePythonEnv, type PythonEnv } from "../../host/pythonEnv.js";

export interface LocalTargetOptions {
  repoRoot: string;
  config: ReleaseConfig;
  progress: Progress;
  /** where virtualenvs live; default $MLOPS_VENV_ROOT or <repo>/.mlops/venvs */
  venvRoot?: string;
}

export interface LocalTarget extends Target {
  readonly paths: LocalPaths;
  /** Stops the inference servers and the tracking server; one line per service stopped (idempotent). */
  down(): Promise<string[]>;
  /** What runs on this machine; starts nothing. */
  services(): Promise<LocalServiceStatus[]>;
}

export async function createLocalTarget(opts: LocalTargetOptions): Promise<LocalTarget> {
  const repoRoot = path.resolve(opts.repoRoot);
  const paths = localPaths(repoRoot, opts.venvRoot);
  const { config, progress } = opts;

  let envPromise: Promise<PythonEnv> | undefined;
  const pythonEnv = (): Promise<PythonEnv> => {
    envPromise ??= ensurePythonEnv({ repoRoot, venvRoot: paths.venvRoot, progress }).catch((e: unknown) => {
      envPromise = undefined;
      throw e;
    });
    return envPromise;
  };
  let clientPromise: Promise<MlflowClient> | undefined;
  // aborted when the command is done: a start begun in the background (preflight) is not waited for any longer
  const done = new AbortController();
  const mlflow = (): Promise<MlflowClient> => {
    clientPromise ??= ensureMlflowServer({ paths, port: config.local.ports.mlflow, pythonEnv, progress, signal: done.signal })
      .then((svc) => new MlflowClient({ baseUrl: svc.url, connectRetryMs: 10_000 }))
      .catch((e: unknown) => {
        clientPromise = undefined;
        throw e;
      });
    return clientPromise;
  };

  return {
    name: "local",
    paths,
    source: new FileSourceFingerprinter(repoRoot),
    tests: new PytestUnitTests(repoRoot, pythonEnv, new TestRunLedger(paths.venvRoot, repoRoot)),
    training: new LocalTraining({ paths, experimentName: config.model.experiment, pythonEnv, mlflow }),
    registry: new LocalRegistry(mlflow),
    environments: new LocalEnvironments({
      paths,
      ports: { int: config.local.ports.int, prod: config.local.ports.prod, prodBlue: config.local.ports.prodBlue, prodGreen: config.local.ports.prodGreen },
      smokeRequest: config.smoke.request,
      rollout: config.rollout,
      maxRequestBytes: config.scoring.maxRequestBytes,
      collection: config.monitor.collection,
      pythonEnv,
      mlflow,
    }),
    approvals: new StackFileApprovers(repoRoot, async () => localIdentity()),
    profiling: new LocalProfiling({ paths, config }),
    batch: new LocalBatchScoring({ paths, pythonEnv, mlflow }),
    store: new FileReleaseStore(paths.stateDir),
    // ports and tools before the first step; then the tracking server starts while the unit tests run (the train
    // step awaits the same start; a failure there is reported by the step that needs the server)
    preflight: async (p) => {
      await localPreflight({ paths, config, progress: p });
      void mlflow().catch(() => undefined);
    },
    close: async () => done.abort(),
    down: () => stopLocalServices(repoRoot, paths),
    services: () => localServicesStatus(repoRoot, config, paths),
  };
}
