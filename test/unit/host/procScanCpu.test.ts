import { expect } from "chai";
import { cpuTimeMs, hasProc } from "../../../driver/host/procScan.js";

describe("procScan.cpuTimeMs (the benches' CPU per request)", function () {
  before(function () {
    if (!hasProc()) this.skip();
  });

  it("grows by the CPU this process spends, and is undefined for a process that does not exist", () => {
    const before = cpuTimeMs(process.pid)!;
    const started = process.cpuUsage();
    let x = 0;
    while (process.cpuUsage(started).user < 150_000) x += Math.sqrt(x + 1); // 150 ms of CPU
    const after = cpuTimeMs(process.pid)!;
    expect(x).to.be.greaterThan(0);
    expect(after - before).to.be.within(100, 1_000);
    expect(cpuTimeMs(2 ** 22 + 1)).to.equal(undefined);
  });
});
