/** What `mlops monitor` needs from a target: what a stack serves, where its collected data is, the Python to run. */
import type { StackName } from "../core/release.js";

export interface ServedVersion {
  modelName: string;
  modelVersion: string;
  /** a local folder holding the served model.pkl (prediction drift scores the reference with it) */
  modelDir: string;
}

export interface MonitorSource {
  /** where reports and the last monitor record go (.mlops/) */
  stateDir: string;
  /** where the pipeline's run folders are (the reference's training split), .mlops/runs */
  runsDir: string;
  served(stack: StackName): Promise<ServedVersion | undefined>;
  /** folders holding the stack's collected JSON lines (every deployment of the stack) */
  collectedDirs(stack: StackName): string[];
  /** the interpreter of the project's Python environment */
  python(): Promise<string>;
}
