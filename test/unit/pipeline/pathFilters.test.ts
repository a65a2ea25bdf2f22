/**
 * The CI trigger's path filters, matched the way Azure Pipelines documents them (MS Learn, "Build Azure Repos Git
 * or TFS Git repositories", CI triggers, Paths: paths are relative to the repository root and case-sensitive; a
 * path without wildcards names a folder (with everything in it) or a file; wildcards `*`, `**` and `?` are allowed
 * in path filters since Sprint 192 (Azure DevOps release notes, 2021-08-09), `*` matching within one folder level
 * and `**` across levels). Every tracked file that changes what is trained, deployed or allowed must trigger a run.
 */
import { expect } from "chai";
import { NOT_RELEASED as BASE_NOT_RELEASED, RELEASED_EXAMPLES } from "../../support/notReleased.js";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

const REPO = path.resolve(import.meta.dirname, "../../..");

/** One Azure Pipelines path filter as a predicate over repository paths. */
export function pathFilter(pattern: string): (file: string) => boolean {
  const p = pattern.replace(/^\/+/, "");
  if (!/[*?]/.test(p)) {
    const base = p.replace(/\/+$/, "");
    return (f) => f === base || f.startsWith(`${base}/`);
  }
  let re = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*" && p[i + 1] === "*") {
      re += p[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += p[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  const rx = new RegExp(`^${re}$`);
  return (f) => rx.test(f);
}

function includes(file: string, yamlText: string): boolean {
  const doc = parse(yamlText) as { trigger: { paths: { include: string[]; exclude?: string[] } } };
  const inc = doc.trigger.paths.include.map(pathFilter);
  const exc = (doc.trigger.paths.exclude ?? []).map(pathFilter);
  return inc.some((m) => m(file)) && !exc.some((m) => m(file));
}

/** Tracked paths that do not change what a release trains, deploys or allows (.github/ is the other CI system). */
const NOT_RELEASED = [/^\.github\//, ...BASE_NOT_RELEASED];

describe("azure-pipelines.yml path filters (Azure Pipelines semantics)", () => {
  const text = () => readFileSync(path.join(REPO, "azure-pipelines.yml"), "utf8");

  it("the matcher follows the documented semantics: a folder name is a prefix, '*' stays in one level, '**' crosses levels", () => {
    expect(pathFilter("ml")("ml/tests/test_train.py")).to.equal(true);
    expect(pathFilter("ml/*")("ml/train.py")).to.equal(true);
    expect(pathFilter("ml/*")("ml/tests/test_train.py")).to.equal(false);
    expect(pathFilter("ml/**")("ml/tests/test_train.py")).to.equal(true);
    expect(pathFilter("Pulumi.*.yaml")("Pulumi.prod.yaml")).to.equal(true);
    expect(pathFilter("Pulumi.*.yaml")("config/Pulumi.x.yaml")).to.equal(false);
  });

  it("an edit anywhere under driver/, ml/, components/, config/ or policy/ triggers the pipeline", () => {
    for (const f of RELEASED_EXAMPLES) {
      expect(includes(f, text()), f).to.equal(true);
    }
  });

  it("every tracked file that changes what is released triggers the pipeline; docs and tests do not", () => {
    const files = execFileSync("git", ["ls-files"], { cwd: REPO, encoding: "utf8" }).split("\n").filter(Boolean);
    const missed = files.filter((f) => !NOT_RELEASED.some((r) => r.test(f)) && !includes(f, text()));
    expect(missed).to.deep.equal([]);
    expect(includes("docs/azure-target.md", text())).to.equal(false);
  });
});
