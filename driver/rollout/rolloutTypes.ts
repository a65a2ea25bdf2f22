/** What a staged rollout did, step by step. Pure data, persisted on the PROD deployment record. */
import type { ShadowRecord } from "./shadowTypes.js";

export interface RolloutSettings {
  /** traffic percentages for the new deployment, increasing, ending at 100 */
  steps: readonly number[];
  observeSeconds: number;
  /** the new deployment's error rate (5xx and no response) that fails a step */
  maxErrorRate: number;
  /** fewer requests than this reaching the new deployment during a step: inconclusive, the step fails */
  minRequests: number;
}

export interface RolloutStepRecord {
  /** the new deployment's share of traffic during this step (0 for the pre-check) */
  percent: number;
  startedAt: string;
  endedAt: string;
  healthy: boolean;
  requests: number;
  errors: number;
  errorRate: number;
  passed: boolean;
  /** one line: what was seen */
  detail: string;
}

export interface RolloutRecord {
  /** deployment slots, e.g. blue -> green */
  from: string;
  to: string;
  fromVersion?: string;
  toVersion: string;
  outcome: "completed" | "rolled-back";
  steps: RolloutStepRecord[];
  /** the shadow phase before the first step, when rollout.shadow is enabled */
  shadow?: ShadowRecord;
  /** one line: completed at 100%, or which step failed and what traffic went back to */
  detail: string;
}
