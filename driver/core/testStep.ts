/**
 * The release's test step (run by the state machine): reuses the passing run of an earlier release whose code,
 * tests, data, environment and test command are the same (the newest finished run with that key must have
 * passed; see reuseKeys.ts), else runs the ML unit tests through the test port. The key is recorded (saved) before
 * the tests run, so a failed or interrupted run with it is known too, and kept only if nothing it covers changed
 * while they ran. `--no-reuse` (release.noReuse) always runs them.
 */
import { UnitTestsFailedError } from "./errors.js";
import type { Progress, Target } from "./ports.js";
import type { Release } from "./release.js";
import { changedInputs, reusableTests, testsReuseKey } from "./reuseKeys.js";

/** Returns the step's one-line detail; throws UnitTestsFailedError when a test failed or none ran. */
export async function runTestStep(r: Release, t: Pick<Target, "source" | "tests" | "store">, progress: Progress, save: () => Promise<void>): Promise<string> {
  const key = testsReuseKey(await t.source.fingerprint(), t.tests.runner);
  const earlier = key && !r.noReuse ? reusableTests(key, await t.store.list()) : undefined;
  if (key) r.testsKey = key;
  else delete r.testsKey;
  if (key && earlier) {
    r.tests = { ...earlier.tests, reusedFrom: earlier.id };
    return `reused the passing run of release ${earlier.id} (${earlier.tests.passed} passed): ${Object.keys(key.inputs).join(", ")} unchanged`;
  }
  await save();
  const report = await t.tests.runUnitTests(progress);
  r.tests = { passed: report.passed, failed: report.failed, durationMs: report.durationMs };
  const after = key && testsReuseKey(await t.source.fingerprint(), t.tests.runner);
  const moved = key && after ? changedInputs(key, after) : [];
  if (moved.length > 0) delete r.testsKey;
  if (report.failed > 0 || report.passed === 0) {
    const tail = report.outputTail.trim().split("\n").pop()!; // split gives at least one element
    throw new UnitTestsFailedError(
      `${report.failed} ML unit test(s) failed${report.failed === 0 ? " (no tests ran)" : ""}; nothing was trained: fix the tests under ml/tests and start a new release${tail ? ` (${tail})` : ""}`,
    );
  }
  const why = r.noReuse ? " (--no-reuse)" : moved.length > 0 ? ` (not reusable: ${moved.join(", ")} changed while the tests ran)` : "";
  return `${report.passed} passed in ${(report.durationMs / 1000).toFixed(1)}s${why}`;
}
