import { expect } from "chai";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { readStackConfigFile } from "../../../config/stackConfig.js";
import { decideServing } from "../../../driver/pulumi/servingDecision.js";
import { editServingYaml, readServingYaml, servingPathCommands } from "../../../driver/pulumi/stackConfigEdit.js";
import { REPO } from "./support/harness.js";
import { applyPathCommand, configOf } from "../../support/pulumiConfigPath.js";
import { tempDir } from "../../support/tempDirs.js";

type Obj = Record<string, unknown>;
const comments = (text: string): string[] =>
  text
    .split("\n")
    .filter((l) => l.trim().startsWith("#"))
    .map((l) => l.trim());

describe("stack config edit (Pulumi.<stack>.yaml mlops:serving)", () => {
  const original = readFileSync(path.join(REPO, "Pulumi.int.yaml"), "utf8");
  const step1 = decideServing(readServingYaml(original), "diabetes-ridge", "1").serving;

  it("writes the serving decision, keeps every comment and every other key, and stays a valid stack config", () => {
    const edited = editServingYaml(original, step1);
    expect(comments(edited)).to.deep.equal(comments(original));
    const before = configOf(original);
    const after = configOf(edited);
    for (const k of Object.keys(before)) if (k !== "mlops:serving") expect(after[k], k).to.deep.equal(before[k]);
    expect((after["mlops:serving"] as Obj).deployments).to.deep.equal({ blue: { version: 1, weight: 100 } });
    expect(edited).to.match(/\n    deployments:\n      blue:\n        version: 1\n        weight: 100\n/); // block style, like the rest of the file
    const dir = tempDir("mlops-cfg-");
    try {
      writeFileSync(path.join(dir, "Pulumi.int.yaml"), edited);
      const parsed = readStackConfigFile(dir, "int");
      expect(parsed.serving.model).to.equal("diabetes-ridge");
      expect(parsed.serving.deployments).to.deep.equal({ blue: { version: "1", weight: 100 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(editServingYaml(edited, step1)).to.equal(edited); // idempotent
  });

  it("stores exactly the object that the equivalent 'pulumi config set --path' commands store (ints for versions and weights)", () => {
    let text = original;
    let serving = readServingYaml(original);
    for (const version of ["1", "2", "3"]) {
      const next = decideServing(serving, "diabetes-ridge", version).serving;
      const expected = structuredClone(configOf(text));
      for (const cmd of servingPathCommands(serving, next)) applyPathCommand(expected, cmd);
      text = editServingYaml(text, next);
      expect(configOf(text), `after v${version}`).to.deep.equal(expected);
      serving = next;
    }
    const renamed = decideServing(readServingYaml(original), "other-model", "1").serving;
    expect(servingPathCommands(readServingYaml(original), renamed)).to.deep.equal([
      ["config", "set", "--path", "mlops:serving.model", "other-model"],
      ["config", "set", "--path", "mlops:serving.deployments.blue.version", "1"],
      ["config", "set", "--path", "mlops:serving.deployments.blue.weight", "100"],
    ]);
    const renamedText = editServingYaml(original, renamed);
    const expected = structuredClone(configOf(original));
    for (const cmd of servingPathCommands(readServingYaml(original), renamed)) applyPathCommand(expected, cmd);
    expect(configOf(renamedText)).to.deep.equal(expected);
  });
});
