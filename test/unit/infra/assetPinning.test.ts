/**
 * Audit items 3 and 10 under Pulumi mocks: code and environment versions are pinned per colour, so an
 * edit of score.py / conda.yml reaches only the deployment being (re)deployed, never the weight-0
 * rollback colour; asset versions and their blob are kept on delete (Azure ML archives assets).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { buildForTest, stackFileConfig, unwrap } from "./harness.js";
import { tempDir } from "../../support/tempDirs.js";

const T = {
  code: "azure-native:machinelearningservices:CodeVersion",
  env: "azure-native:machinelearningservices:EnvironmentVersion",
  blob: "azure-native:storage:Blob",
  deployment: "azure-native:machinelearningservices:OnlineDeployment",
} as const;

type Deployments = Record<string, { version: string; weight: number }>;
const servingWith = (deployments: Deployments) => ({
  "mlops:serving": { ...(stackFileConfig("prod")["mlops:serving"] as Record<string, unknown>), deployments },
});

describe("code and environment assets pinned per colour (audit item 3)", function () {
  const dir = tempDir("mlops-pin-");
  const files = {
    scoreOld: join(dir, "old", "score.py"),
    scoreNew: join(dir, "new", "score.py"),
    condaOld: join(dir, "old", "conda.yml"),
    condaNew: join(dir, "new", "conda.yml"),
  };
  before(function () {
    mkdirSync(join(dir, "old"), { recursive: true });
    mkdirSync(join(dir, "new"), { recursive: true });
    writeFileSync(files.scoreOld, "def run(x):\n    return 1\n");
    writeFileSync(files.scoreNew, "def run(x):\n    return 2\n");
    writeFileSync(files.condaOld, "name: old\ndependencies:\n  - python=3.11\n");
    writeFileSync(files.condaNew, "name: new\ndependencies:\n  - python=3.11\n  - pip\n");
  });

  it("an edit of score.py and conda.yml rebuilds only the colour being deployed; the weight-0 rollback colour keeps its assets", async function () {
    // Update 1: blue serves v3 with the old files.
    const first = await buildForTest("prod", {
      configOverrides: servingWith({ blue: { version: "3", weight: 100 } }),
      previousOutputs: {},
      scoringScriptPath: files.scoreOld,
      condaFilePath: files.condaOld,
    });
    const oldCodeId = await unwrap(first.stack.components.serving.codeVersion.id);
    const oldEnvId = await unwrap(first.stack.components.serving.environmentVersion.id);
    const state = await unwrap(first.stack.outputs.servingState);

    // Update 2: score.py and conda.yml edited; green gets v4, blue stays on v3 at weight 0 (rollback target).
    const second = await buildForTest("prod", {
      configOverrides: servingWith({ blue: { version: "3", weight: 0 }, green: { version: "4", weight: 100 } }),
      previousOutputs: { servingState: state, servedModel: first.stack.outputs.servedModel },
      scoringScriptPath: files.scoreNew,
      condaFilePath: files.condaNew,
    });
    const newCodeId = await unwrap(second.stack.components.serving.codeVersion.id);
    const newEnvId = await unwrap(second.stack.components.serving.environmentVersion.id);
    expect(newCodeId).not.to.equal(oldCodeId);
    expect(newEnvId).not.to.equal(oldEnvId);

    const byName = Object.fromEntries(second.ofType(T.deployment).map((d) => [d.inputs.deploymentName, d.inputs.properties]));
    expect(byName["blue"].codeConfiguration.codeId, "blue (weight 0, unchanged version) keeps its code").to.equal(oldCodeId);
    expect(byName["blue"].environmentId, "blue keeps its environment").to.equal(oldEnvId);
    expect(byName["green"].codeConfiguration.codeId, "green (being deployed) runs the edited score.py").to.equal(newCodeId);
    expect(byName["green"].environmentId).to.equal(newEnvId);
    const blueBefore = first.ofType(T.deployment).find((d) => d.inputs.deploymentName === "blue")!.inputs.properties;
    expect(byName["blue"]).to.deep.equal(blueBefore);

    // The record the next update reads carries each colour's pin.
    const after = await unwrap(second.stack.outputs.servingState);
    expect(after.deployments["blue"]).to.deep.equal({ version: "3", codeId: oldCodeId, environmentId: oldEnvId });
    expect(after.deployments["green"]).to.deep.equal({ version: "4", codeId: newCodeId, environmentId: newEnvId });
  });

  it("a colour re-versioned later takes the files of that update", async function () {
    const pinned = {
      model: "diabetes-ridge",
      deployments: { blue: { version: "3", codeId: "/codes/mlops-score/versions/aaa", environmentId: "/environments/env/versions/bbb" } },
      traffic: { blue: 100 },
    };
    const built = await buildForTest("prod", {
      configOverrides: servingWith({ blue: { version: "5", weight: 100 } }),
      previousOutputs: { servingState: pinned },
      scoringScriptPath: files.scoreNew,
      condaFilePath: files.condaNew,
    });
    const blue = built.one(T.deployment).inputs.properties;
    expect(blue.codeConfiguration.codeId).to.equal(await unwrap(built.stack.components.serving.codeVersion.id));
    expect(blue.environmentId).to.equal(await unwrap(built.stack.components.serving.environmentVersion.id));
  });
});

describe("asset versions are kept on delete (audit item 10)", function () {
  it("registers the CodeVersion, EnvironmentVersion and the code blob with retainOnDelete (the batch scoring code's too)", async function () {
    const built = await buildForTest("int");
    for (const type of [T.code, T.env, T.blob]) {
      expect(built.ofType(type), type).to.not.have.length(0);
      for (const r of built.ofType(type)) expect(r.retainOnDelete, `${type} ${r.name}`).to.equal(true);
    }
    expect(built.one("azure-native:machinelearningservices:OnlineEndpoint").retainOnDelete).to.equal(false);
  });
});
