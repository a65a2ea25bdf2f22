/**
 * The `scoring:` section of mlops.yaml: limits every scoring front door of the local target enforces before a
 * request reaches the model (PROD's router, and ml/score.py through MLOPS_MAX_REQUEST_BYTES for INT and the
 * slots). A body over the limit is answered 413; every key has a default, so the section may be left out.
 */
import { z } from "zod";

/** 1 MiB: the largest valid request (1000 rows of 10 numbers) is about 260 KB of JSON. */
export const DEFAULT_MAX_REQUEST_BYTES = 1_048_576;

export const scoringSchema = z
  .strictObject({
    /** largest request body accepted on a scoring path, in bytes */
    maxRequestBytes: z
      .number({ error: "must be a whole number of bytes, e.g. 1048576 (1 MiB)" })
      .int({ error: "must be a whole number of bytes, e.g. 1048576 (1 MiB)" })
      .min(1024, { error: "must be >= 1024 bytes (one request of 1 row needs about 300)" })
      .max(104_857_600, { error: "must be <= 104857600 bytes (100 MiB)" })
      .default(DEFAULT_MAX_REQUEST_BYTES),
  })
  .prefault({});

export type ScoringConfig = z.infer<typeof scoringSchema>;
