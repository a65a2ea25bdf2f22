/**
 * The ports the release core talks to. A target (local, azure) provides one implementation of each; the core
 * never imports a target, and the targets never call the core.
 */
import type { ProfileReport } from "../profile/profileTypes.js";
import type {
  Approval,
  ApproverIdentity,
  DeploymentRecord,
  RegisteredModel,
  Release,
  ReuseKey,
  SourceFingerprint,
  StackName,
  TestReport,
  TrainingResult,
  ValidationResult,
} from "./release.js";

/** Where progress goes (stderr for humans). Never given secrets. */
export interface Progress {
  /** A step of the release started. */
  stepStarted(step: string, what: string): void;
  /** A step finished; `detail` is one line. */
  stepFinished(step: string, ok: boolean, detail: string): void;
  /** Free-form progress inside a step ("waiting for the tracking server on 127.0.0.1:5500"). */
  info(message: string): void;
}

/** Digests of what determines a model: code, data, environment; and the git commit. */
export interface SourcePort {
  fingerprint(): Promise<SourceFingerprint>;
}

/** The ML project's unit tests; they run before anything is trained. */
export interface TestPort {
  /**
   * How the suite is run (the command line, without machine-specific paths): part of the test step's reuse key, so
   * a change of the command runs the tests again. A port without it is never reused.
   */
  readonly runner?: string;
  /** Runs the suite. Returns the counts; a suite that could not run at all throws. */
  runUnitTests(progress: Progress): Promise<TestReport & { outputTail: string }>;
  /**
   * Finished runs shared by every checkout that uses the same Python environments (the local ledger of
   * driver/host/testRunLedger.ts). Without it, only this repository's own releases are reused.
   */
  readonly shared?: SharedTestRuns;
}

/** A finished run of the ML unit tests, as another checkout (or `mlops test`) recorded it. */
export interface SharedTestRun {
  /** the test step's reuse key (its digest and named inputs) */
  key: ReuseKey;
  outcome: "passed" | "failed";
  passed: number;
  failed: number;
  durationMs: number;
  /** ISO time the run ended (the machine's clock, as the release records' step times) */
  endedAt: string;
  /** what ran it: a release id, or "mlops test" */
  ranBy: string;
  /** the checkout (repository root) it ran in */
  checkout: string;
}

export interface SharedTestRuns {
  /** Where the runs are kept (for messages). */
  readonly where: string;
  /** The newest finished run with this key, if any. */
  newest(key: ReuseKey): Promise<SharedTestRun | undefined>;
  /** Records a finished run (kept if it is the newest with its key). */
  record(run: Omit<SharedTestRun, "checkout" | "endedAt">): Promise<void>;
}

export interface TrainingPort {
  /** A finished training of exactly this fingerprint, if one exists (reuse instead of training again). */
  findReusable(source: SourceFingerprint): Promise<TrainingResult | undefined>;
  /** Trains and evaluates (extract -> train -> eval); tags the run with the fingerprint. */
  train(source: SourceFingerprint, progress: Progress): Promise<TrainingResult>;
}

export interface RegistryPort {
  /** The model version currently crowned champion (serving PROD), with its metrics. */
  champion(modelName: string): Promise<RegisteredModel | undefined>;
  /** The version registered from this run, if any (makes registration idempotent). */
  findByRun(modelName: string, runId: string): Promise<RegisteredModel | undefined>;
  /** Registers the run's model with lineage tags. Fails if the artifact's sha256 is not `training.modelSha256`. */
  register(modelName: string, training: TrainingResult, tags: Record<string, string>): Promise<RegisteredModel>;
  getVersion(modelName: string, version: string): Promise<RegisteredModel | undefined>;
  /** Points the champion alias at this version. */
  crownChampion(model: RegisteredModel): Promise<void>;
  /** Records an approval on the model version itself (so it travels with the artifact). */
  recordApproval(approval: Approval): Promise<void>;
}

export interface StackStatus {
  stack: StackName;
  modelName?: string;
  modelVersion?: string;
  digest?: string;
  scoringUri?: string;
  healthy: boolean;
  detail: string;
}

