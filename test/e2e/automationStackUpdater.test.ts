import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EnvironmentError } from "../../driver/core/errors.js";
import { AutomationStackUpdater } from "../../driver/pulumi/automationStackUpdater.js";
import { decideServing } from "../../driver/pulumi/servingDecision.js";
import { editServingYaml, readServingYaml, servingPathCommands } from "../../driver/pulumi/stackConfigEdit.js";
import { configOf } from "../support/pulumiConfigPath.js";
import { REPO_ROOT as REPO } from "./localRepoFixture.js";
import { ensureEngine, SKIP_ENGINE } from "./pulumiEngineFixture.js";

/**
 * The Automation API adapter and the stack-file edit against the real pulumi CLI from .tools/bin. The engine is
 * built (or waited for) first: a missing engine fails these tests, it never skips them silently; only
 * MLOPS_SKIP_PULUMI_ENGINE=1 skips them, and mocha counts them as pending.
 */
const CLI = path.join(REPO, ".tools", "bin", "pulumi");
describe(`Automation API stack updater with the real pulumi CLI${SKIP_ENGINE ? " [skipped: MLOPS_SKIP_PULUMI_ENGINE=1]" : ""}`, function () {
  this.timeout(60_000);
  let dir: string;
  let env: Record<string, string>;
  before(async function () {
    if (SKIP_ENGINE) this.skip();
    this.timeout(1_800_000);
    await ensureEngine();
    const cli = CLI;
    dir = mkdtempSync(path.join(tmpdir(), "mlops-auto-"));
    symlinkSync(path.join(REPO, ".tools"), path.join(dir, ".tools"));
    writeFileSync(path.join(dir, "Pulumi.yaml"), "name: mlops\nruntime: nodejs\n");
    mkdirSync(path.join(dir, "state"));
    env = {
      PULUMI_BACKEND_URL: `file://${dir}/state`,
      PULUMI_CONFIG_PASSPHRASE: "test",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_HOME: path.join(dir, "home"),
    };
    execFileSync(cli, ["stack", "init", "int", "--non-interactive"], { cwd: dir, env: { ...process.env, ...env }, stdio: "ignore" });
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("reads the outputs of an existing stack (none before the first up)", async () => {
    expect(await new AutomationStackUpdater({ repoRoot: dir, envVars: env }).outputs("int")).to.deep.equal({});
  });

  it("maps a stack missing from the backend to one line naming it and the fix", async () => {
    const err = await new AutomationStackUpdater({ repoRoot: dir, envVars: env }).outputs("prod").catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EnvironmentError);
    expect((err as Error).message).to.equal(
      "Pulumi stack 'prod' does not exist in the configured backend; create it with 'pulumi stack init prod' and 'pulumi up --stack prod' (see docs/azure-target.md)",
    );
  });
});

describe(`stack config edit against the real pulumi CLI${SKIP_ENGINE ? " [skipped: MLOPS_SKIP_PULUMI_ENGINE=1]" : ""}`, function () {
  const original = readFileSync(path.join(REPO, "Pulumi.int.yaml"), "utf8");
  before(async function () {
    if (SKIP_ENGINE) this.skip();
    this.timeout(1_800_000);
    await ensureEngine();
  });

  it("matches what a real pulumi CLI writes for the same commands", function () {
    this.timeout(60_000);
    const cli = CLI;
    const dir = mkdtempSync(path.join(tmpdir(), "mlops-pulumi-"));
    try {
      writeFileSync(path.join(dir, "Pulumi.yaml"), "name: mlops\nruntime: nodejs\n");
      copyFileSync(path.join(REPO, "Pulumi.int.yaml"), path.join(dir, "Pulumi.int.yaml"));
      const env = {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${dir}/state`,
        PULUMI_CONFIG_PASSPHRASE: "test",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_HOME: path.join(dir, "home"),
      };
      execFileSync("mkdir", ["-p", `${dir}/state`]);
      execFileSync(cli, ["stack", "init", "int", "--non-interactive"], { cwd: dir, env, stdio: "ignore" });
      // a model rename, then two blue/green flips: the CLI's file and ours must hold the same config each time
      let ours = original;
      let serving = readServingYaml(original);
      for (const [model, version] of [
        ["other-model", "1"],
        ["other-model", "2"],
        ["other-model", "3"],
      ] as const) {
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
