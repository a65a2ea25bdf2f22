/**
 * A malformed ml/data.txt is a data error, not "dozens of failing unit tests": the test step checks the data first
 * (ml/extract.py --check in the project's Python environment) and reports one line naming the file, line and
 * column and what to fix, exit 2 (bad input), without running pytest; a release records it as rejected at test.
 * Runs the real CLI in a temp repository with the shared virtualenv (built on first use).
 */
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DataError } from "../../../driver/core/errors.js";
import { ensurePythonEnv } from "../../../driver/host/pythonEnv.js";
import { PytestUnitTests } from "../../../driver/host/pytestUnitTests.js";
import { runCli } from "../azure/support/cliAndTarget.js";
import { REPO, tempRepo } from "../azure/support/harness.js";
import { silentProgress } from "../../support/fakeTarget.js";

const VENV_ROOT = process.env.MLOPS_VENV_ROOT?.trim() || path.join(REPO, ".mlops", "venvs");

/** A copy of the repository whose ml/data.txt has line `line` rewritten by `edit`. */
function repoWithData(line: number, edit: (row: string) => string) {
  const repo = tempRepo();
  const file = path.join(repo.root, "ml", "data.txt");
  const lines = readFileSync(file, "utf8").split("\n");
  lines[line - 1] = edit(lines[line - 1]!);
  writeFileSync(file, lines.join("\n"));
  return repo;
}

describe("the test step checks ml/data.txt before the unit tests", function () {
  this.timeout(15 * 60_000); // the shared virtualenv is built once if it is missing

  before(async () => {
    await ensurePythonEnv({ repoRoot: REPO, venvRoot: VENV_ROOT, progress: silentProgress });
  });

  const cases: Array<[string, number, (row: string) => string, RegExp]> = [
    ["a non-number", 5, (r) => r.replace(/^(\d+),/, "$1x,"), /^mlops: ml\/data\.txt line 5, column 'age': '\d+x' is not a number; fix: make it a number/],
    [
      "a short row",
      9,
      (r) => r.split(",").slice(0, 10).join(","),
      /^mlops: ml\/data\.txt line 9, column 'target': expected 11 columns, found 10; fix: give line 9 exactly 11/,
    ],
    ["a missing column", 1, (r) => r.replace("s3,", ""), /^mlops: ml\/data\.txt line 1: missing column\(s\) 's3' in header; fix: the header must be exactly/],
  ];
  for (const [what, line, edit, expected] of cases) {
    it(`mlops test on ${what}: one line naming file, line, column and the fix; exit 2; pytest never ran`, async () => {
      const repo = repoWithData(line, edit);
      try {
        const r = await runCli(repo.root, { MLOPS_VENV_ROOT: VENV_ROOT }, "--quiet", "test");
        const lines = r.stderr.trimEnd().split("\n");
        expect(lines, r.stderr).to.have.length(1);
        expect(lines[0]).to.match(expected);
        expect(lines[0]).to.match(/the ML unit tests did not run/);
        expect(r.code).to.equal(2);
        expect(r.stdout).to.not.match(/passed|failed/);
      } finally {
        repo.cleanup();
      }
    });
  }

  it("the test port throws a DataError (so a release records the data, not the tests, as what failed)", async () => {
    const repo = repoWithData(3, (r) => r.replace(/,([\d.]+),/, ",,"));
    try {
      const tests = new PytestUnitTests(repo.root, () => ensurePythonEnv({ repoRoot: repo.root, venvRoot: VENV_ROOT, progress: silentProgress }));
      try {
        await tests.runUnitTests(silentProgress);
        expect.fail("expected a data error");
      } catch (e) {
        expect(e).to.be.instanceOf(DataError);
        expect((e as Error).message).to.match(/^ml\/data\.txt line 3, column 'sex': empty value; fix: fill in the sex value of line 3/);
      }
    } finally {
      repo.cleanup();
    }
  });
});
