/**
 * The cross-stage and cross-step references of azure-pipelines.yml resolved against the pipeline itself, with
 * the forms MS Learn documents ("Define variables", "Use outputs in a different stage/job"; "Expressions",
 * "Stage to stage dependencies"; "Deployment jobs", "Support for output variables"):
 * - stage condition:   dependencies.<stage>.outputs['<job>.<step>.<var>']
 *                      (deployment job: dependencies.<stage>.outputs['<job>.<job>.<step>.<var>'])
 * - stage/job variable: $[ stageDependencies.<stage>.<job>.outputs['<step>.<var>'] ]
 *                      (deployment job, runOnce: stageDependencies.<stage>.<job>.outputs['<job>.<step>.<var>'])
 * - same job:          variables['<step>.<var>'] in a condition, $(<step>.<var>) in a script
 * A runtime expression `$[ ]` must be a variable's whole value. The referenced stage must be in dependsOn, the
 * job and the named step must exist, and the step must set the variable with `isOutput=true`.
 */
import { jobName, jobSteps, stepOutputs, stepScript, type Job, type Pipeline, type Stage } from "./pipelineSchema.js";

const asList = (d: string | string[] | undefined): string[] => (d === undefined ? [] : Array.isArray(d) ? d : [d]);

function outputsOf(job: Job): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const s of jobSteps(job)) if ("name" in s && s.name) m.set(s.name, stepOutputs(s));
  return m;
}

function checkStepVar(where: string, job: Job, step: string, v: string, problems: string[]): void {
  const outs = outputsOf(job).get(step);
  if (!outs) problems.push(`${where}: job '${jobName(job)}' has no step named '${step}'`);
  else if (!outs.includes(v))
    problems.push(`${where}: step '${step}' of job '${jobName(job)}' sets no output variable '${v}' (##vso[task.setvariable variable=${v};isOutput=true])`);
}

function findJob(p: Pipeline, stageName: string, job: string): { stage?: Stage; job?: Job } {
  const stage = p.stages.find((s) => s.stage === stageName);
  return { ...(stage ? { stage } : {}), ...(stage ? { job: stage.jobs.find((j) => jobName(j) === job) } : {}) } as { stage?: Stage; job?: Job };
}

/** `dependencies.<stage>.outputs['...']` in a stage condition */
function checkStageCondition(p: Pipeline, stage: Stage, problems: string[]): void {
  for (const m of (stage.condition ?? "").matchAll(/dependencies\.([A-Za-z_]\w*)\.outputs\['([^']+)'\]/g)) {
    const where = `stage ${stage.stage} condition`;
    const [, from, ref] = m as unknown as [string, string, string];
    if (!asList(stage.dependsOn).includes(from)) problems.push(`${where}: stage '${from}' is not in dependsOn`);
    const parts = ref.split(".");
    const { stage: src, job } = findJob(p, from, parts[0]!);
    if (!src) {
      problems.push(`${where}: no stage '${from}'`);
      continue;
    }
    if (!job) {
      problems.push(`${where}: stage '${from}' has no job '${parts[0]}'`);
      continue;
    }
    const isDeployment = "deployment" in job;
    const rest = isDeployment ? (parts[1] === parts[0] ? parts.slice(2) : null) : parts.slice(1);
    if (!rest || rest.length !== 2) {
      problems.push(`${where}: '${ref}' must be '${isDeployment ? "<job>.<job>.<step>.<var>" : "<job>.<step>.<var>"}'`);
      continue;
    }
    checkStepVar(where, job, rest[0]!, rest[1]!, problems);
  }
}

