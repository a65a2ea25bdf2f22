import { expect } from "chai";
import { BatchProgressBar, progressBar } from "../../../driver/batch/batchProgressBar.js";

function sink(isTTY: boolean): { out: string[]; stream: NodeJS.WritableStream & { isTTY: boolean } } {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WritableStream & { isTTY: boolean } };
}
const event = (rows: number, bytes: number) => ({ rows, scored: rows - 1, failed: 1, bytes, totalBytes: 1000, seconds: 2 });

describe("score-batch progress on stderr", () => {
  it("draws a bar of the bytes read, rows, failures and rate", () => {
    expect(progressBar(event(5000, 500), 10)).to.equal("[#####.....]  50% 5,000 rows (1 failed), 2,500 rows/s, 2.0s");
  });

  it("redraws one line in place on a terminal and ends it with a newline", () => {
    const { out, stream } = sink(true);
    const bar = new BatchProgressBar({ stream });
    bar.update(event(10, 100));
    bar.update(event(20, 200));
    bar.finish();
    expect(out.slice(0, 2).every((s) => s.startsWith("\r\x1b[2K"))).to.equal(true);
    expect(out[2]).to.equal("\n");
  });

  it("writes whole lines at most every few seconds when stderr is not a terminal (CI logs)", () => {
    const { out, stream } = sink(false);
    let now = 0;
    const bar = new BatchProgressBar({ stream, lineEveryMs: 5000, now: () => now });
    bar.update(event(10, 100));
    now = 1000;
    bar.update(event(20, 200));
    now = 6000;
    bar.update(event(30, 300));
    bar.finish();
    expect(out).to.have.length(2);
    expect(out.every((l) => l.startsWith("[mlops]   score-batch:") && l.endsWith("\n"))).to.equal(true);
  });
});
