/**
 * The ML unit tests in the local virtualenv: `python -m pytest tests` from ml/ (where ml/pytest.ini lives),
 * after ml/data.txt passed its data check (dataCheck.ts: a malformed file is a DataError, pytest does not run).
 * Counts come from pytest's summary line. A suite that could not run at all (collection error, usage error)
 * throws with one line naming the first error.
 */
import path from "node:path";
import { execa } from "execa";
import { EnvironmentError, UnitTestsFailedError } from "../core/errors.js";
import type { Progress, TestPort } from "../core/ports.js";
import type { TestReport } from "../core/release.js";
import { checkTrainingData, TRAINING_DATA } from "./dataCheck.js";
import { firstPytestError, parsePytestSummary } from "./pytestSummary.js";
import type { PythonEnv } from "./pythonEnv.js";

const TAIL_LINES = 20;

export class PytestUnitTests implements TestPort {
  constructor(
    private readonly repoRoot: string,
    private readonly pythonEnv: () => Promise<PythonEnv>,
  ) {}

  async runUnitTests(progress: Progress): Promise<TestReport & { outputTail: string }> {
    const env = await this.pythonEnv();
    progress.info(`checking ${TRAINING_DATA} (columns, numbers, rows)`);
    await checkTrainingData(env.python, this.repoRoot);
    const cwd = path.join(this.repoRoot, "ml");
    progress.info("running pytest in ml/ (ml/tests)");
    const started = Date.now();
    const r = await execa(env.python, ["-m", "pytest", "tests"], {
      cwd,
      reject: false,
      stdin: "ignore",
      all: true,
      env: { PYTHONDONTWRITEBYTECODE: "1", MLFLOW_TRACKING_URI: "" },
    });
    const durationMs = Date.now() - started;
    const output = r.all ?? "";
    const outputTail = output.trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
    const counts = parsePytestSummary(output);
    const code = r.exitCode ?? -1;
    if (code === 2 || (counts && counts.errors > 0 && counts.passed + counts.failed === 0)) {
      const why = firstPytestError(output) ?? counts?.line ?? "interrupted";
      throw new UnitTestsFailedError(
        `the ML unit tests could not run (pytest exit ${code}): ${why.slice(0, 300)}; fix ml/tests or the code they import, then start a new release`,
      );
    }
    if (code === 3 || code === 4 || (code !== 0 && code !== 1 && code !== 5) || (code === 1 && !counts)) {
      const why = firstPytestError(output) ?? outputTail.split("\n").slice(-1)[0] ?? "";
      throw new EnvironmentError(
        `pytest could not run in the Python environment (exit ${code}): ${why.slice(0, 300)}; run it by hand: cd ml && ${env.python} -m pytest tests`,
      );
    }
    return { passed: counts?.passed ?? 0, failed: (counts?.failed ?? 0) + (counts?.errors ?? 0), durationMs, outputTail };
  }
}
