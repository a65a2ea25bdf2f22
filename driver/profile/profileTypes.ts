/**
 * The data a profile produces: measurements per concurrency level, the SLO they were judged against and the
 * sizing recommendation derived from them. Pure data (persisted on the release record, rendered in the report);
 * no behaviour, no runtime imports.
 */

/** What "good enough" means for an endpoint under load. */
export interface Slo {
  /** 95th percentile latency ceiling, milliseconds (> 0). */
  p95Ms: number;
  /** 99th percentile latency ceiling, milliseconds (> 0). */
  p99Ms: number;
  /** Highest tolerated share of failed requests (non-2xx, connection errors, timeouts), 0..1. */
  maxErrorRate: number;
}

/** What to size for. */
export interface CapacityTarget {
  /** Requests per second the whole deployment must sustain within the SLO (> 0). */
  targetRps: number;
  /** Fraction of an instance's measured sustainable rate we plan to use, 0 < headroom <= 1 (0.7 = keep 30% spare). */
  headroom: number;
}

/** CPU and memory of the serving process tree while a level ran (local target only). */
export interface ResourceUsage {
  /** Mean CPU over the level, in cores (1.0 = one core fully busy), summed over the process tree. */
  cpuCores: number;
  /** Highest CPU sample over the level, in cores. */
  cpuCoresPeak: number;
  /** Highest resident set size seen, bytes, summed over the process tree. */
  peakRssBytes: number;
  /** Number of samples taken. */
  samples: number;
}

export interface LevelResult {
  /** Concurrent connections, each with one request in flight. */
  concurrency: number;
  durationS: number;
  /** Responses received (any status). */
  requests: number;
  /** Successful (2xx) responses per second. */
  throughputRps: number;
  /** Latency percentiles over every response, milliseconds (exact, from per-request timings). */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** non-2xx responses */
  non2xx: number;
  /** connection errors and timeouts (no response) */
  errors: number;
  /** (non2xx + errors) / (requests + errors) */
  errorRate: number;
  /** Whether this level met the SLO, and if not, why (one line). */
  withinSlo: boolean;
  verdict: string;
  resources?: ResourceUsage;
}

export interface ProfileRun {
  /** Endpoint that was loaded (loopback for the local target). */
  url: string;
  startedAt: string;
  endedAt: string;
  slo: Slo;
  levels: LevelResult[];
  /** Why the run stopped: all levels done, or the level that broke the SLO. */
  stoppedBecause: string;
}

/** Kubernetes quantities as they appear in `mlops:serving.instanceType`. */
export interface ResourceQuantities {
  cpu: string;
  memory: string;
}

export interface SizingRecommendation {
  /** false when not even the lowest level met the SLO: there is nothing safe to recommend. */
  feasible: boolean;
  /** Highest measured 2xx rate of one instance within the SLO, req/s. */
  sustainableRps: number;
  /** Concurrency of the level that rate was measured at. */
  atConcurrency: number;
  instances: number;
  requests: ResourceQuantities;
  limits: ResourceQuantities;
  /** The numbers that went in, so the recommendation can be checked by hand. */
  inputs: {
    targetRps: number;
    headroom: number;
    cpuCoresAtLevel?: number;
    peakRssBytes?: number;
    memoryMargin: number;
    limitFactor: number;
  };
  /** One line per decision, in order. */
  reasoning: string[];
}

/** What `mlops profile` and the `profile-int` step record on the release. */
export interface ProfileReport {
  stack: string;
  modelVersion?: string;
  run: ProfileRun;
  target: CapacityTarget;
  recommendation: SizingRecommendation;
}