/** `$[ stageDependencies.<stage>.<job>.outputs['...'] ]` in stage or job variables */
function checkRuntimeVariables(p: Pipeline, owner: string, vars: unknown, dependsOn: string[], problems: string[]): void {
  const entries: [string, unknown][] = Array.isArray(vars)
    ? vars.flatMap((v) => ("name" in (v as object) ? [[(v as { name: string }).name, (v as { value: unknown }).value] as [string, unknown]] : []))
    : Object.entries((vars ?? {}) as Record<string, unknown>);
  for (const [name, value] of entries) {
    if (typeof value !== "string" || !value.includes("$[")) continue;
    const where = `${owner} variable ${name}`;
    if (!/^\$\[.*\]$/s.test(value.trim())) problems.push(`${where}: a runtime expression $[ ] must be the whole value`);
    for (const m of value.matchAll(/stageDependencies\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)\.outputs\['([^']+)'\]/g)) {
      const [, from, jobRef, ref] = m as unknown as [string, string, string, string];
      if (!dependsOn.includes(from)) problems.push(`${where}: stage '${from}' is not in dependsOn`);
      const { stage, job } = findJob(p, from, jobRef);
      if (!stage || !job) {
        problems.push(`${where}: no job '${jobRef}' in stage '${from}'`);
        continue;
      }
      const parts = ref.split(".");
      const rest = "deployment" in job ? (parts[0] === jobRef ? parts.slice(1) : null) : parts;
      if (!rest || rest.length !== 2) {
        problems.push(`${where}: '${ref}' must be '${"deployment" in job ? "<job>.<step>.<var>" : "<step>.<var>"}'`);
        continue;
      }
      checkStepVar(where, job, rest[0]!, rest[1]!, problems);
    }
  }
}

/** `variables['<step>.<var>']` in step conditions of the same job */
function checkSameJob(stage: Stage, job: Job, problems: string[]): void {
  for (const s of jobSteps(job)) {
    for (const m of (s.condition ?? "").matchAll(/variables\['([A-Za-z_]\w*)\.([A-Za-z_]\w*)'\]/g)) {
      checkStepVar(`stage ${stage.stage} job ${jobName(job)} step condition`, job, m[1]!, m[2]!, problems);
    }
  }
}

export function referenceProblems(p: Pipeline): string[] {
  const problems: string[] = [];
  const names = new Set(p.stages.map((s) => s.stage));
  for (const stage of p.stages) {
    for (const d of asList(stage.dependsOn)) if (!names.has(d)) problems.push(`stage ${stage.stage}: dependsOn '${d}' is no stage`);
    checkStageCondition(p, stage, problems);
    checkRuntimeVariables(p, `stage ${stage.stage}`, stage.variables, asList(stage.dependsOn), problems);
    for (const job of stage.jobs) {
      checkRuntimeVariables(p, `job ${jobName(job)}`, job.variables, asList(stage.dependsOn), problems);
      checkSameJob(stage, job, problems);
    }
  }
  return problems;
}

/** `$(Name)` macros used in scripts and inputs that are neither defined nor predefined nor a same-job step output. */
export function unknownMacros(p: Pipeline, known: Set<string>): string[] {
  const problems: string[] = [];
  const pipelineVars = new Set<string>();
  const addVars = (vars: unknown, into: Set<string>) => {
    if (Array.isArray(vars)) {
      for (const v of vars) if (v && typeof v === "object" && "name" in v) into.add((v as { name: string }).name);
    } else if (vars && typeof vars === "object") {
      for (const k of Object.keys(vars)) into.add(k);
    }
  };
  addVars(p.variables, pipelineVars);
  for (const stage of p.stages) {
    const stageVars = new Set(pipelineVars);
    addVars(stage.variables, stageVars);
    for (const job of stage.jobs) {
      const vars = new Set(stageVars);
      addVars(job.variables, vars);
      const outs = outputsOf(job);
      for (const s of jobSteps(job)) {
        const text = [stepScript(s) ?? "", JSON.stringify("inputs" in s ? (s.inputs ?? {}) : {}), JSON.stringify(s.env ?? {}), s.displayName ?? ""].join("\n");
        for (const m of text.matchAll(/\$\(([A-Za-z_][\w.]*)\)/g)) {
          const name = m[1]!;
          const [step, v] = name.split(".");
          const isStepOutput = v !== undefined && name.split(".").length === 2 && outs.get(step!)?.includes(v);
          if (!vars.has(name) && !known.has(name) && !isStepOutput) problems.push(`stage ${stage.stage} job ${jobName(job)}: $(${name}) is not defined`);
        }
      }
    }
  }
  return problems;
}
