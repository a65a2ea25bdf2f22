/**
 * Contract tests (against the loopback Azure fakes): the Azure smoke test's check of the predictions. The
 * endpoint answers HTTP 200 with wrong predictions; validate-int must fail on the check of the answer, and the
 * release must not reach the approval hold.
 */
import { expect } from "chai";
import { readReleaseConfig } from "../../../../driver/config/releaseConfig.js";
import { ReleaseStateMachine } from "../../../../driver/core/releaseStateMachine.js";
import type { Target } from "../../../../driver/core/ports.js";
import { createAzureTarget } from "../../../../driver/targets/azure/index.js";
import { FakeCredential } from "../support/fakeCredential.js";
import { FakeStackUpdater, RecordingProgress, settingsFor, fakeAzureEachTest, RELEASE_KEYS } from "../support/harness.js";

describe("azure smoke test's check of the predictions (contract test against the loopback Azure fakes)", function () {
  this.timeout(30_000);
  const az = fakeAzureEachTest({ endpointKeys: RELEASE_KEYS });

  async function release() {
    const progress = new RecordingProgress();
    const config = { ...(await readReleaseConfig(az.repo.root)), profile: { ...(await readReleaseConfig(az.repo.root)).profile, enabled: false } };
    const t = await createAzureTarget(
      { repoRoot: az.repo.root, config, progress },
      {
        credential: new FakeCredential(),
        updater: new FakeStackUpdater(az.repo.root, az.fake),
        settings: settingsFor(az.fake),
        blobUrlFor: (a) => `${az.fake.url}/${a}`,
      },
    );
    const target: Target = { ...t, tests: { runUnitTests: async () => ({ passed: 12, failed: 0, durationMs: 10, outputTail: "12 passed" }) } };
    const m = new ReleaseStateMachine({ target, config, progress });
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
