/**
 * The `profile:` and `rollout:` sections of mlops.yaml: how an endpoint is load-profiled and sized, and how a
 * new PROD deployment takes traffic in steps. Part of the release config (see releaseConfig.ts); every key
 * has a default, so both sections may be left out.
 */
import { z } from "zod";

const positive = (what = "must be > 0") =>
  z
    .number({ error: `${what}` })
    .finite({ error: what })
    .gt(0, { error: what });
/** A number from min to max; one message for a wrong type and for either bound. */
const within = (min: number, max: number, message: string) => z.number({ error: message }).min(min, { error: message }).max(max, { error: message });
/** A number from min to max, each bound saying itself ("must be >= 1", "must be <= 10"; a wrong type gets the lower bound's). */
const bounded = (min: number, max: number) =>
  z
    .number({ error: `must be >= ${min}` })
    .min(min, { error: `must be >= ${min}` })
    .max(max, { error: `must be <= ${max}` });
const fraction = within(0, 1, "must be a number from 0 to 1 (0.01 = 1%)");

const increasing = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

export const profileSchema = z
  .strictObject({
    /** run the profile-int step during a release (after validate-int, before the approval hold) */
    enabled: z.boolean({ error: "must be true or false" }).default(true),
    /** concurrent connections per level, strictly increasing */
    concurrency: z
      .array(z.number().int({ error: "must be whole numbers" }).min(1, { error: "must be >= 1" }).max(256, { error: "must be <= 256" }), {
        error: "must be a list of concurrency levels such as [1, 2, 4, 8]",
      })
      .min(1, { error: "must list at least one concurrency level" })
      .max(12, { error: "must list at most 12 levels (each takes secondsPerLevel)" })
      .refine(increasing, { error: "must be strictly increasing, such as [1, 2, 4, 8]" })
      .default([1, 2, 4, 8]),
    secondsPerLevel: positive().max(120, { error: "must be <= 120" }).default(5),
    warmupSeconds: bounded(0, 30).default(1),
    slo: z
      .strictObject({
        p95Ms: positive().default(200),
        p99Ms: positive().default(500),
        maxErrorRate: fraction.default(0.01),
      })
      .prefault({})
      .refine((s) => s.p99Ms >= s.p95Ms, { error: "must be >= p95Ms", path: ["p99Ms"] }),
    /** requests per second PROD must sustain within the SLO */
    targetRps: positive("must be > 0 (requests per second)").default(20),
    /** share of one instance's measured capacity to plan with: 0.7 keeps 30% spare */
    headroom: z.number({ error: "must be > 0 and <= 1" }).gt(0, { error: "must be > 0 and <= 1" }).max(1, { error: "must be > 0 and <= 1" }).default(0.7),
    minInstances: z
      .number()
      .int({ error: "must be an integer >= 1" })
      .min(1, { error: "must be an integer >= 1" })
      .max(100, { error: "must be <= 100" })
      .default(2),
    /** peak memory × this = memory request */
    memoryMargin: bounded(1, 10).default(1.5),
    /** request × this = limit */
    limitFactor: bounded(1, 10).default(2),
  })
  .prefault({});

/**
 * `rollout.shadow`: before the first canary step, a share of PROD's requests is copied to the new deployment
 * (which takes no user traffic) and its answers compared with the live ones on the same requests. Off unless
 * `enabled: true` (see docs/profiling-and-rollout.md for why).
 */
export const shadowSchema = z
  .strictObject({
    enabled: z.boolean({ error: "must be true or false" }).default(false),
    /** share of live requests copied to the new deployment */
    percent: within(1, 100, "must be a whole percentage from 1 to 100").int({ error: "must be a whole percentage from 1 to 100" }).default(50),
    /** how long requests are mirrored */
    seconds: positive().max(600, { error: "must be <= 600" }).default(5),
    /** fewer compared pairs than this: inconclusive, the rollout stops */
    minRequests: z.number().int({ error: "must be an integer >= 1" }).min(1, { error: "must be an integer >= 1" }).default(20),
    tolerance: z
      .strictObject({
        /** share of mirrored requests the new deployment answers 5xx or not at all */
        maxErrorRate: fraction.default(0.01),
        /** share of compared requests whose answers differ (status, or a prediction beyond absolute + relative × |live|) */
        maxDisagreement: fraction.default(0.05),
        /** two predictions agree when |shadow - live| <= absolute + relative × |live| (numpy.isclose's rule) */
        absolute: z.number({ error: "must be >= 0" }).min(0, { error: "must be >= 0" }).default(0),
        relative: within(0, 1, "must be from 0 to 1").default(0.1),
        /** the new deployment's p99 latency over the live one's that stops the rollout (absent: latency is recorded, not judged) */
        maxP99Ratio: z.number({ error: "must be >= 1" }).min(1, { error: "must be >= 1" }).optional(),
      })
      .prefault({}),
  })
  .prefault({});

export const rolloutSchema = z
  .strictObject({
    /** percentages of traffic the new deployment gets, strictly increasing, ending at 100 */
    steps: z
      .array(z.number().int({ error: "must be whole percentages" }).min(1, { error: "must be from 1 to 100" }).max(100, { error: "must be from 1 to 100" }), {
        error: "must be a list of percentages such as [10, 50, 100]",
      })
      .min(1, { error: "must list at least one step" })
      .max(10, { error: "must list at most 10 steps" })
      .refine(increasing, { error: "must be strictly increasing, such as [10, 50, 100]" })
      .refine((s) => s[s.length - 1] === 100, { error: "must end at 100" })
      .default([10, 50, 100]),
    /** seconds of observation at each step before the next */
    observeSeconds: positive().max(600, { error: "must be <= 600" }).default(5),
    /** the new deployment's error rate that fails a step (and rolls back) */
    maxErrorRate: fraction.default(0.01),
    /** fewer requests than this to the new deployment during a step: the step is inconclusive and fails */
    minRequests: z.number().int({ error: "must be an integer >= 0" }).min(0, { error: "must be an integer >= 0" }).default(5),
    /** synthetic scoring requests per second the driver sends through the router while it observes a step (0: none) */
    probeRps: within(0, 200, "must be from 0 to 200").default(20),
    shadow: shadowSchema,
  })
  .prefault({});

export type ProfileConfig = z.infer<typeof profileSchema>;
export type RolloutConfig = z.infer<typeof rolloutSchema>;
export type ShadowConfig = z.infer<typeof shadowSchema>;
