/**
 * The azure target refuses rollout.shadow before it does anything (no credential, no Pulumi, no Azure call):
 * Azure ML does not mirror traffic on Kubernetes online endpoints, which PROD is (docs/azure-target.md).
 */
import { expect } from "chai";
import { parseReleaseConfig } from "../../../../driver/config/releaseConfig.js";
import { ConfigError } from "../../../../driver/core/errors.js";
import { createAzureTarget } from "../../../../driver/targets/azure/index.js";
import { refuseShadow } from "../../../../driver/targets/azure/azureStagedRollout.js";
import { silentProgress } from "../../../support/fakeTarget.js";

const base = { model: { name: "diabetes-ridge" }, gate: { metrics: { rmse: { greater_is_better: false, threshold: 60 } } } };

describe("azure target: rollout.shadow is refused in one line before anything runs", () => {
  it("createAzureTarget with shadow enabled fails with a ConfigError (exit 2) naming the key, without asking for a credential", async () => {
    const config = parseReleaseConfig({ ...base, rollout: { shadow: { enabled: true } } });
    let credentialAsked = false;
    const err = await createAzureTarget(
      { repoRoot: "/nonexistent", config, progress: silentProgress },
      {
        credential: {
          getToken: async () => {
            credentialAsked = true;
            return null;
          },
        },
      },
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).exitCode).to.equal(2);
    expect(err!.message).to.equal(
      "mlops.yaml: rollout.shadow.enabled: the azure target cannot mirror traffic (Azure ML does not support mirrored traffic on Kubernetes online endpoints, which PROD is); set it to false for --target azure",
    );
    expect(credentialAsked).to.equal(false);
  });

  it("shadow off (the default) is not refused", () => {
    expect(() => refuseShadow(parseReleaseConfig(base).rollout)).to.not.throw();
    expect(() => refuseShadow(parseReleaseConfig({ ...base, rollout: { shadow: { enabled: false, percent: 10 } } }).rollout)).to.not.throw();
  });
});
