/**
 * One typed error per failure kind. The CLI edge maps each to a one-line message and an exit code;
 * nothing else in the driver decides exit codes. Messages say what is wrong and what to do, and never
 * carry secrets.
 */
import type { RolloutRecord } from "../rollout/rolloutTypes.js";

export const EXIT = {
  failure: 1,
  badInput: 2,
  gateRejected: 3,
  testsFailed: 4,
  approval: 5,
  locked: 6,
  notFound: 7,
  environment: 8,
  /** `mlops monitor`: drift found (a verdict, not a failure) */
  drift: 9,
  /** `mlops monitor`: too little collected data to judge, or nothing served */
  notEnoughData: 10,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class MlopsError extends Error {
  /** The release this error ended (set by the release core), so `--json` can still print its record. */
  releaseId?: string;
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Marks an error as ending release `id` (the first release named wins) and passes it on. */
export function endedRelease(id: string, e: unknown): unknown {
  if (e instanceof MlopsError && e.releaseId === undefined) e.releaseId = id;
  return e;
}

/** Wrong CLI usage or a malformed argument. */
export class UsageError extends MlopsError {
  constructor(message: string) {
    super(message, "usage", EXIT.badInput);
  }
}

/** A config file (mlops.yaml, Pulumi.<stack>.yaml) is missing a key or holds a bad value. */
export class ConfigError extends MlopsError {
  constructor(message: string) {
    super(message, "config", EXIT.badInput);
  }
}

/** The training data failed validation (ml/data.txt). */
export class DataError extends MlopsError {
  constructor(message: string) {
    super(message, "data", EXIT.badInput);
  }
}

/** The ML unit tests failed: nothing was trained. */
export class UnitTestsFailedError extends MlopsError {
  constructor(message: string) {
    super(message, "tests-failed", EXIT.testsFailed);
  }
}

/** The metric gate rejected the candidate: a recorded outcome, not a crash. */
export class GateRejectedError extends MlopsError {
  constructor(message: string) {
    super(message, "gate-rejected", EXIT.gateRejected);
  }
}

/** Approval missing, by someone not listed, or bound to another model version/digest. */
export class ApprovalError extends MlopsError {
  constructor(message: string) {
    super(message, "approval", EXIT.approval);
  }
}

/** Another release operation holds the lock. */
export class ReleaseLockedError extends MlopsError {
  constructor(message: string) {
    super(message, "locked", EXIT.locked);
  }
}

/** An unknown release id, model version or stack. */
export class NotFoundError extends MlopsError {
  constructor(message: string) {
    super(message, "not-found", EXIT.notFound);
  }
}

/** A release cannot take this action in its current state (e.g. promote a failed release). */
export class InvalidStateError extends MlopsError {
  constructor(message: string) {
    super(message, "invalid-state", EXIT.badInput);
  }
}

/** The machine or cloud environment is not ready: missing tool, port in use, no credentials. */
export class EnvironmentError extends MlopsError {
  constructor(message: string) {
    super(message, "environment", EXIT.environment);
  }
}

/** `mlops monitor` cannot judge: the stack serves nothing, or fewer rows were collected than monitor.minSamples. */
export class NotEnoughDataError extends MlopsError {
  constructor(message: string) {
    super(message, "not-enough-data", EXIT.notEnoughData);
  }
}

/** Training (the pipeline run or cloud job) failed or was cancelled. */
export class TrainingError extends MlopsError {
  constructor(message: string) {
    super(message, "training", EXIT.failure);
  }
}

/** A deployment did not become healthy, or its validation (smoke test) failed. */
export class DeploymentError extends MlopsError {
  constructor(message: string) {
    super(message, "deployment", EXIT.failure);
  }
}

/** A staged rollout failed a check and put the traffic back; carries the record of every step for the release. */
export class RolloutRolledBackError extends DeploymentError {
  constructor(
    message: string,
    readonly rollout: RolloutRecord,
  ) {
    super(message);
  }
}
