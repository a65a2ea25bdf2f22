/**
 * Data collection of the online deployments (Azure ML's data collector, "MDC"): the collections ml/score.py logs
 * through azureml-ai-monitoring's Collector, each enabled with the sampling rate of mlops.yaml
 * monitor.collection. Azure ML hands the deployment's collections to the SDK (AZUREML_MDC_CONFIG_PATH) and stores
 * what it collects in the workspace's blob storage, in hourly folders (rollingRate). Shape: the REST spec's
 * DataCollector / Collection (azure-native machinelearningservices.DataCollectorArgs, API 2025-12-01); see
 * docs/monitoring.md and docs/azure-target.md for the sources.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { monitorSchema } from "../driver/config/monitorConfig.js";

/** What ml/score.py logs (score.COLLECTIONS): the rows, the predictions, one outcome record per request. */
export const COLLECTIONS = ["model_inputs", "model_outputs", "mlops_requests"] as const;

export interface DataCollectionArgs {
  /** share of requests collected, 0 < rate <= 1 (REST `samplingRate`; 1.0 = 100%) */
  samplingRate: number;
}

/** The REST enum value DataCollectionMode.Enabled (azure-native's machinelearningservices.DataCollectionMode). */
export const COLLECTION_ENABLED = "Enabled";

export interface DataCollectorBody {
  collections: Record<string, { dataCollectionMode: typeof COLLECTION_ENABLED; samplingRate: number }>;
  rollingRate: "Hour";
}

/** The deployment's `dataCollector` property; undefined (no collector: the SDK stays disabled) when collection is off. */
export function dataCollectorOf(c: DataCollectionArgs | undefined): DataCollectorBody | undefined {
  if (!c || !(c.samplingRate > 0)) return undefined;
  return {
    collections: Object.fromEntries(COLLECTIONS.map((name) => [name, { dataCollectionMode: COLLECTION_ENABLED, samplingRate: c.samplingRate }])),
    rollingRate: "Hour",
  };
}

/** mlops.yaml monitor.collection as the deployments need it: undefined when disabled or sampling 0%. */
export function dataCollectionFromMlopsYaml(repoRoot: string): DataCollectionArgs | undefined {
  const file = join(repoRoot, "mlops.yaml");
  const raw = (parse(readFileSync(file, "utf8")) ?? {}) as { monitor?: unknown };
  const parsed = monitorSchema.safeParse(raw.monitor);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`mlops.yaml: monitor.${issue.path.join(".")}: ${issue.message}; fix the value and run again`);
  }
  const c = parsed.data.collection;
  return c.enabled && c.samplingPercent > 0 ? { samplingRate: c.samplingPercent / 100 } : undefined;
}
