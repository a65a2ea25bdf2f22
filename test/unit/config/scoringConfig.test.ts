import { expect } from "chai";
import { parseReleaseConfig, readReleaseConfig } from "../../../driver/config/releaseConfig.js";
import path from "node:path";

const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");

const base = { model: { name: "m" }, gate: { metrics: { rmse: { greater_is_better: false } } } };

describe("mlops.yaml scoring.maxRequestBytes (the 413 limit of the scoring front doors)", () => {
  it("defaults to 1 MiB when the section is left out, and the repo's mlops.yaml sets it", async () => {
    expect(parseReleaseConfig(base).scoring).to.deep.equal({ maxRequestBytes: 1_048_576 });
    expect((await readReleaseConfig(REPO_ROOT)).scoring.maxRequestBytes).to.equal(1_048_576);
    expect(parseReleaseConfig({ ...base, scoring: { maxRequestBytes: 65536 } }).scoring.maxRequestBytes).to.equal(65536);
  });

  const bad: Array<[unknown, RegExp]> = [
    [5, /scoring\.maxRequestBytes: must be >= 1024 bytes/],
    ["1MB", /scoring\.maxRequestBytes: must be a whole number of bytes, e\.g\. 1048576/],
    [1.5e3 + 0.5, /scoring\.maxRequestBytes: must be a whole number of bytes/],
    [2e9, /scoring\.maxRequestBytes: must be <= 104857600 bytes/],
  ];
  for (const [value, message] of bad) {
    it(`refuses ${JSON.stringify(value)} with one line naming the key`, () => {
      expect(() => parseReleaseConfig({ ...base, scoring: { maxRequestBytes: value } })).to.throw(message);
    });
  }

  it("refuses an unknown key in the section", () => {
    expect(() => parseReleaseConfig({ ...base, scoring: { maxBytes: 1 } })).to.throw(/scoring: Unrecognized key: "maxBytes"/);
  });
});
