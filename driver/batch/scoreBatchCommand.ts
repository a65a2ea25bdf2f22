/**
 * `mlops score-batch`: scores a file (or folder) of feature rows with exactly the model version a stack serves
 * (or `--version N`), verified against the registry's digest, through the target's batch scoring port.
 * Arguments are checked before anything runs; the output and its `.errors.csv` are written whole or not at all.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { DataError, DeploymentError, EnvironmentError, NotFoundError, UsageError } from "../core/errors.js";
import type { BatchScoreSummary, Progress, Target } from "../core/ports.js";
import { STACKS, type RegisteredModel, type StackName } from "../core/release.js";
import { BatchProgressBar } from "./batchProgressBar.js";

export interface ScoreBatchArgs {
  stack: string;
  input: string;
  output: string;
  version?: string;
}

export interface ScoreBatchPlan {
  stack: StackName;
  input: string;
  output: string;
  errors: string;
  version?: string;
}

export interface ScoreBatchResult extends BatchScoreSummary {
  stack: StackName;
  model: { name: string; version: string; digest: string; source: "stack" | "--version" };
  input: string;
  output: string;
  errors: string;
}

export const errorsFileFor = (output: string): string => `${output}.errors.csv`;

/** Checks the arguments (no target, no network): a one-line UsageError/DataError naming what is wrong. */
export function planScoreBatch(args: ScoreBatchArgs, cwd: string): ScoreBatchPlan {
  if (!(STACKS as readonly string[]).includes(args.stack)) throw new UsageError(`--stack '${args.stack}' is not a stack; use one of: ${STACKS.join(", ")}`);
  if (args.version !== undefined && !/^[1-9][0-9]*$/.test(args.version))
    throw new UsageError(`--version '${args.version}' is not a model version; pass a positive integer such as --version 3`);
  const input = path.resolve(cwd, args.input);
  if (!existsSync(input)) throw new DataError(`input ${args.input} does not exist; pass a .csv/.parquet file or a folder of them`);
  const inStat = statSync(input);
  if (inStat.isFile() && inStat.size === 0)
    throw new DataError(`input ${args.input} is empty (expected a header line with the training columns); nothing was written`);
  const output = path.resolve(cwd, args.output);
  if (existsSync(output) && statSync(output).isDirectory())
    throw new UsageError(`--output ${args.output} is a folder; pass a file name such as ${path.join(args.output, "predictions.csv")}`);
  if (!existsSync(path.dirname(output))) throw new UsageError(`--output ${args.output}: folder ${path.dirname(output)} does not exist; create it first`);
  const errors = errorsFileFor(output);
  if (output === input || errors === input || (inStat.isDirectory() && (output + path.sep).startsWith(input + path.sep))) {
    throw new UsageError(`--output ${args.output} would overwrite or sit inside the input; write it elsewhere`);
  }
  return { stack: args.stack as StackName, input, output, errors, ...(args.version ? { version: args.version } : {}) };
}

/** The model to score with: `--version N` from the registry, else what the stack serves, its digest checked against the registry. */
export async function resolveBatchModel(
  target: Target,
  modelName: string,
  plan: ScoreBatchPlan,
): Promise<{ model: RegisteredModel; source: "stack" | "--version" }> {
  if (plan.version) {
    const model = await target.registry.getVersion(modelName, plan.version);
    if (!model)
      throw new NotFoundError(
        `${modelName} v${plan.version} is not in the ${target.name} registry; pass a registered version or drop --version to use what ${plan.stack} serves`,
      );
    return { model, source: "--version" };
  }
  const status = await target.environments.describe(plan.stack);
  if (!status.modelVersion)
    throw new NotFoundError(`nothing is deployed to ${plan.stack} (${status.detail}); release a model first ('mlops release') or pass --version N`);
  const name = status.modelName ?? modelName;
  const model = await target.registry.getVersion(name, status.modelVersion);
  if (!model) throw new NotFoundError(`${plan.stack} serves ${name} v${status.modelVersion}, which is not in the ${target.name} registry; pass --version N`);
  if (status.digest && status.digest !== model.digest) {
    throw new DeploymentError(
      `${plan.stack} records ${name} v${status.modelVersion} with sha256 ${status.digest.slice(0, 12)}, the registry ${model.digest.slice(0, 12)}; refusing to score with either (redeploy ${plan.stack})`,
    );
  }
  return { model, source: "stack" };
}

export async function scoreBatchCommand(o: {
  target: Target;
  modelName: string;
  plan: ScoreBatchPlan;
  progress: Progress;
  bar: BatchProgressBar;
}): Promise<{ json: ScoreBatchResult; text: string }> {
  const { target, plan, progress, bar } = o;
  if (!target.batch) throw new EnvironmentError(`the ${target.name} target cannot score in batch; use --target local`);
  const { model, source } = await resolveBatchModel(target, o.modelName, plan);
  progress.info(
    `scoring ${plan.input} with ${model.name} v${model.version} (sha256 ${model.digest.slice(0, 12)}, ${source === "stack" ? `served by ${plan.stack}` : "--version"})`,
  );
  let summary: BatchScoreSummary;
  try {
    summary = await target.batch.scoreBatch(
      { model, stack: plan.stack, input: plan.input, output: plan.output, errors: plan.errors },
      (e) => bar.update(e),
      progress,
    );
  } finally {
    bar.finish();
  }
  const json: ScoreBatchResult = {
    stack: plan.stack,
    model: { name: model.name, version: model.version, digest: model.digest, source },
    input: plan.input,
    output: plan.output,
    errors: plan.errors,
    ...summary,
  };
  if (summary.scored === 0) {
    throw new DataError(`none of the ${summary.rows} rows of ${plan.input} could be scored; the reasons are in ${plan.errors}`);
  }
  const kinds = Object.entries(summary.failureKinds)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const text = [
    `scored ${summary.scored} of ${summary.rows} rows with ${model.name} v${model.version} (${source === "stack" ? `what ${plan.stack} serves` : "--version"}), ${summary.failed} failed, in ${summary.seconds.toFixed(1)}s (${Math.round(summary.rowsPerSecond)} rows/s)`,
    `output: ${plan.output}`,
    `errors: ${plan.errors} (${summary.failed} rows${kinds ? `: ${kinds}` : ""})`,
  ].join("\n");
  return { json, text };
}
