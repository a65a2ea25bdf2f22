/**
 * The pulumi CLI the pipeline installs is the release of the @pulumi/pulumi SDK that package-lock.json pins: one
 * source of truth, so the engine that runs `up` is never older than the SDK the program and the Automation API
 * were built against (the Automation API itself only checks a floor, @pulumi/pulumi automation/minimumVersion.js).
 * The test runs the pipeline's own derivation line and compares it with the lock file.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { jobSteps, stepScript, type Pipeline } from "./pipelineSchema.js";

const REPO = path.resolve(import.meta.dirname, "../../..");

describe("pulumi CLI version in the pipeline", () => {
  const lockVersion = (): string =>
    (JSON.parse(readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> }).packages[
      "node_modules/@pulumi/pulumi"
    ]!.version;

  it("every CLI install step derives the version from the installed @pulumi/pulumi, which equals package-lock.json's", () => {
    const p = parse(readFileSync(path.join(REPO, "azure-pipelines.yml"), "utf8")) as Pipeline;
    const installs = p.stages
      .flatMap((s) => s.jobs.flatMap((j) => jobSteps(j)))
      .map((s) => stepScript(s) ?? "")
      .filter((t) => /get\.pulumi\.com/.test(t));
    expect(installs).to.have.length(2);
    for (const script of installs) {
      const line = script.split("\n").find((l) => /^\s*version=\$\(/.test(l));
      expect(line, "a 'version=$(...)' line before the install").to.be.a("string");
      expect(script).to.contain('--version "$version"');
      const derived = execFileSync("bash", ["-c", `${line!.trim()}\nprintf '%s' "$version"`], { cwd: REPO, encoding: "utf8" });
      expect(derived).to.equal(lockVersion());
    }
    expect(JSON.stringify(p.variables)).to.not.contain("PULUMI_VERSION");
  });
});
