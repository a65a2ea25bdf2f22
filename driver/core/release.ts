/**
 * The release record: everything a release did, persisted after every step so it can be resumed after a
 * crash and audited afterwards. Pure data; no behaviour.
 */
import type { ProfileReport } from "../profile/profileTypes.js";
import type { RolloutRecord } from "../rollout/rolloutTypes.js";

/** The steps of a release, in order. `release` runs the candidate phase up to the approval hold;
 * `promote` runs the production phase. */
export const CANDIDATE_STEPS = ["test", "train", "gate", "register", "deploy-int", "validate-int", "profile-int"] as const;
export const PRODUCTION_STEPS = ["deploy-prod", "validate-prod"] as const;
export const STEPS = [...CANDIDATE_STEPS, ...PRODUCTION_STEPS] as const;
export type StepName = (typeof STEPS)[number];

export type StepStatus = "pending" | "running" | "succeeded" | "failed" | "skipped";

export interface StepRecord {
  status: StepStatus;
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  /** One line on what the step did (or reused). */
  detail?: string;
  error?: { code: string; message: string };
}

/**
 * running            a step is executing (or the process died while it was: resume it)
 * failed             a step failed; `mlops resume <id>` retries from that step
 * rejected           the gate or the unit tests said no: final, start a new release after a change
 * awaiting-approval  validated in INT; needs `mlops approve`
 * approved           approval recorded; `mlops promote` deploys PROD
 * released           serving in PROD and crowned champion
 */
export type ReleaseState = "running" | "failed" | "rejected" | "awaiting-approval" | "approved" | "released";

export type StackName = "int" | "prod";
export const STACKS: readonly StackName[] = ["int", "prod"];

export interface SourceFingerprint {
  gitCommit: string;
  /** true when the working tree had uncommitted changes under the fingerprinted paths */
  gitDirty: boolean;
  codeDigest: string;
  dataDigest: string;
  envDigest: string;
  /** sha256 of what serves the model besides the model file (ml/score.py); with envDigest it pins what INT validated. */
  servingDigest?: string;
  /** sha256 of what the ML unit tests read besides code, data and environment (ml/tests/**, ml/pytest.ini, ml/smoke.json...);
   * absent in records written before the test step could be reused. */
  testsDigest?: string;
}

export interface TestReport {
  passed: number;
  failed: number;
  durationMs: number;
  /** Set when the step reused the passing run of this (earlier) release, or of "mlops test", instead of running the tests. */
  reusedFrom?: string;
  /** Set when that run was in another checkout (recorded in the machine's shared ledger of test runs): its root. */
  reusedFromCheckout?: string;
}

/** What a step's reuse is keyed by: the digest of its named inputs (each a digest or a command line). */
export interface ReuseKey {
  digest: string;
  inputs: Record<string, string>;
}

export type Metrics = Record<string, number>;

export interface TrainingResult {
  runId: string;
  metrics: Metrics;
  /** sha256 of the serialized model file, the identity of the artifact from here to PROD */
  modelSha256: string;
  /** Where the model artifact lives (e.g. runs:/<id>/model or an azureml:// job output). */
  artifactUri: string;
  /** Set when an earlier identical training was reused instead of training again. */
  reused: boolean;
  /** Where the portal/UI shows the run, if anywhere. */
  runUrl?: string;
}

export interface MetricCheck {
  metric: string;
  kind: "present" | "threshold" | "absolute-change" | "relative-change";
  passed: boolean;
  /** e.g. "rmse 53.9 <= 65" */
  detail: string;
}

export type GateOutcome = "passed" | "rejected" | "passed-dry-run" | "disabled";

export interface GateResult {
  mode: "disabled" | "dry_run" | "enabled";
  outcome: GateOutcome;
  checks: MetricCheck[];
  champion?: { version: string; runId: string; metrics: Metrics };
  summary: string;
}

export interface RegisteredModel {
  name: string;
  version: string;
  /** sha256 of the model file, equal to TrainingResult.modelSha256 */
  digest: string;
  runId: string;
  metrics: Metrics;
  tags: Record<string, string>;
}

