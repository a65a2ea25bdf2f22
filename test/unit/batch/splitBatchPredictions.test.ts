/** The Azure batch deployment's predictions.csv split into the output and its errors file (RFC 4180 records). */
import { expect } from "chai";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { splitBatchPredictions } from "../../../driver/targets/azure/azureBatchScoring.js";

describe("azure batch scoring: splitting predictions.csv", () => {
  it("keeps quoted error texts whole (commas, quotes, line breaks) and counts rows, scored and failed", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mlops-split-"));
    try {
      const csv = [
        "rows.csv,1,151.25,",
        'rows.csv,2,,"bmi: not a number: ""x"", check line 2"',
        'rows.csv,3,,"age: wrong row\nspanning two lines"',
        "",
        "rows.csv,4,77.5,",
      ].join("\n");
      const out = path.join(dir, "scored.csv");
      const summary = await splitBatchPredictions(Readable.from([csv]), out, `${out}.errors.csv`);
      expect(summary).to.include({ files: 1, rows: 4, scored: 2, failed: 2 });
      expect(readFileSync(out, "utf8")).to.equal("file,row,prediction\nrows.csv,1,151.25\nrows.csv,4,77.5\n");
      expect(readFileSync(`${out}.errors.csv`, "utf8")).to.equal(
        'file,row,column,reason\nrows.csv,2,bmi,"not a number: ""x"", check line 2"\nrows.csv,3,age,"wrong row\nspanning two lines"\n',
      );
      expect(readdirSync(dir).sort()).to.deep.equal(["scored.csv", "scored.csv.errors.csv"]); // no temp file left
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
