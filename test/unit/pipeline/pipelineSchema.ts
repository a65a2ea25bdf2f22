/**
 * azure-pipelines.yml held against Microsoft's YAML schema reference, one strict zod schema per node kind, so a key
 * Azure DevOps would refuse (a typo, a key on the wrong node) fails here first. No registry carries Microsoft's
 * published schema: npm `azure-pipelines-language-service` 0.9.2 has the validator code but no schema, and
 * `azure-pipelines-language-server` 0.9.3 takes the schema from its client (`schemaAssociations`; checked
 * 2026-12-02), so the keys below are transcribed from MS Learn, "YAML schema reference for Azure
 * Pipelines" (https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/): pipeline, trigger, pr, schedules.cron, variables
 * (variables.var, variables.group), stages.stage, jobs.job, jobs.deployment, strategy.runOnce (deployHook),
 * pool, steps.script, steps.task, steps.checkout; task inputs from MicrosoftDocs/azure-devops-yaml-schema
 * task-reference/azure-cli-v2.md and use-python-version-v0.md (plus AzureCLI@2's keepAzSessionActive, read by
 * microsoft/azure-pipelines-tasks Tasks/AzureCLIV2/azureclitask.ts).
 */
import { z } from "zod";

const str = z.string();
const strList = z.array(str);
const includeExclude = z.strictObject({ include: strList.optional(), exclude: strList.optional() });
const condition = str;
const dependsOn = z.union([str, strList]);
const env = z.record(str, z.union([str, z.number(), z.boolean()]));

// trigger: https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/trigger
const trigger = z.union([
  z.literal("none"),
  strList,
  z.strictObject({ batch: z.boolean().optional(), branches: includeExclude.optional(), paths: includeExclude.optional(), tags: includeExclude.optional() }),
]);
// pr: https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/pr
const pr = z.union([
  z.literal("none"),
  strList,
  z.strictObject({ autoCancel: z.boolean().optional(), branches: includeExclude.optional(), paths: includeExclude.optional(), drafts: z.boolean().optional() }),
]);
// schedules.cron: https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/schedules-cron
const schedule = z.strictObject({
  cron: str,
  displayName: str.optional(),
  branches: includeExclude.optional(),
  batch: z.boolean().optional(),
  always: z.boolean().optional(),
});
// variables: https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/variables (-var, -group, -template) or a mapping
const variableItem = z.union([
  z.strictObject({ name: str, value: z.union([str, z.number(), z.boolean()]), readonly: z.boolean().optional() }),
  z.strictObject({ group: str }),
  z.strictObject({ template: str, parameters: z.record(str, z.unknown()).optional() }),
]);
const variables = z.union([z.array(variableItem), z.record(str, z.union([str, z.number(), z.boolean()]))]);
// pool: https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/pool
const pool = z.union([str, z.strictObject({ name: str.optional(), demands: z.union([str, strList]).optional(), vmImage: str.optional() })]);

// step properties every step kind shares (steps.script / steps.task / steps.checkout "Properties")
const stepCommon = {
  condition: condition.optional(),
  continueOnError: z.boolean().optional(),
  displayName: str.optional(),
  target: z.unknown().optional(),
  enabled: z.boolean().optional(),
  env: env.optional(),
  name: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "a step name is letters, digits and _" })
    .optional(),
  timeoutInMinutes: z.number().optional(),
  retryCountOnTaskFailure: z.number().optional(),
};
const scriptStep = z.strictObject({ script: str, failOnStderr: z.boolean().optional(), workingDirectory: str.optional(), ...stepCommon });
const checkoutStep = z.strictObject({
  checkout: str,
  clean: z.boolean().optional(),
  fetchDepth: z.number().optional(),
  fetchFilter: str.optional(),
  fetchTags: z.boolean().optional(),
  lfs: z.boolean().optional(),
  persistCredentials: z.boolean().optional(),
  submodules: z.union([z.boolean(), z.literal("recursive")]).optional(),
  path: str.optional(),
  sparseCheckoutDirectories: str.optional(),
  sparseCheckoutPatterns: str.optional(),
  workspaceRepo: z.boolean().optional(),
  ...stepCommon,
});
const taskInputs: Record<string, z.ZodType> = {
  "AzureCLI@2": z.strictObject({
    azureSubscription: str.optional(),
    connectedServiceNameARM: str.optional(),
    scriptType: z.enum(["ps", "pscore", "batch", "bash"]),
    scriptLocation: z.enum(["inlineScript", "scriptPath"]).optional(),
    scriptPath: str.optional(),
    inlineScript: str.optional(),
    arguments: str.optional(),
    scriptArguments: str.optional(),
    powerShellErrorActionPreference: z.enum(["stop", "continue", "silentlyContinue"]).optional(),
    addSpnToEnvironment: z.boolean().optional(),
    useGlobalConfig: z.boolean().optional(),
    workingDirectory: str.optional(),
    cwd: str.optional(),
    failOnStandardError: z.boolean().optional(),
    powerShellIgnoreLASTEXITCODE: z.boolean().optional(),
    visibleAzLogin: z.boolean().optional(),
    keepAzSessionActive: z.boolean().optional(),
  }),
  "UsePythonVersion@0": z.strictObject({
    versionSpec: str,
    disableDownloadFromRegistry: z.boolean().optional(),
    allowUnstable: z.boolean().optional(),
    githubToken: str.optional(),
    addToPath: z.boolean().optional(),
    architecture: z.enum(["x86", "x64", "arm64"]).optional(),
  }),
};
const taskStep = z.strictObject({ task: str, inputs: z.record(str, z.unknown()).optional(), ...stepCommon }).superRefine((s, ctx) => {
  const schema = taskInputs[s.task];
  if (!schema) return ctx.addIssue({ code: "custom", message: `task ${s.task} has no input list in this test; add it from its task reference page` });
  const r = schema.safeParse(s.inputs ?? {});
  if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: "custom", path: ["inputs", ...i.path.map(String)], message: i.message });
});
const step = z.union([scriptStep, checkoutStep, taskStep]);
const steps = z.array(step);

