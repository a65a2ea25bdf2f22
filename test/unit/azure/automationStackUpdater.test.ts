import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EnvironmentError } from "../../../driver/core/errors.js";
import { AutomationStackUpdater } from "../../../driver/pulumi/automationStackUpdater.js";
import { REPO } from "./support/harness.js";

/** The Automation API adapter against the real pulumi CLI from .tools/bin (skipped when it is not built). */
describe("Automation API stack updater with the real pulumi CLI", function () {
  this.timeout(60_000);
  let dir: string;
  let env: Record<string, string>;
  before(function () {
    const cli = path.join(REPO, ".tools", "bin", "pulumi");
    try {
      if (!existsSync(cli) || !execFileSync(cli, ["version"], { encoding: "utf8" }).startsWith("v3.")) this.skip();
    } catch {
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), "mlops-auto-"));
    symlinkSync(path.join(REPO, ".tools"), path.join(dir, ".tools"));
    writeFileSync(path.join(dir, "Pulumi.yaml"), "name: mlops\nruntime: nodejs\n");
    mkdirSync(path.join(dir, "state"));
    env = { PULUMI_BACKEND_URL: `file://${dir}/state`, PULUMI_CONFIG_PASSPHRASE: "test", PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_HOME: path.join(dir, "home") };
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
