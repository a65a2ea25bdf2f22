/**
 * release.yml's push path filters, matched the way GitHub documents them (docs "Workflow syntax for GitHub
 * Actions", on.push.paths and the Filter pattern cheat sheet: patterns match the whole path, `*` matches any
 * characters but `/`, `**` any characters, so a folder is `<folder>/**`). Every tracked file that changes what is
 * trained, deployed or allowed must start a release; docs, tests and the other CI system's file must not.
 */
import { expect } from "chai";
import { NOT_RELEASED as BASE_NOT_RELEASED, RELEASED_EXAMPLES } from "../../support/notReleased.js";
import { execFileSync } from "node:child_process";
import { githubPathFilter, REPO, workflow } from "./workflowSupport.js";

/** Tracked paths that do not change what a release trains, deploys or allows (azure-pipelines.yml is the other CI). */
const NOT_RELEASED = [...BASE_NOT_RELEASED, /^azure-pipelines\.yml$/, /^\.github\/workflows\/pull-request\.yml$/];

function triggers(file: string): boolean {
  const push = workflow("release.yml").on.push!;
  expect(push["paths-ignore"], "paths and paths-ignore cannot be combined for one event").to.equal(undefined);
  return (push.paths ?? []).map(githubPathFilter).some((m) => m(file));
}

describe("release.yml path filters (GitHub semantics)", () => {
  it("the matcher follows the documented semantics: '*' stays in one level, '**' crosses levels, a pattern matches the whole path", () => {
    expect(githubPathFilter("ml/*")("ml/train.py")).to.equal(true);
    expect(githubPathFilter("ml/*")("ml/tests/test_train.py")).to.equal(false);
    expect(githubPathFilter("ml/**")("ml/tests/test_train.py")).to.equal(true);
    expect(githubPathFilter("ml")("ml/train.py")).to.equal(false);
    expect(githubPathFilter("Pulumi.*.yaml")("Pulumi.prod.yaml")).to.equal(true);
    expect(githubPathFilter("Pulumi.*.yaml")("config/Pulumi.x.yaml")).to.equal(false);
  });

  it("an edit anywhere under driver/, ml/, components/, config/, policy/ or in the release workflow starts a release", () => {
    for (const f of [...RELEASED_EXAMPLES, ".github/workflows/release.yml", ".github/actions/setup/action.yml"]) {
      expect(triggers(f), f).to.equal(true);
    }
  });

  it("every tracked file that changes what is released starts a release; docs, tests and azure-pipelines.yml do not", () => {
    const files = execFileSync("git", ["ls-files"], { cwd: REPO, encoding: "utf8" }).split("\n").filter(Boolean);
    expect(files.filter((f) => !NOT_RELEASED.some((r) => r.test(f)) && !triggers(f))).to.deep.equal([]);
    for (const f of ["docs/github-actions.md", "test/unit/github/pathFilters.test.ts", "azure-pipelines.yml", "README.md"])
      expect(triggers(f), f).to.equal(false);
  });
});
