/** The MLflow REST entities the driver reads, as the tracking server returns them (snake_case JSON). */

export interface MlflowTag {
  key: string;
  value: string;
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
  tags?: MlflowTag[];
}

export type MlflowRunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";

export interface MlflowRunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status: MlflowRunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage?: string;
}

export interface MlflowMetric {
  key: string;
  value: number;
  timestamp?: number;
  step?: number;
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MlflowMetric[]; params?: MlflowTag[]; tags?: MlflowTag[] };
}

export interface MlflowRegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  tags?: MlflowTag[];
  aliases?: { alias: string; version: string }[];
}

export interface MlflowModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  source: string;
  run_id?: string;
  status?: "PENDING_REGISTRATION" | "FAILED_REGISTRATION" | "READY";
  tags?: MlflowTag[];
  aliases?: string[];
}

export interface MlflowFileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** Tags as a plain record (later duplicates win, as in MLflow). */
export function tagRecord(tags: readonly MlflowTag[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));
}

/** A run's latest metric values as a plain record. */
export function metricRecord(metrics: readonly MlflowMetric[] | undefined): Record<string, number> {
  return Object.fromEntries((metrics ?? []).map((m) => [m.key, m.value]));
}
