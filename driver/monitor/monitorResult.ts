/** What ml/monitor.py writes (one JSON document), checked at the edge so a changed script fails in one line. */
import { z } from "zod";

const num = z.number();
const nullableNum = z.number().nullable();
const histogram = z.object({ edges: z.array(num), reference: z.array(num), current: z.array(num) });
const summary = z.object({ mean: num, std: num, min: num, max: num });

export const comparisonSchema = z.object({
  name: z.string(),
  psi: num,
  ks: z.object({ statistic: num, pvalue: num }),
  drifted: z.boolean(),
  reference: summary,
  current: summary,
  outOfRange: num,
  histogram,
});

export const monitorResultSchema = z.object({
  verdict: z.enum(["no-drift", "drift", "insufficient-data"]),
  modelVersion: z.string(),
  reasons: z.array(z.string()),
  alerts: z.array(z.string()),
  counts: z.object({
    requests: num,
    rows: num,
    predictions: num,
    referenceRows: num,
    files: num,
    badLines: num,
    otherVersions: num,
    beforeWindow: num,
    skipped: z.array(z.object({ file: z.string(), badLines: nullableNum, error: z.string().optional() })),
  }),
  window: z.object({ from: nullableNum, to: nullableNum }),
  volume: z.object({ requests: num, rows: num, perHour: nullableNum }),
  errors: z.object({ served: num, rejected: num, rate: nullableNum }),
  latencyMs: z.object({ p50: num, p95: num, p99: num }).nullable(),
  quality: z.object({ missing: num, wrongType: num, otherRejected: num, outOfRangeRows: num, outOfRangeRate: nullableNum }),
  features: z.array(comparisonSchema),
  prediction: comparisonSchema.nullable(),
  windows: z.array(z.object({ from: num, to: num, rows: num, psi: z.record(z.string(), num) })),
});

export type MonitorResult = z.infer<typeof monitorResultSchema>;
export type Comparison = z.infer<typeof comparisonSchema>;
