import { expect } from "chai";
import type { Check } from "../../../driver/doctor/checkResult.js";
import { fail, ok, warn } from "../../../driver/doctor/checkResult.js";
import { doctorExitCode, renderLine, renderText, runChecks } from "../../../driver/doctor/runChecks.js";

describe("doctor check runner", () => {
  it("runs every check in order, even after a FAIL, and a check that throws becomes one FAIL line (first line only)", async () => {
    const seen: string[] = [];
    const checks: Check<{ n: number }>[] = [
      { name: "a", run: async (c) => (c.n++, fail("a", "broken", "fix a")) },
      { name: "b", run: async () => Promise.reject(new Error("socket hang up\n    at internal stack")) },
      { name: "c", run: async (c) => [ok("c[int]", `n=${c.n}`), warn("c[prod]", "hmm", "look")] },
    ];
    const rs = await runChecks(checks, { n: 0 }, (r) => seen.push(r.check));
    expect(seen).to.deep.equal(["a", "b", "c[int]", "c[prod]"]);
    expect(rs[1]).to.deep.equal({
      check: "b",
      status: "FAIL",
      detail: "the check itself failed: socket hang up",
      fix: "run again with MLOPS_DEBUG=1 and report it if it persists",
    });
    expect(rs[2]!.detail).to.equal("n=1");
    expect(doctorExitCode(rs)).to.equal(8);
    expect(doctorExitCode([ok("x", "y"), warn("z", "w")])).to.equal(0);
  });

  it("renders 'ok  ', 'warn', 'FAIL' lines with the fix after a semicolon, and a summary", () => {
    expect(renderLine(ok("node", "Node.js 22"))).to.equal("ok   node: Node.js 22");
    expect(renderLine(fail("port[int]", "5601 in use", "free it"))).to.equal("FAIL port[int]: 5601 in use; free it");
    expect(
      renderText([ok("a", "x"), warn("b", "y", "z"), fail("c", "d", "e")])
        .split("\n")
        .at(-1),
    ).to.equal("3 checks: 1 FAIL, 1 warn");
  });
});
