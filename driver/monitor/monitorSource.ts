/** What `mlops monitor` needs from a target: what a stack serves, where its collected data is, the Python to run. */
import type { StackName } from "../core/release.js";

export interface ServedVersion {
  modelName: string;
  modelVersion: string;
  /** a local folder holding the served model.pkl (prediction drift scores the reference with it) */
  modelDir: string;
}

/** The collected requests of a served version, as folders of JSON lines in the local sink's format (ml/monitor_collected.py). */
export interface CollectedData {
  dirs: string[];
  /** how a path under `dirs` is named to the user (e.g. the blob's datastore URI it was read from); default: as is */
  rename?: (text: string) => string;
}

export interface MonitorSource {
  /** where reports and the last monitor record go (.mlops/) */
  stateDir: string;
  /** where the pipeline's run folders are (the reference's training split), .mlops/runs */
  runsDir: string;
  served(stack: StackName): Promise<ServedVersion | undefined>;
  /** the stack's collected data of `served` since a time (every deployment of the stack that serves it) */
  collected(stack: StackName, served: ServedVersion, sinceEpochSeconds: number): Promise<CollectedData>;
  /** the interpreter of the project's Python environment */
  python(): Promise<string>;
  /** removes whatever `served`/`collected` fetched onto this machine (temporary copies); idempotent */
  close?(): Promise<void>;
}
