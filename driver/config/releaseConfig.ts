/**
 * mlops.yaml: the release policy shared by every environment (model name, the metric gate, the smoke test).
 * Per-environment settings live in the Pulumi stack files instead. Validated once, here, into a typed object.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { ConfigError } from "../core/errors.js";
import { profileSchema, rolloutSchema } from "./profileRolloutConfig.js";
import { scoringSchema } from "./scoringConfig.js";
import { monitorSchema } from "./monitorConfig.js";

const metricRule = z
  .object({
    greater_is_better: z.boolean(),
    /** hard floor (higher-is-better) or ceiling (lower-is-better) */
    threshold: z.number().finite().optional(),
    /** candidate must beat the champion by at least this much, in the metric's units */
    min_absolute_change: z.number().finite().min(0).optional(),
    /** candidate must beat the champion by at least this fraction of |champion's value|; 0 to 1, as MLflow's MetricThreshold */
    min_relative_change: z.number().finite().min(0).max(1).optional(),
  })
  .strict();

const schema = z
  .object({
    model: z
      .object({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/, "letters, digits, '.', '_' or '-'"),
        experiment: z.string().min(1).default("diabetes"),
      })
      .strict(),
    gate: z
      .object({
        mode: z.enum(["disabled", "dry_run", "enabled"]).default("enabled"),
        metrics: z.record(z.string().regex(/^[a-z0-9_]+$/), metricRule).refine((m) => Object.keys(m).length > 0, "at least one metric rule"),
      })
      .strict(),
    smoke: z
      .object({
        /** JSON file with {"payload": {...}, "prediction_range": [lo, hi]} */
        request: z.string().min(1).default("ml/smoke.json"),
      })
      .strict()
      .default({ request: "ml/smoke.json" }),
    local: z
      .object({
        host: z.literal("127.0.0.1").default("127.0.0.1"),
        ports: z
          .object({
            mlflow: z.number().int().min(1024).max(65535).default(5500),
            int: z.number().int().min(1024).max(65535).default(5601),
            prod: z.number().int().min(1024).max(65535).default(5602),
            /** PROD's two inference servers behind the weighted router listening on `prod` */
            prodBlue: z.number().int().min(1024).max(65535).default(5611),
            prodGreen: z.number().int().min(1024).max(65535).default(5612),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    profile: profileSchema,
    rollout: rolloutSchema,
    scoring: scoringSchema,
    monitor: monitorSchema,
  })
  .strict();

export type MetricRule = z.infer<typeof metricRule>;
export type GateConfig = z.infer<typeof schema>["gate"];
export type ReleaseConfig = z.infer<typeof schema>;

export const RELEASE_CONFIG_FILE = "mlops.yaml";

/** Parses an already-loaded object; `where` names the file in errors. */
export function parseReleaseConfig(raw: unknown, where = RELEASE_CONFIG_FILE): ReleaseConfig {
  const result = schema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "(top level)"}: ${issue.message}`);
    throw new ConfigError(`${where}: ${problems.join("; ")}; fix the value${problems.length > 1 ? "s" : ""} and run again`);
  }
  const ports = result.data.local.ports;
  if (new Set([ports.mlflow, ports.int, ports.prod]).size !== 3) {
    throw new ConfigError(`${where}: local.ports: mlflow, int and prod need three different ports`);
  }
  if (new Set([ports.mlflow, ports.int, ports.prod, ports.prodBlue, ports.prodGreen]).size !== 5) {
    throw new ConfigError(`${where}: local.ports: prodBlue and prodGreen need ports of their own (not mlflow, int, prod or each other)`);
  }
  return result.data;
}

export async function readReleaseConfig(repoRoot: string): Promise<ReleaseConfig> {
  const file = path.join(repoRoot, RELEASE_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new ConfigError(`${RELEASE_CONFIG_FILE} not found in ${repoRoot}; run mlops from the repository root`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new ConfigError(`${RELEASE_CONFIG_FILE} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  return parseReleaseConfig(raw);
}
