/**
 * The training data checked before the ML unit tests run: `python ml/extract.py --check --data ml/data.txt` in the
 * project's Python environment (the same validator the extract step runs). A malformed file (a non-number, a
 * missing column, a short row) is a DataError naming the file, line and column and what to fix, instead of
 * surfacing as dozens of failing unit tests. The check only reads.
 */
import path from "node:path";
import { execa } from "execa";
import { DataError } from "../core/errors.js";

/** The training data, relative to the repository root (as the messages show it). */
export const TRAINING_DATA = "ml/data.txt";
const EXIT_DATA_ERROR = 2;

/**
 * Resolves when the data is valid. Throws DataError with extract.py's one line when it is not. When the check itself
 * cannot run (extract.py broken, an import error), it resolves: the unit tests that follow say what broke.
 */
export async function checkTrainingData(python: string, repoRoot: string): Promise<void> {
  const r = await execa(python, [path.join("ml", "extract.py"), "--check", "--data", TRAINING_DATA], {
    cwd: repoRoot,
    reject: false,
    stdin: "ignore",
    env: { PYTHONDONTWRITEBYTECODE: "1" },
  });
  if (r.exitCode !== EXIT_DATA_ERROR) return;
  const line = String(r.stderr ?? "")
    .trimEnd()
    .split("\n")
    .at(-1)
    ?.trim();
  if (!line?.startsWith(`${TRAINING_DATA}:`) && !line?.startsWith(`${TRAINING_DATA} `)) return;
  throw new DataError(`${line.slice(0, 600)}; the ML unit tests did not run: fix the data, then start a new release`);
}
