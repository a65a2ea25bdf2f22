import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { readStackConfigFile } from "../../../config/stackConfig.js";
import { decideServing } from "../../../driver/pulumi/servingDecision.js";
import { editServingYaml, pathValue, readServingYaml, servingPathCommands } from "../../../driver/pulumi/stackConfigEdit.js";
import { REPO } from "./support/harness.js";

type Obj = Record<string, unknown>;

/** What `pulumi config set --path <key.path> <value>` / `config rm --path` do to the stored config object. */
function applyPathCommand(config: Obj, args: string[]): void {
  const [, op, , key, value] = args;
  const [ns, ...rest] = key!.split(":");
  const segments = rest.join(":").split(".");
  const top = `${ns}:${segments[0]}`;
  let node = config as Obj;
  const pathKeys = [top, ...segments.slice(1)];
  for (const k of pathKeys.slice(0, -1)) {
    if (typeof node[k] !== "object" || node[k] === null) node[k] = {};
    node = node[k] as Obj;
  }
  const last = pathKeys[pathKeys.length - 1]!;
  if (op === "rm") delete node[last];
  else node[last] = pathValue(value!);
}

const configOf = (text: string): Obj => (parse(text) as { config: Obj }).config;
const comments = (text: string): string[] => text.split("\n").filter((l) => l.trim().startsWith("#")).map((l) => l.trim());

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
    const dir = mkdtempSync(path.join(tmpdir(), "mlops-cfg-"));
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

  it("matches what a real pulumi CLI writes for the same commands (runs only when .tools/bin/pulumi exists)", function () {
    this.timeout(60_000);
    const cli = path.join(REPO, ".tools", "bin", "pulumi");
    let works = false;
    try {
      works = existsSync(cli) && execFileSync(cli, ["version"], { env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" }, encoding: "utf8" }).startsWith("v3.");
    } catch {
      works = false;
    }
    if (!works) this.skip();
    const dir = mkdtempSync(path.join(tmpdir(), "mlops-pulumi-"));
    try {
      writeFileSync(path.join(dir, "Pulumi.yaml"), "name: mlops\nruntime: nodejs\n");
      copyFileSync(path.join(REPO, "Pulumi.int.yaml"), path.join(dir, "Pulumi.int.yaml"));
      const env = { ...process.env, PULUMI_BACKEND_URL: `file://${dir}/state`, PULUMI_CONFIG_PASSPHRASE: "test", PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_HOME: path.join(dir, "home") };
      execFileSync("mkdir", ["-p", `${dir}/state`]);
      execFileSync(cli, ["stack", "init", "int", "--non-interactive"], { cwd: dir, env, stdio: "ignore" });
      // a model rename, then two blue/green flips: the CLI's file and ours must hold the same config each time
      let ours = original;
      let serving = readServingYaml(original);
      for (const [model, version] of [["other-model", "1"], ["other-model", "2"], ["other-model", "3"]] as const) {
        const next = decideServing(serving, model, version).serving;
        for (const cmd of servingPathCommands(serving, next)) execFileSync(cli, [...cmd, "--stack", "int"], { cwd: dir, env, stdio: "ignore" });
        ours = editServingYaml(ours, next);
        expect(configOf(readFileSync(path.join(dir, "Pulumi.int.yaml"), "utf8")), `${model} v${version}`).to.deep.equal(configOf(ours));
        serving = next;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
