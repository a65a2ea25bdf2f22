/**
 * The release's test step (run by the state machine): reuses the passing run of an earlier release whose code,
 * tests, data, environment and test command are the same, or such a run another checkout sharing this machine's
 * Python environments recorded (the newest finished run with that key must have passed; see reuseKeys.ts), else
 * runs the ML unit tests through the test port. The key is recorded (saved) before the tests run, so a failed or
 * interrupted run with it is known too, and kept only if nothing it covers changed while they ran. `--no-reuse`
 * (release.noReuse) always runs them.
 */
import { UnitTestsFailedError } from "./errors.js";
import type { Progress, Target } from "./ports.js";
import type { Release, ReuseKey, TestReport } from "./release.js";
import { changedInputs, describeTestRun, reusableTests, testsReuseKey } from "./reuseKeys.js";

type TestTarget = Pick<Target, "source" | "tests">;

/** Returns the step's one-line detail; throws UnitTestsFailedError when a test failed or none ran. */
export async function runTestStep(r: Release, t: TestTarget & Pick<Target, "store">, progress: Progress, save: () => Promise<void>): Promise<string> {
  const key = testsReuseKey(await t.source.fingerprint(), t.tests.runner);
  if (key) r.testsKey = key;
  else delete r.testsKey;
  const earlier = key && !r.noReuse ? reusableTests(key, await t.store.list(), await t.tests.shared?.newest(key)) : undefined;
  if (key && earlier) {
    r.tests = earlier;
    const via = earlier.reusedFromCheckout && t.tests.shared ? `; shared through ${t.tests.shared.where}` : "";
    return `reused the passing run of ${describeTestRun(earlier)} (${earlier.passed} passed): ${Object.keys(key.inputs).join(", ")} unchanged${via}`;
  }
  await save();
  const { report, moved } = await runTestsAndRecord(t, progress, key, r.id);
  r.tests = { passed: report.passed, failed: report.failed, durationMs: report.durationMs };
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

/**
 * Runs the suite and, when the port shares runs and nothing the key covers changed while they ran, records the
 * outcome for other checkouts: a pass, a failure, or a suite that could not run (recorded as failed, then thrown).
 * `ranBy` names the run (a release id, or "mlops test"). A ledger that cannot be written costs a line, not the run.
 */
export async function runTestsAndRecord(
  t: TestTarget,
  progress: Progress,
  key: ReuseKey | undefined,
  ranBy: string,
): Promise<{ report: TestReport & { outputTail: string }; moved: string[] }> {
  // records the outcome unless what the key covers changed while the tests ran; returns what changed
  const record = async (outcome: { passed: number; failed: number; durationMs: number }): Promise<string[]> => {
    const after = key && testsReuseKey(await t.source.fingerprint(), t.tests.runner);
    const moved = key && after ? changedInputs(key, after) : [];
    if (!key || !after || moved.length > 0 || !t.tests.shared) return moved;
    const passed = outcome.failed === 0 && outcome.passed > 0;
    try {
      await t.tests.shared.record({ key, outcome: passed ? "passed" : "failed", ...outcome, ranBy });
    } catch (e) {
      progress.info(`could not record this test run in ${t.tests.shared.where} (${(e as Error).message}); other checkouts will run the tests again`);
    }
    return moved;
  };
  const started = Date.now();
  let report: TestReport & { outputTail: string };
  try {
    report = await t.tests.runUnitTests(progress);
  } catch (e) {
    await record({ passed: 0, failed: 0, durationMs: Date.now() - started }).catch(() => undefined);
    throw e;
  }
  const moved = await record({ passed: report.passed, failed: report.failed, durationMs: report.durationMs });
  return { report, moved };
}
