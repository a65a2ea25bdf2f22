/**
 * The ML unit tests in the local virtualenv: `python -m pytest tests` from ml/ (where ml/pytest.ini lives),
 * after ml/data.txt passed its data check (dataCheck.ts: a malformed file is a DataError, pytest does not run).
 * Counts come from pytest's summary line. A suite that could not run at all (collection error, usage error)
 * throws with one line naming the first error.
 *
 * `runner` names the command for the test step's reuse key: the arguments, and a digest of the environment
 * variables of the caller that change what pytest runs or imports (never their values: they could hold secrets).
 * pytest's own start-up is not where the time goes (measured: autoloaded plugins, rootdir search and the cache
 * provider cost < 0.2 s CPU together, below run-to-run noise); the suite's imports (scikit-learn, MLflow) and its
 * subprocess tests do, see docs/local-target.md.
 */
import path from "node:path";
import { execa } from "execa";
import { sha256Hex } from "../../config/sha256.js";
import { EnvironmentError, UnitTestsFailedError } from "../core/errors.js";
import type { Progress, SharedTestRuns, TestPort } from "../core/ports.js";
import type { TestReport } from "../core/release.js";
import { checkTrainingData, TRAINING_DATA } from "./dataCheck.js";
import { firstPytestError, parsePytestSummary } from "./pytestSummary.js";
import type { PythonEnv } from "./pythonEnv.js";

const TAIL_LINES = 20;
/** What pytest is run with, from ml/ (ml/pytest.ini adds -q and -p no:cacheprovider). */
export const PYTEST_ARGS = ["-m", "pytest", "tests"] as const;
/** Set for every run: no bytecode written into ml/, and no tracking server of the shell reached by a unit test. */
export const PYTEST_ENV = { PYTHONDONTWRITEBYTECODE: "1", MLFLOW_TRACKING_URI: "" } as const;
/** Variables of the caller's environment that change which tests run or what they import. */
export const PYTEST_INFLUENCES = ["PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTHONPATH", "PYTHONHASHSEED", "PYTHONWARNINGS"];

/** The runner part of the test step's reuse key, for this process's environment. */
export function pytestRunner(env: NodeJS.ProcessEnv = process.env): string {
  const set = PYTEST_INFLUENCES.filter((k) => env[k] !== undefined);
  const envPart = set.length ? `; ${set.join(",")} sha256 ${sha256Hex(set.map((k) => `${k}=${env[k]}`).join("\n")).slice(0, 12)}` : "";
  return `python ${PYTEST_ARGS.join(" ")} (in ml/)${envPart}`;
}

export class PytestUnitTests implements TestPort {
  constructor(
    private readonly repoRoot: string,
    private readonly pythonEnv: () => Promise<PythonEnv>,
    /** the machine's ledger of finished runs (testRunLedger.ts), shared with checkouts of the same venv root */
    readonly shared?: SharedTestRuns,
  ) {}

  get runner(): string {
    return pytestRunner();
  }

  async runUnitTests(progress: Progress): Promise<TestReport & { outputTail: string }> {
    const env = await this.pythonEnv();
    progress.info(`checking ${TRAINING_DATA} (columns, numbers, rows)`);
    await checkTrainingData(env.python, this.repoRoot);
    const cwd = path.join(this.repoRoot, "ml");
    progress.info("running pytest in ml/ (ml/tests)");
    const started = Date.now();
    const r = await execa(env.python, [...PYTEST_ARGS], {
      cwd,
      reject: false,
      stdin: "ignore",
      all: true,
      env: PYTEST_ENV,
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