// strategy.runOnce: https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/jobs-deployment-strategy-run-once
const hook = z.strictObject({ steps: steps.optional(), pool: pool.optional() });
const runOnce = z.strictObject({
  runOnce: z.strictObject({
    preDeploy: hook.optional(),
    deploy: hook,
    routeTraffic: hook.optional(),
    postRouteTraffic: hook.optional(),
    on: z.strictObject({ failure: hook.optional(), success: hook.optional() }).optional(),
  }),
});
const jobCommon = {
  displayName: str.optional(),
  dependsOn: dependsOn.optional(),
  condition: condition.optional(),
  continueOnError: z.boolean().optional(),
  timeoutInMinutes: z.number().optional(),
  cancelTimeoutInMinutes: z.number().optional(),
  variables: variables.optional(),
  pool: pool.optional(),
  container: z.unknown().optional(),
  services: z.record(str, z.unknown()).optional(),
  workspace: z.strictObject({ clean: z.enum(["outputs", "resources", "all"]) }).optional(),
  uses: z.strictObject({ repositories: strList.optional(), pools: strList.optional() }).optional(),
  templateContext: z.unknown().optional(),
};
// jobs.job: https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/jobs-job
const job = z.strictObject({ job: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), strategy: z.unknown().optional(), steps, ...jobCommon });
// jobs.deployment: https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/jobs-deployment
const environment = z.union([
  str,
  z.strictObject({ name: str, resourceName: str.optional(), resourceId: z.number().optional(), resourceType: str.optional(), tags: str.optional() }),
]);
const deployment = z.strictObject({ deployment: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), environment, strategy: runOnce, ...jobCommon });
// stages.stage: https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/stages-stage
const stage = z.strictObject({
  stage: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  displayName: str.optional(),
  pool: pool.optional(),
  dependsOn: dependsOn.optional(),
  condition: condition.optional(),
  variables: variables.optional(),
  jobs: z.array(z.union([job, deployment])),
  lockBehavior: z.enum(["sequential", "runLatest"]).optional(),
  trigger: z.enum(["manual", "automatic"]).optional(),
  isSkippable: z.boolean().optional(),
  templateContext: z.unknown().optional(),
});
// pipeline (stages form): https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/pipeline
export const pipelineSchema = z.strictObject({
  name: str.optional(),
  appendCommitMessageToRunName: z.boolean().optional(),
  trigger: trigger.optional(),
  pr: pr.optional(),
  schedules: z.array(schedule).optional(),
  resources: z.unknown().optional(),
  parameters: z.array(z.unknown()).optional(),
  variables: variables.optional(),
  pool: pool.optional(),
  lockBehavior: z.enum(["sequential", "runLatest"]).optional(),
  stages: z.array(stage),
});

export type Pipeline = z.infer<typeof pipelineSchema>;
export type Stage = Pipeline["stages"][number];
export type Job = Stage["jobs"][number];
export type Step = z.infer<typeof step>;

/** Problems as "<path>: <message>" lines. */
export function schemaProblems(doc: unknown): string[] {
  const r = pipelineSchema.safeParse(doc);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

export const jobName = (j: Job): string => ("job" in j ? j.job : j.deployment);
export function jobSteps(j: Job): Step[] {
  if ("steps" in j) return j.steps;
  const r = j.strategy.runOnce;
  return [r.preDeploy, r.deploy, r.routeTraffic, r.postRouteTraffic, r.on?.failure, r.on?.success].flatMap((h) => h?.steps ?? []);
}
/** The bash a step runs: `script`, or an AzureCLI@2 bash `inlineScript`. */
export function stepScript(s: Step): string | undefined {
  if ("script" in s) return s.script;
  if ("task" in s && s.task === "AzureCLI@2" && (s.inputs as { scriptType?: string }).scriptType === "bash")
    return (s.inputs as { inlineScript?: string }).inlineScript;
  return undefined;
}
/** Output variables a step sets (`##vso[task.setvariable variable=<v>;isOutput=true]`). */
export function stepOutputs(s: Step): string[] {
  const text = stepScript(s) ?? "";
  return [...text.matchAll(/##vso\[task\.setvariable variable=([A-Za-z0-9_.]+)(;[^\]]*)\]/g)]
    .filter((m) => /isOutput=true/i.test(m[2] ?? ""))
    .map((m) => m[1]!);
}
