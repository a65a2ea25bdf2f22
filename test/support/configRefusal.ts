/** mlops.yaml tests: the smallest valid config, and the one-line ConfigError message a refused one gets. */
import { expect } from "chai";
import { parseReleaseConfig } from "../../driver/config/releaseConfig.js";
import { ConfigError } from "../../driver/core/errors.js";

export const MINIMAL_CONFIG = { model: { name: "diabetes-ridge" }, gate: { metrics: { rmse: { greater_is_better: false, threshold: 60 } } } };

/** The message `raw` is refused with: a ConfigError of one line; fails the test when `raw` is accepted. */
export function configRefusal(raw: unknown): string {
  try {
    parseReleaseConfig(raw);
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    expect((e as Error).message).to.not.include("\n");
    return (e as Error).message;
  }
  throw new Error("expected mlops.yaml to be refused");
}
