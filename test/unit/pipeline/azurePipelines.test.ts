/**
 * azure-pipelines.yml checked before Azure DevOps sees it: keys against the YAML schema reference (strict, per node
 * kind: pipelineSchema.ts), stage/step output references resolved against the pipeline (pipelineReferences.ts),
 * every $(macro) defined, and the set-up the azure target relies on (docs/azure-target.md): AzurePipelinesCredential's
 * variables mapped, no static federated-token file, a state-backend login that does not expire, the approver read
 * from Azure DevOps.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { referenceProblems, unknownMacros } from "./pipelineReferences.js";
import { jobName, jobSteps, schemaProblems, stepScript, type Pipeline } from "./pipelineSchema.js";

const REPO = path.resolve(import.meta.dirname, "../../..");
const load = (): Pipeline => parse(readFileSync(path.join(REPO, "azure-pipelines.yml"), "utf8")) as Pipeline;
const clone = <T>(v: T): T => structuredClone(v);

/** Predefined variables used (MS Learn, "Use predefined variables") and the variable group's documented contents. */
const KNOWN = new Set([
  "System.AccessToken",
  "Agent.TempDirectory",
  "Build.SourceBranch",
  "Build.BuildNumber",
  "Pipeline.Workspace",
  // group mlops-pulumi (docs/azure-target.md, "Pipeline variables")
  "PULUMI_CONFIG_PASSPHRASE",
  "PULUMI_BACKEND_URL",
  "AZURE_STORAGE_ACCOUNT",
  "AZURE_STORAGE_KEY",
  "AZURE_SERVICE_CONNECTION",
]);

describe("azure-pipelines.yml against the YAML schema reference", () => {
  it("every node has only keys the schema reference documents for its kind", () => {
    expect(schemaProblems(load())).to.deep.equal([]);
  });

  it("the schema check can fail: a misspelt key, a key on the wrong node and an unknown task input are each reported", () => {
    const a = clone(load()) as unknown as { stages: Record<string, unknown>[] };
    a.stages[1]!["dependson"] = "Test";
    expect(schemaProblems(a).join("\n")).to.match(/stages\.1: Unrecognized key: "dependson"/);
    const b = clone(load()) as unknown as { stages: { jobs: { steps: Record<string, unknown>[] }[] }[] };
    b.stages[0]!.jobs[0]!.steps[2]!["inputs"] = { x: 1 }; // inputs on a script step
    expect(schemaProblems(b)).to.not.deep.equal([]);
    const c = clone(load()) as unknown as { stages: { jobs: { steps: { inputs?: Record<string, unknown> }[] }[] }[] };
    c.stages[1]!.jobs[0]!.steps.find((s) => s.inputs && "inlineScript" in s.inputs)!.inputs!["addSpnToEnviroment"] = true;
    expect(schemaProblems(c).join("\n")).to.match(/inputs: Unrecognized key: "addSpnToEnviroment"/);
  });

  it("stage conditions, stage variables and step conditions reference outputs that exist, in the documented forms", () => {
    const p = load();
    expect(referenceProblems(p)).to.deep.equal([]);
    expect(p.stages.find((s) => s.stage === "Prod")!.condition).to.contain("dependencies.Release.outputs['release.release.outcome']");
  });

  it("the reference check can fail: a wrong job, a missing dependsOn and an unset output are each reported", () => {
    const a = clone(load());
    a.stages[2]!.condition = "eq(dependencies.Release.outputs['release.outcome'], 'x')"; // <step>.<var> without the job
    expect(referenceProblems(a).join("\n")).to.match(/has no step named 'outcome'|must be/);
    const b = clone(load());
    b.stages[2]!.dependsOn = "Test";
    expect(referenceProblems(b).join("\n")).to.contain("stage 'Release' is not in dependsOn");
    const c = clone(load());
    (c.stages[2]!.variables as Record<string, string>)["releaseId"] = "$[ stageDependencies.Release.release.outputs['release.releaseID'] ]";
    expect(referenceProblems(c).join("\n")).to.contain("sets no output variable 'releaseID'");
  });

  it("every $(macro) in scripts, inputs and env is a defined, predefined or group variable or a same-job step output", () => {
    expect(unknownMacros(load(), KNOWN)).to.deep.equal([]);
    const p = clone(load());
    const s = jobSteps(p.stages[1]!.jobs[0]!).find((x) => "script" in x && x.script.includes("git commit"))! as { script: string };
    s.script = s.script.replace("$(release.releaseId)", "$(release.releaseid)");
    expect(unknownMacros(p, KNOWN)).to.deep.equal(["stage Release job release: $(release.releaseid) is not defined"]);
  });
});

describe("azure-pipelines.yml wires the azure target's CI set-up", () => {
  const azureSteps = () => load().stages.flatMap((st) => st.jobs.flatMap((j) => jobSteps(j).map((s) => ({ stage: st.stage, job: jobName(j), s }))));
  const mlopsTasks = () => azureSteps().filter(({ s }) => /npm run -s mlops -- (release|approve|promote)/.test(stepScript(s) ?? ""));

  it("every mlops step against Azure runs in AzureCLI@2 with SYSTEM_ACCESSTOKEN mapped (AzurePipelinesCredential) and no federated-token file", () => {
    const steps = mlopsTasks();
    expect(steps.map((x) => `${x.stage}/${x.job}`)).to.deep.equal(["Release/release", "Prod/promote"]);
    for (const { s } of steps) {
      expect("task" in s && s.task).to.equal("AzureCLI@2");
      expect(s.env?.["SYSTEM_ACCESSTOKEN"]).to.equal("$(System.AccessToken)");
      expect(stepScript(s)).to.not.match(/AZURE_FEDERATED_TOKEN_FILE|idToken|servicePrincipalId/);
      expect((s as { inputs: Record<string, unknown> }).inputs["addSpnToEnvironment"]).to.not.equal(true);
    }
    expect(readFileSync(path.join(REPO, "azure-pipelines.yml"), "utf8")).to.not.include("AZURE_FEDERATED_TOKEN_FILE");
  });

  it("every step that runs pulumi through mlops has a state-backend login that does not expire: the storage key from the variable group", () => {
    for (const { s } of mlopsTasks()) {
      expect(s.env).to.deep.include({
        PULUMI_BACKEND_URL: "$(PULUMI_BACKEND_URL)",
        PULUMI_CONFIG_PASSPHRASE: "$(PULUMI_CONFIG_PASSPHRASE)",
        AZURE_STORAGE_ACCOUNT: "$(AZURE_STORAGE_ACCOUNT)",
        AZURE_STORAGE_KEY: "$(AZURE_STORAGE_KEY)",
      });
    }
  });

  it("PROD records the approver Azure DevOps reports for the environment check, not Build.RequestedFor", () => {
    const prod = mlopsTasks().find((x) => x.stage === "Prod")!;
    expect(stepScript(prod.s)).to.match(/npm run -s mlops -- approve "\$\(releaseId\)" --target azure --from-azure-devops/);
    expect(readFileSync(path.join(REPO, "azure-pipelines.yml"), "utf8")).to.not.include("Build.RequestedFor");
    const job = load().stages.find((s) => s.stage === "Prod")!.jobs[0]!;
    expect("deployment" in job && job.environment).to.equal("mlops-prod");
  });
});
