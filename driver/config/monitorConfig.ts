/**
 * The `monitor:` section of mlops.yaml: what score.py collects (`collection:`), and how `mlops monitor` judges
 * drift (thresholds, the minimum sample, the window). Part of the release config (see releaseConfig.ts); every key
 * has a default, so the section may be left out. See docs/monitoring.md.
 */
import { z } from "zod";
import { durationSeconds } from "../monitor/duration.js";

const fraction = z
  .number({ error: "must be a number from 0 to 1 (0.05 = 5%)" })
  .min(0, { error: "must be a number from 0 to 1 (0.05 = 5%)" })
  .max(1, { error: "must be a number from 0 to 1 (0.05 = 5%)" });
const positive = z.number({ error: "must be a number > 0" }).finite({ error: "must be a number > 0" }).gt(0, { error: "must be a number > 0" });
const duration = z
  .string({ error: "must be a duration such as 30m, 24h or 7d" })
  .refine((s) => durationSeconds(s) !== undefined, { error: "must be a duration such as 30m, 24h or 7d" });

export const collectionSchema = z
  .strictObject({
    /** score.py records inputs, predictions and request outcomes (locally under .mlops/collected/; on Azure the deployment's data collector) */
    enabled: z.boolean({ error: "must be true or false" }).default(true),
    /** share of requests recorded, in percent (the SDK samples each collection with this rate) */
    samplingPercent: z
      .number({ error: "must be a whole percentage from 0 to 100" })
      .int({ error: "must be a whole percentage from 0 to 100" })
      .min(0, { error: "must be a whole percentage from 0 to 100" })
      .max(100, { error: "must be a whole percentage from 0 to 100" })
      .default(100),
    /** a collected file is closed and a new one started past this size (local) */
    maxFileMB: z
      .number({ error: "must be from 1 to 1024 (MB)" })
      .min(1, { error: "must be from 1 to 1024 (MB)" })
      .max(1024, { error: "must be from 1 to 1024 (MB)" })
      .default(8),
    /** collected files older than this are deleted (local; on Azure the storage account's lifecycle rules decide) */
    retentionDays: z
      .number({ error: "must be from 1 to 3650 (days)" })
      .int({ error: "must be whole days" })
      .min(1, { error: "must be from 1 to 3650 (days)" })
      .max(3650, { error: "must be from 1 to 3650 (days)" })
      .default(30),
  })
  .prefault({});

export const monitorSchema = z
  .strictObject({
    /** disabled: report only, never drift | dry_run: report what would be drift, exit 0, never retrain | enabled */
    mode: z.enum(["disabled", "dry_run", "enabled"], { error: "must be disabled, dry_run or enabled" }).default("enabled"),
    /** how far back `mlops monitor` looks when --since is not given */
    window: duration.default("7d"),
    /** fewer collected rows than this: "not enough data", never a verdict */
    minSamples: z
      .number({ error: "must be an integer >= 30" })
      .int({ error: "must be an integer >= 30" })
      .min(30, { error: "must be an integer >= 30" })
      .default(200),
    /** time slices of the window in the drift-over-time chart */
    windows: z
      .number({ error: "must be an integer from 1 to 24" })
      .int({ error: "must be an integer from 1 to 24" })
      .min(1, { error: "must be an integer from 1 to 24" })
      .max(24, { error: "must be an integer from 1 to 24" })
      .default(6),
    thresholds: z
      .strictObject({
        /** a feature drifts when its PSI is at least this AND its KS p-value is below ksPValue */
        psi: positive.default(0.2),
        ksPValue: fraction.default(0.01),
        /** the same for the predictions */
        predictionPsi: positive.default(0.2),
        /** share of rows with a value outside the training range that counts as drift */
        outOfRangeRate: fraction.default(0.05),
        /** alerts (reported, not drift: retraining does not fix them) */
        errorRate: fraction.default(0.05),
        p99LatencyMs: positive.default(500),
      })
      .prefault({}),
    collection: collectionSchema,
  })
  .prefault({});

export type MonitorConfig = z.infer<typeof monitorSchema>;
export type CollectionConfig = z.infer<typeof collectionSchema>;
