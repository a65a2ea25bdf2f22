/**
 * What the release-core tests share: a machine factory on the fake target with release ids unique per factory,
 * the rejection a test expects, and the common "champion in PROD, challenger approved" starting point.
 */
import type { ReleaseConfig } from "../../driver/config/releaseConfig.js";
import { ReleaseStateMachine } from "../../driver/core/releaseStateMachine.js";
import { silentProgress, type FakeTarget } from "./fakeTarget.js";

/** `(t, cfg?) => machine` whose release ids are rel-<stamp><nn>-abcd, nn counting up (two digits). */
export function machineFactory(config: ReleaseConfig, stamp: string): (t: FakeTarget, cfg?: ReleaseConfig) => ReleaseStateMachine {
  let seq = 0;
  return (t, cfg = config) =>
    new ReleaseStateMachine({ target: t, config: cfg, progress: silentProgress, newId: () => `rel-${stamp}${String(seq++ % 100).padStart(2, "0")}-abcd` });
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}
