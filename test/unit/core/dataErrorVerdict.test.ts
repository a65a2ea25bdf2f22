/**
 * A data error found by the test step (ml/data.txt malformed) ends the release as a recorded verdict about the
 * data: rejected at `test` with the data error's code and one line, nothing trained; not a resumable failure
 * (the data must change, and a changed data digest needs a new release).
 */
import { expect } from "chai";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { DataError, EXIT } from "../../../driver/core/errors.js";
import { ReleaseStateMachine } from "../../../driver/core/releaseStateMachine.js";
import { FakeTarget, silentProgress } from "../../support/fakeTarget.js";

const config = parseReleaseConfig({
  model: { name: "diabetes-ridge" },
  gate: { mode: "enabled", metrics: { rmse: { greater_is_better: false, threshold: 60 } } },
});

describe("a data error at the test step (core, with fake ports)", () => {
  it("rejects the release at test with the data error's line, code 'data' and exit 2; nothing is trained", async () => {
    const t = new FakeTarget();
    const line = "ml/data.txt line 5, column 'age': '24x' is not a number; fix: make it a number";
    t.tests.runUnitTests = async () => {
      throw new DataError(line);
    };
    const m = new ReleaseStateMachine({ target: t, config, progress: silentProgress, newId: () => "rel-20261127-140000-abcd" });
    let err: unknown;
    try {
      await m.start();
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(DataError);
    expect((err as DataError).exitCode).to.equal(EXIT.badInput);
    const r = await t.store.load("rel-20261127-140000-abcd");
    expect(r.state).to.equal("rejected");
    expect(r.steps.test.error).to.deep.equal({ code: "data", message: line });
    expect(r.steps.train.status).to.equal("pending");
    expect(t.runs).to.have.length(0);
  });
});
