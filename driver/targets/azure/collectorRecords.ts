/**
 * What Azure ML's model data collector (MDC) writes into the workspace's default blob datastore, and how one of its
 * lines becomes a line of score.py's local sink, so the same ml/monitor.py reads both (no second reader of the data).
 *
 * Layout (MS Learn, "Collect production data from models deployed for real-time inferencing", section "Store
 * collected data in Blob Storage"): under `azureml://datastores/workspaceblobstore/paths/modelDataCollector`, then
 * `{endpoint_name}/{deployment_name}/{collection_name}/{yyyy}/{MM}/{dd}/{HH}/{instance_id}.jsonl` (hourly folders
 * with `rollingRate: Hour`, which components/dataCollection.ts sets). Each line is one JSON object:
 * `{"specversion", "id", "source", "type": "azureml.inference.<collection>", "datacontenttype", "time":
 * "2024-03-05T18:16:25Z", "data": [records], "correlationid", "xrequestid", "modelversion": "default",
 * "collectdatatype", "agent", "contentrange"}`; requests sent close together may be batched into one line (their
 * records concatenated in `data`).
 *
 * `modelversion` is "default" for every payload of azureml-ai-monitoring 1.0.0 (collector_json.py constructs its
 * base with init("default"); the sender puts that in `ce-model-version`), so the served version is not in the
 * record: it is the version the deployment (the path's `{deployment_name}`) serves, for records written after the
 * deployment was last modified (its ARM systemData.lastModifiedAt: a model change is an update of the deployment).
 */

/** The MDC's root folder in the default datastore. */
export const MDC_ROOT = "modelDataCollector";

/** The collections ml/score.py logs and components/dataCollection.ts enables (a contract test keeps them equal). */
export const MDC_COLLECTIONS = ["model_inputs", "model_outputs", "mlops_requests"] as const;

export interface CollectedBlobName {
  endpoint: string;
  deployment: string;
  collection: string;
  /** start of the blob's hour folder, epoch seconds (UTC) */
  hourStart: number;
}

const LAYOUT = new RegExp(`^${MDC_ROOT}/([^/]+)/([^/]+)/([^/]+)/(\\d{4})/(\\d{2})/(\\d{2})/(\\d{2})/[^/]+\\.jsonl$`);

/** The parts of a collected blob's name, or undefined for a name outside the layout. */
export function parseCollectedBlobName(name: string): CollectedBlobName | undefined {
  const m = LAYOUT.exec(name);
  if (!m) return undefined;
  const [, endpoint, deployment, collection, y, mo, d, h] = m as unknown as string[];
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h));
  if (!Number.isFinite(ms)) return undefined;
  return { endpoint: endpoint!, deployment: deployment!, collection: collection!, hourStart: ms / 1000 };
}

/** The version a record belongs to when the MDC recorded none (its "default"): what served it at its time. */
export interface Attribution {
  modelVersion: string;
  /** records before this time (epoch seconds) were served by whatever the deployment held before */
  since: number;
}

/** Marks records a deployment wrote before its last update, so ml/monitor.py counts them as another version's. */
export const BEFORE_UPDATE = "before-last-update";

/**
 * One MDC line as a line of score.py's local sink (`{"collection", "id", "correlationid", "time": <epoch s>,
 * "modelversion", "data"}`); a line that is not an MDC record of `collection` comes back unchanged, so ml/monitor.py
 * counts it as a bad line of that file, as it does locally.
 */
export function toSinkLine(raw: string, collection: string, who: Attribution): string {
  let rec: unknown;
  try {
    rec = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (!rec || typeof rec !== "object" || Array.isArray(rec)) return raw;
  const r = rec as Record<string, unknown>;
  const time = typeof r.time === "number" ? r.time : typeof r.time === "string" ? Date.parse(r.time) / 1000 : NaN;
  if (!Number.isFinite(time) || !Array.isArray(r.data)) return raw;
  if (r.type !== undefined && r.type !== `azureml.inference.${collection}`) return raw;
  const recorded = typeof r.modelversion === "string" && r.modelversion !== "default" ? r.modelversion : undefined;
  const modelversion = recorded ?? (time >= who.since ? who.modelVersion : BEFORE_UPDATE);
  return JSON.stringify({ collection, id: r.id ?? null, correlationid: r.correlationid ?? null, time, modelversion, data: r.data });
}
