/**
 * `mlops doctor [--target local|azure] [--stack int|prod] [--json]`: read-only checks of what a release needs,
 * one line per check (`ok`, `warn`, `FAIL ...; what to do`), or with --json an array of {check, status, detail,
 * fix}. Exit code 8 (EXIT.environment: "the machine or cloud is not ready") when any check FAILed, else 0.
 * It builds no target (a target's preflight would stop at the first problem; doctor reports all of them).
 */
import { readReleaseConfig } from "../config/releaseConfig.js";
import { UsageError } from "../core/errors.js";
import { STACKS, type StackName } from "../core/release.js";
import type { TargetName } from "../targets/types.js";
import type { CheckResult } from "./checkResult.js";
import { doctorExitCode, renderText } from "./runChecks.js";

export interface DoctorOptions {
  repoRoot: string;
  target: TargetName;
  stack?: string;
  env?: NodeJS.ProcessEnv;
}

export interface DoctorOutcome {
  results: CheckResult[];
  text: string;
  exitCode: number;
}

export function parseDoctorStacks(stack: string | undefined): StackName[] {
  if (stack === undefined) return [...STACKS];
  if ((STACKS as readonly string[]).includes(stack)) return [stack as StackName];
  throw new UsageError(`--stack '${stack}' is not a stack; use one of: ${STACKS.join(", ")}`);
}

export async function doctorCommand(o: DoctorOptions): Promise<DoctorOutcome> {
  const stacks = parseDoctorStacks(o.stack);
  let results: CheckResult[];
  if (o.target === "azure") {
    const { azureDoctor, defaultAzureDoctorDeps } = await import("./azure/azureDoctor.js");
    results = await azureDoctor(o.repoRoot, stacks, await defaultAzureDoctorDeps(o.repoRoot, o.env ?? process.env));
  } else {
    if (o.stack !== undefined) throw new UsageError("--stack applies to --target azure; the local target checks this machine");
    const { localDoctor } = await import("./local/localDoctor.js");
    results = await localDoctor(o.repoRoot, await readReleaseConfig(o.repoRoot));
  }
  return { results, text: renderText(results), exitCode: doctorExitCode(results) };
}
