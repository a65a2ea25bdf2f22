/** Shadow traffic before the canary: what was mirrored and how the new deployment compared. Pure data. */
import type { ShadowPair } from "../router/routerTypes.js";

export type { ShadowAnswer, ShadowPair } from "../router/routerTypes.js";

/** Pairs read from a recorder, with what it could not record. */
export interface ShadowPairs {
  pairs: ShadowPair[];
  /** requests chosen for mirroring but not sent: too many mirrored requests in flight */
  dropped: number;
}

/** The verdict of a shadow phase, recorded on the rollout (never a prediction value: only counts and latencies). */
export interface ShadowRecord {
  /** the new deployment (receives the copies) and the live one */
  to: string;
  from: string;
  percent: number;
  seconds: number;
  startedAt: string;
  endedAt: string;
  /** pairs recorded (a mirrored request with its live one) */
  mirrored: number;
  dropped: number;
  /** 5xx or no answer from the new deployment */
  errors: number;
  errorRate: number;
  /** pairs whose answers can be compared (the live one answered 2xx or 4xx) */
  compared: number;
  /** compared pairs whose status class or predictions differ beyond the tolerance */
  disagreements: number;
  disagreementRate: number;
  /** largest |shadow - live| over predictions compared, when any */
  maxAbsDiff?: number;
  liveP99Ms?: number;
  shadowP99Ms?: number;
  p99Ratio?: number;
  passed: boolean;
  /** one line */
  detail: string;
}
