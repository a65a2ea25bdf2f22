/**
 * Reuse keys: what each reusable step of a release is keyed by, named input by input, so `mlops status <id>` can
 * show why a step was (or was not) reused. A step is reused only when every input equals that of an earlier run.
 *
 *   test     code, tests, data, environment, runner   (the newest finished test run with that key must have passed)
 *   train    code, data, environment                   (the training port tags its runs with these, see findReusable)
 *   profile  model version and sha256, serving code, environment, profile settings (see earlierProfile)
 */
import { createHash } from "node:crypto";
import type { SharedTestRun } from "./ports.js";
import type { Release, ReuseKey, SourceFingerprint, TestReport } from "./release.js";

/** What each named input of a key is the digest of (for `mlops status` and the docs). */
export const REUSE_INPUTS: Record<string, string> = {
  code: "ml/**/*.py outside ml/tests",
  tests: "ml/tests/** and ml/'s other files (pytest.ini, smoke.json)",
  data: "ml/data.txt",
  environment: "ml/conda.yml (+ ml/azure-training-conda.yml)",
  runner: "the command that runs the tests",
  serving: "ml/score.py",
  model: "registered version and sha256 of the model file",
  settings: "mlops.yaml profile settings",
};

export function reuseKey(inputs: Record<string, string>): ReuseKey {
  const h = createHash("sha256");
  for (const name of Object.keys(inputs).sort()) h.update(`${name}=${inputs[name]}\n`);
  return { digest: h.digest("hex"), inputs };
}

/**
 * The test step's key. Undefined when the fingerprint has no tests digest or the test port does not say how it
 * runs the tests: such a run is never reused (nothing is skipped on an input that cannot be compared).
 */
export function testsReuseKey(source: SourceFingerprint, runner: string | undefined): ReuseKey | undefined {
  if (source.testsDigest === undefined || !runner) return undefined;
  return reuseKey({ code: source.codeDigest, tests: source.testsDigest, data: source.dataDigest, environment: source.envDigest, runner });
}

/** The inputs the training port matches an earlier run on (code, data, environment). */
export function trainingReuseInputs(source: SourceFingerprint): Record<string, string> {
  return { code: source.codeDigest, data: source.dataDigest, environment: source.envDigest };
}

/**
 * The passing test run a release may reuse: the newest finished run with the same key, among this repository's
 * releases (by when their test step ended) and the run `shared` (the machine's ledger: other checkouts and
 * `mlops test`). If that newest run failed, nothing is reused (a failure with these inputs stands until the tests
 * run again). A reuse of a reuse names the run that actually ran the tests.
 */
export function reusableTests(key: ReuseKey, all: Release[], shared?: SharedTestRun): TestReport | undefined {
  const finished = all
    .filter((r) => r.testsKey?.digest === key.digest)
    // a step's endedAt is written only when it succeeded or failed; a run cut short by a crash has none, and so
    // has this release's own test step, which runStep saved as running before it asked
    .filter((r) => r.steps.test.endedAt !== undefined)
    .sort((a, b) => a.steps.test.endedAt!.localeCompare(b.steps.test.endedAt!));
  const newest = finished.at(-1);
  if (shared?.key.digest === key.digest && (!newest || shared.endedAt > newest.steps.test.endedAt!)) {
    if (shared.outcome !== "passed") return undefined;
    const { passed, failed, durationMs, ranBy, checkout } = shared;
    return { passed, failed, durationMs, reusedFrom: ranBy, reusedFromCheckout: checkout };
  }
  // a test step succeeds only when tests ran and none failed (runTestStep), or by reusing such a run
  if (!newest || newest.steps.test.status !== "succeeded" || !newest.tests) return undefined;
  return newest.tests.reusedFrom ? newest.tests : { ...newest.tests, reusedFrom: newest.id };
}

/** What a run of `mlops test` is recorded as having run it (a release records its id). */
export const MLOPS_TEST_RUN = "mlops test";

/** "release <id>", or "'mlops test'", and the checkout it ran in when that was another one. */
export function describeTestRun(tests: Pick<TestReport, "reusedFrom" | "reusedFromCheckout">): string {
  const who = tests.reusedFrom === MLOPS_TEST_RUN ? "'mlops test'" : `release ${tests.reusedFrom}`;
  return tests.reusedFromCheckout ? `${who} in ${tests.reusedFromCheckout}` : who;
}

/** The inputs that differ between two keys, by name (for a "not reused: tests changed" line). */
export function changedInputs(a: ReuseKey, b: ReuseKey): string[] {
  const names = new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)]);
  return [...names].filter((n) => a.inputs[n] !== b.inputs[n]).sort();
}
