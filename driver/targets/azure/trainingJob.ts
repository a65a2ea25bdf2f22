/**
 * The training job's ARM body, built by a pure function (unit-tested). One Command job runs ml/pipeline.py
 * (extract -> train -> eval in one MLflow run) on the INT training cluster, rather than a three-step pipeline
 * job: the pipeline job body (component definitions, bindings between step outputs) is the part of the 2022-10-01
 * API this project could not check without Azure, while a command job is the documented minimum, and
 * pipeline.py is the same entry point the local target runs. See docs/azure-target.md.
 *
 * Outputs: `training` (uri_folder, read-write mount) at a known path of the default datastore,
 * mlops/jobs/<job>/ : pipeline.py writes model/ (MLflow model, model.pkl), metrics.json and run.json there, so the
 * driver can read model.pkl back and check its sha256 before registering it.
 */
import type { CommandJob, JobBase } from "@azure/arm-machinelearning";
import type { SourceFingerprint } from "../../core/release.js";

export const TRAINING_OUTPUT = "training";
export const MODEL_SUBDIR = "model";
export const MODEL_FILE = "model.pkl";
/** Job tags the driver matches on to reuse a training (see findReusable). */
export const DIGEST_TAGS = ["mlops.code_digest", "mlops.data_digest", "mlops.env_digest"] as const;

export interface TrainingJobSpec {
  jobName: string;
  experimentName: string;
  codeId: string;
  environmentId: string;
  computeId: string;
  datastoreName: string;
  source: SourceFingerprint;
}

/** Where the job writes its output in the default datastore's container. */
export const jobOutputPath = (jobName: string): string => `mlops/jobs/${jobName}/`;
export const jobModelBlob = (jobName: string): string => `${jobOutputPath(jobName)}${MODEL_SUBDIR}/${MODEL_FILE}`;
/** The model folder as a job-output URI (for registration with lineage to the job). */
export const jobModelUri = (jobName: string): string => `azureml://jobs/${jobName}/outputs/${TRAINING_OUTPUT}/paths/${MODEL_SUBDIR}`;

export function digestTags(source: SourceFingerprint): Record<string, string> {
  return {
    "mlops.code_digest": source.codeDigest,
    "mlops.data_digest": source.dataDigest,
    "mlops.env_digest": source.envDigest,
    "mlops.git_commit": source.gitCommit,
    "mlops.git_dirty": String(source.gitDirty),
  };
}

export function buildTrainingJob(spec: TrainingJobSpec): JobBase {
  const properties: CommandJob = {
    jobType: "Command",
    displayName: `mlops training ${spec.source.gitCommit.slice(0, 12)}${spec.source.gitDirty ? " (dirty)" : ""}`,
    description: "extract -> train -> eval (ml/pipeline.py), submitted by the mlops release driver",
    experimentName: spec.experimentName,
    codeId: spec.codeId,
    environmentId: spec.environmentId,
    computeId: spec.computeId,
    command: `python pipeline.py --data data.txt --out \${{outputs.${TRAINING_OUTPUT}}}`,
    environmentVariables: { MLFLOW_EXPERIMENT_NAME: spec.experimentName, PYTHONUNBUFFERED: "1" },
    outputs: {
      [TRAINING_OUTPUT]: {
        jobOutputType: "uri_folder",
        mode: "ReadWriteMount",
        uri: `azureml://datastores/${spec.datastoreName}/paths/${jobOutputPath(spec.jobName)}`,
      },
    },
    tags: digestTags(spec.source),
  };
  return { properties };
}

/** e.g. mlops-train-20261127-093000-ab12 (job names are unique per workspace). */
export function newJobName(now: Date, random: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `mlops-train-${stamp}-${random}`;
}

export const TERMINAL = new Set(["Completed", "Failed", "Canceled"]);
export const isTerminal = (status: string | undefined): boolean => TERMINAL.has(status ?? "");