export interface DeploymentRecord {
  stack: StackName;
  modelName: string;
  modelVersion: string;
  digest: string;
  scoringUri: string;
  deployedAt: string;
  /** What served before this deployment, for rollback. */
  previous?: { modelVersion: string; digest: string };
  /** One line on what changed (e.g. "no change: already serving version 3"). */
  detail: string;
  /** The staged traffic shift that took this version live, where the target does one (blue/green). */
  rollout?: RolloutRecord;
}

export interface ValidationResult {
  stack: StackName;
  modelVersion: string;
  digest: string;
  healthy: boolean;
  predictions: number;
  latencyMs: number;
  validatedAt: string;
  detail: string;
}

/**
 * Who approved, as far as the tool could establish it. `authenticated` identities come from a token (the azure
 * target's Entra ID credential) or from a CI system's record of who approved its environment check; `names` are
 * the names mlops:approvers may list them under. A local approval is unauthenticated: the record carries the OS user.
 */
export type ApproverIdentity =
  | { authenticated: true; source: "entra-id" | "azure-devops" | "github"; names: string[]; objectId?: string; tenantId?: string }
  | { authenticated: false; source: "local"; osUser: string; host: string };

export interface Approval {
  stack: StackName;
  by: string;
  /** absent on records written before identities were recorded */
  identity?: ApproverIdentity;
  at: string;
  modelName: string;
  modelVersion: string;
  digest: string;
  comment?: string;
}

/** Why a release was started when not by hand: `mlops monitor --retrain` found drift. */
export interface ReleaseTrigger {
  kind: "monitor";
  at: string;
  stack: StackName;
  /** the version the drift was measured on */
  modelVersion: string;
  /** what drifted and by how much, one line each */
  reasons: string[];
  /** the monitor report (Markdown) */
  report?: string;
}

export interface ReleaseEvent {
  at: string;
  event: string;
  detail?: string;
}

export interface Release {
  schema: 1;
  id: string;
  target: string;
  modelName: string;
  createdAt: string;
  updatedAt: string;
  state: ReleaseState;
  steps: Record<StepName, StepRecord>;
  source?: SourceFingerprint;
  tests?: TestReport;
  /** The test step's reuse key, recorded before the tests run (so a failed run with it is known too). */
  testsKey?: ReuseKey;
  /** `mlops release --no-reuse`: every step of this release runs (tests, training, INT profile), also on resume. */
  noReuse?: true;
  training?: TrainingResult;
  gate?: GateResult;
  model?: RegisteredModel;
  deployments: Partial<Record<StackName, DeploymentRecord>>;
  validations: Partial<Record<StackName, ValidationResult>>;
  approval?: Approval;
  /** Load profile of INT and the sizing recommended for PROD (the profile-int step). */
  profile?: ProfileReport;
  /** The mlops.yaml profile settings the profile was measured with (JSON), so a rerun can tell whether it may reuse it. */
  profileSettings?: string;
  /** Staged rollouts that failed a check and were rolled back, oldest first (a completed one is on the deployment). */
  failedRollouts?: Array<RolloutRecord & { stack: StackName; at: string }>;
  /** Set when the release was started by `mlops monitor --retrain` (absent: started by hand). */
  trigger?: ReleaseTrigger;
  /** Append-only audit trail. */
  events: ReleaseEvent[];
}

/** Fills steps added after a record was written: skipped when the release had moved past them, else pending. */
export function withAllSteps(release: Release): Release {
  const settled = release.state !== "running" && release.state !== "failed";
  for (const s of STEPS) {
    release.steps[s] ??= settled ? { status: "skipped", attempts: 0, detail: "not a step when this release ran" } : { status: "pending", attempts: 0 };
  }
  return release;
}

export function newRelease(id: string, target: string, modelName: string, now: string): Release {
  const steps = Object.fromEntries(STEPS.map((s) => [s, { status: "pending", attempts: 0 } satisfies StepRecord])) as Record<StepName, StepRecord>;
  return {
    schema: 1,
    id,
    target,
    modelName,
    createdAt: now,
    updatedAt: now,
    state: "running",
    steps,
    deployments: {},
    validations: {},
    events: [{ at: now, event: "created" }],
  };
}
