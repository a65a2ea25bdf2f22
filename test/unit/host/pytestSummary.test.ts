import { expect } from "chai";
import { firstPytestError, parsePytestSummary } from "../../../driver/host/pytestSummary.js";

describe("pytest summary parsing", () => {
  it("reads the quiet summary line", () => {
    expect(parsePytestSummary("....\n53 passed in 35.70s\n")).to.deep.include({ passed: 53, failed: 0, errors: 0, seconds: 35.7 });
  });

  it("reads failures, errors, skips and warnings in any order", () => {
    const c = parsePytestSummary("F..\n1 failed, 12 passed, 2 skipped, 3 warnings, 1 error in 3.21s");
    expect(c).to.deep.include({ passed: 12, failed: 1, errors: 1, skipped: 2 });
  });

  it("reads the framed summary of non-quiet mode", () => {
    expect(parsePytestSummary("==== 2 failed, 3 passed in 0.61s ====")).to.deep.include({ passed: 3, failed: 2 });
  });

  it("reads 'no tests ran' as zero counts and an interrupted collection as errors", () => {
    expect(parsePytestSummary("\nno tests ran in 0.01s\n")).to.deep.include({ passed: 0, failed: 0 });
    const out = "ERROR tests/test_x.py - ModuleNotFoundError: No module named 'foo'\n!!! Interrupted: 1 error during collection !!!\n1 error in 0.12s\n";
    expect(parsePytestSummary(out)).to.deep.include({ errors: 1, passed: 0 });
    expect(firstPytestError(out)).to.equal("ERROR tests/test_x.py - ModuleNotFoundError: No module named 'foo'");
  });

  it("takes the last summary line and ignores test output that merely mentions 'passed'", () => {
    expect(parsePytestSummary("the user passed 3 tests\n3 passed in 1s\n")).to.deep.include({ passed: 3 });
    expect(parsePytestSummary("nothing here\n")).to.equal(undefined);
  });
});
