/**
 * The bash the pipeline runs (script steps and AzureCLI@2 bash inline scripts), linted with shellcheck. Azure
 * Pipelines replaces `$(Name)` macros before the script runs (MS Learn, "Define variables", macro syntax), so they
 * are replaced by plain words first. Skipped, with the reason printed, when shellcheck is not installed
 * (Debian: `apt-get install shellcheck`).
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { jobName, jobSteps, stepScript, type Pipeline } from "./pipelineSchema.js";
import { tempDir } from "../../support/tempDirs.js";

const REPO = path.resolve(import.meta.dirname, "../../..");

function shellcheckVersion(): string | undefined {
  const r = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? /version: (\S+)/.exec(r.stdout)?.[1] : undefined;
}

describe("azure-pipelines.yml scripts pass shellcheck", function () {
  this.timeout(60_000);
  const version = shellcheckVersion();
  before(function () {
    if (!version) {
      // CI installs it (.ci/run): there a missing linter is a failure, never a silent pass
      if (process.env.CI)
        throw new Error("shellcheck is not installed, so the pipeline's bash cannot be linted; .ci/run installs it (apt-get install shellcheck)");
      console.log("      SKIPPED: shellcheck is not installed (apt-get install shellcheck); the pipeline's bash was not linted");
      this.skip();
    }
  });

  it("every script step and bash inline script is clean (macros replaced as Azure Pipelines does)", () => {
    const p = parse(readFileSync(path.join(REPO, "azure-pipelines.yml"), "utf8")) as Pipeline;
    const dir = tempDir("mlops-shellcheck-");
    const findings: string[] = [];
    let n = 0;
    for (const st of p.stages) {
      for (const j of st.jobs) {
        for (const s of jobSteps(j)) {
          const script = stepScript(s);
          if (!script) continue;
          const file = path.join(dir, `${st.stage}-${jobName(j)}-${++n}.sh`);
          writeFileSync(
            file,
            `#!/usr/bin/env bash\n${script.replace(/\$\(([A-Za-z_][\w.]*)\)/g, (_m, name: string) => `adomacro_${name.replace(/\./g, "_")}`)}`,
          );
          const r = spawnSync("shellcheck", ["-s", "bash", "-f", "gcc", file], { encoding: "utf8" });
          if (r.status !== 0) findings.push(`${st.stage}/${jobName(j)} step "${s.displayName ?? n}":\n${r.stdout.replaceAll(file, "script")}`);
        }
      }
    }
    expect(n).to.be.greaterThan(5);
    expect(findings.join("\n")).to.equal("");
    console.log(`      (shellcheck ${version}: ${n} scripts clean)`);
  });
});
