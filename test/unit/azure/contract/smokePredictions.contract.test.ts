/**
 * Contract tests (against the loopback Azure fakes): the Azure smoke test's check of the predictions. The
 * endpoint answers HTTP 200 with wrong predictions; validate-int must fail on the check of the answer, and the
 * release must not reach the approval hold.
 */
import { expect } from "chai";
import { azureMachine } from "../support/cliAndTarget.js";
import { FakeStackUpdater, fakeAzureEachTest, RELEASE_KEYS } from "../support/harness.js";

describe("azure smoke test's check of the predictions (contract test against the loopback Azure fakes)", function () {
  this.timeout(30_000);
  const az = fakeAzureEachTest({ endpointKeys: RELEASE_KEYS });

  async function release() {
    const { m, target } = await azureMachine(az.repo.root, az.fake, new FakeStackUpdater(az.repo.root, az.fake), (c) => ({
      ...c,
      profile: { ...c.profile, enabled: false },
    }));
    const err = await m.start().then(
      () => undefined,
      (e: Error) => e,
    );
    const [r] = await target.store.list();
    return { err, r: r! };
  }

  for (const [kind, why] of [
    ["out-of-range", /^int validation failed: smoke test failed: prediction 0 is 9999, outside \[12.5, 519\]$/],
    ["missing", /^int validation failed: smoke test failed: the answer has no predictions array: \{"result":"ok"\}$/],
    ["one-short", /^int validation failed: smoke test failed: 1 predictions for 2 rows$/],
    ["not-finite", /^int validation failed: smoke test failed: prediction 0 is "NaN", not a finite number$/],
  ] as const) {
    it(`contract test: ${kind} predictions (HTTP 200) fail validate-int and the release does not await approval`, async () => {
      az.fake.answerPredictions(kind);
      const { err, r } = await release();
      expect(err?.message).to.match(why);
      expect(r.state).to.equal("failed");
      expect(r.steps["deploy-int"].status).to.equal("succeeded");
      expect(r.steps["validate-int"].status).to.equal("failed");
      expect(r.validations.int).to.include({ healthy: false });
    });
  }
});
