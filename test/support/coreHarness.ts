/**
 * What the release-core tests share: a machine factory on the fake target with release ids unique per factory,
 * the rejection a test expects, and the common "champion in PROD, challenger approved" starting point.
 */
import type { ReleaseConfig } from "../../driver/config/releaseConfig.js";
import { ReleaseStateMachine } from "../../driver/core/releaseStateMachine.js";
import { FakeTarget, silentProgress } from "./fakeTarget.js";

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

/** v1 released to PROD and champion, on a new fake target (or `t`). */
export async function championInProd(machine: (t: FakeTarget) => ReleaseStateMachine, t = new FakeTarget()) {
  const m = machine(t);
  const r1 = await m.start();
  await m.approve(r1.id, "alice");
  await m.promote(r1.id);
  return { t, m, r1 };
}

/** v1 released and champion in PROD; then the code changes (and the metrics, unless null) and v2 is approved. */
export async function championThenApprovedChallenger(
  machine: (t: FakeTarget) => ReleaseStateMachine,
  metrics: FakeTarget["metrics"] | null = { rmse: 50, mae: 40, r2: 0.5 },
  target = new FakeTarget(),
) {
  const { t, m, r1 } = await championInProd(machine, target);
  t.fp = { ...t.fp, codeDigest: "code2" };
  if (metrics) t.metrics = metrics;
  const r2 = await m.start();
  await m.approve(r2.id, "alice");
  return { t, m, r1, r2 };
}
