/**
 * The GitHub Actions workflows linted with actionlint (Go module github.com/rhysd/actionlint, built into .tools/bin by
 * scripts/build-actionlint.sh), which checks workflow syntax, expressions and contexts, job outputs and needs,
 * action inputs (of popular actions and of the local composite action), and runs shellcheck on every `run:` step when
 * shellcheck is on PATH (Debian: `apt-get install shellcheck`). The composite action's own scripts, which actionlint
 * does not read, are run through shellcheck here.
 *
 * In CI (CI=true) a missing actionlint or shellcheck fails the test; elsewhere it is a pending test saying how to
 * get it.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { tempDir } from "../../support/tempDirs.js";

const REPO = path.resolve(import.meta.dirname, "../../..");
const inCi = /^(1|true)$/i.test(process.env.CI ?? "");

function actionlintBinary(): string | undefined {
  const local = path.join(REPO, ".tools", "bin", "actionlint");
  if (existsSync(local)) return local;
  const onPath = spawnSync("actionlint", ["-version"], { encoding: "utf8" });
  return onPath.status === 0 ? "actionlint" : undefined;
}

function shellcheckVersion(): string | undefined {
  const r = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? /version: (\S+)/.exec(r.stdout)?.[1] : undefined;
}

function workflowFiles(): string[] {
  const dir = path.join(REPO, ".github", "workflows");
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(".github", "workflows", f));
}

function actionlint(bin: string, cwd: string, files: string[]) {
  return spawnSync(bin, ["-no-color", "-oneline", ...files], { cwd, encoding: "utf8" });
}

describe("GitHub Actions workflows pass actionlint (with shellcheck on run: steps)", function () {
  this.timeout(120_000);
  const bin = actionlintBinary();
  const shellcheck = shellcheckVersion();
  before(function () {
    const missing = [
      ...(bin ? [] : ["actionlint (run 'bash scripts/build-actionlint.sh': Go module proxy, into .tools/bin)"]),
      ...(shellcheck ? [] : ["shellcheck (apt-get install shellcheck)"]),
    ];
    if (missing.length === 0) return;
    if (inCi) throw new Error(`CI must lint the workflows, but ${missing.join(" and ")} is missing`);
    console.log(`      PENDING: ${missing.join(" and ")} not installed; the workflows were not linted`);
    this.skip();
  });

  it("actionlint reports nothing on .github/workflows/*.yml", () => {
    const files = workflowFiles();
    expect(files).to.include.members([".github/workflows/release.yml", ".github/workflows/pull-request.yml", ".github/workflows/test.yml"]);
    const r = actionlint(bin!, REPO, files);
    expect(r.stdout + r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    console.log(
      `      (actionlint ${spawnSync(bin!, ["-version"], { encoding: "utf8" }).stdout.split("\n")[0]}, shellcheck ${shellcheck}: ${files.length} workflows clean)`,
    );
  });

  it("the linter catches what it is here for: a shellcheck finding, an undefined job output, untrusted input in a script", () => {
    const dir = tempDir("mlops-actionlint-");
    mkdirSync(path.join(dir, ".github", "workflows"), { recursive: true });
    spawnSync("git", ["init", "-q", dir]);
    writeFileSync(
      path.join(dir, ".github", "workflows", "bad.yml"),
      [
        "on: pull_request",
        "jobs:",
        "  release:",
        "    runs-on: ubuntu-24.04",
        "    outputs:",
        "      release-id: ${{ steps.release.outputs.release-id }}",
        "    steps:",
        "      - id: release",
        "        run: echo release-id=1 >> $GITHUB_OUTPUT",
        "  prod:",
        "    needs: release",
        "    runs-on: ubuntu-24.04",
        "    steps:",
        '      - run: echo "${{ needs.release.outputs.outcome }}"',
        '      - run: echo "${{ github.event.pull_request.title }}"',
        "",
      ].join("\n"),
    );
    const r = actionlint(bin!, dir, [".github/workflows/bad.yml"]);
    expect(r.status).to.equal(1);
    expect(r.stdout)
      .to.match(/SC2086/)
      .and.match(/\[shellcheck\]/);
    expect(r.stdout).to.match(/property "outcome" is not defined/);
    expect(r.stdout).to.match(/"github\.event\.pull_request\.title" is potentially untrusted/);
  });

  it("the composite action's bash steps pass shellcheck", () => {
    const action = parse(readFileSync(path.join(REPO, ".github", "actions", "setup", "action.yml"), "utf8")) as {
      runs: { steps: { run?: string; shell?: string }[] };
    };
    const scripts = action.runs.steps.filter((s) => s.run);
    expect(scripts.length).to.be.greaterThan(0);
    const dir = tempDir("mlops-shellcheck-");
    const findings = scripts.flatMap((s, i) => {
      expect(s.shell, "composite run steps name their shell").to.equal("bash");
      expect(s.run, "no ${{ }} expressions inside scripts: pass values through env").to.not.contain("${{");
      const file = path.join(dir, `step-${i}.sh`);
      writeFileSync(file, `#!/usr/bin/env bash\n${s.run}`);
      const r = spawnSync("shellcheck", ["-s", "bash", "-f", "gcc", file], { encoding: "utf8" });
      return r.status === 0 ? [] : [r.stdout.replaceAll(file, `setup step ${i}`)];
    });
    expect(findings.join("\n")).to.equal("");
  });
});