export interface EnvironmentsPort {
  /** Makes `stack` serve `model`. Idempotent: a stack already serving that version and digest is left alone. */
  deploy(stack: StackName, model: RegisteredModel, progress: Progress): Promise<DeploymentRecord>;
  /** Smoke test: health, then a scoring request whose predictions are checked. */
  validate(stack: StackName, deployment: DeploymentRecord, progress: Progress): Promise<ValidationResult>;
  describe(stack: StackName): Promise<StackStatus>;
  /** Optional: puts `to` (what served the stack before) back as fast as the target can, e.g. a blue/green traffic
   * flip to the slot that still runs it. Without it, rolling back is a `deploy` of `to`. */
  rollBack?(stack: StackName, to: RegisteredModel, progress: Progress): Promise<DeploymentRecord>;
}

/** Load profile of a deployed stack: latency/throughput per concurrency level and a sizing recommendation.
 * Optional on a target; without it the release records the profile-int step as skipped. */
export interface ProfilingPort {
  /** Loads the stack's endpoint with the smoke payload at the levels of mlops.yaml `profile:`; bounded in time. */
  profile(stack: StackName, deployment: DeploymentRecord, progress: Progress): Promise<ProfileReport>;
}

/** What `mlops score-batch` asks a target to do: score a file (or folder) of feature rows with one verified model version. */
export interface BatchScoreRequest {
  model: RegisteredModel;
  /** the stack whose version this is (a target that scores in the cloud uses that stack's batch endpoint) */
  stack?: StackName;
  /** absolute path of a .csv/.parquet file or a folder of them */
  input: string;
  /** absolute path of the scored rows; the rejected rows go to `errors` (each written atomically) */
  output: string;
  errors: string;
}

export interface BatchScoreSummary {
  files: number;
  rows: number;
  scored: number;
  failed: number;
  seconds: number;
  rowsPerSecond: number;
  failureKinds: Record<string, number>;
}

export interface BatchProgressEvent {
  rows: number;
  scored: number;
  failed: number;
  /** bytes of input read so far, of `totalBytes` (for a percentage; rows are not known up front) */
  bytes: number;
  totalBytes: number;
  seconds: number;
}

/** Batch scoring with exactly the given model version. Optional on a target. */
export interface BatchScoringPort {
  /** Throws DataError for an unusable input (nothing written), NotFoundError/DeploymentError when the model cannot be had. */
  scoreBatch(req: BatchScoreRequest, onProgress: (e: BatchProgressEvent) => void, progress: Progress): Promise<BatchScoreSummary>;
}

export interface ApprovalsPort {
  /** Names allowed to approve a release into `stack` (from the stack's config, `mlops:approvers`). */
  approvers(stack: StackName): Promise<string[]>;
  /** Who is running this command, as the target can establish it (token claims on azure, the OS user locally). */
  identity(): Promise<ApproverIdentity>;
}

export interface ReleaseLock {
  release(): Promise<void>;
}

/** Durable storage of release records. Writes are atomic: a crash leaves the old or the new record, never half. */
export interface ReleaseStore {
  save(release: Release): Promise<void>;
  /** Throws NotFoundError naming the id and how to list releases. */
  load(id: string): Promise<Release>;
  list(): Promise<Release[]>;
  /** One mutating operation at a time; throws ReleaseLockedError naming the holder. */
  lock(purpose: string): Promise<ReleaseLock>;
}

/** Everything a target provides. */
export interface Target {
  name: string;
  source: SourcePort;
  tests: TestPort;
  training: TrainingPort;
  registry: RegistryPort;
  environments: EnvironmentsPort;
  approvals: ApprovalsPort;
  profiling?: ProfilingPort;
  batch?: BatchScoringPort;
  store: ReleaseStore;
  /** Optional: checks what a release needs on this machine (tools, ports) before its first step, so a missing tool
   * or a busy port fails at once with one line instead of minutes in; may start slow services in the background. */
  preflight?(progress: Progress): Promise<void>;
  /** Releases resources held by this process (not background services). */
  close(): Promise<void>;
}
