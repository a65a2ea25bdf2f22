/**
 * What the Python-environment tests share: a progress that keeps the info lines, the machine's uv (installed once
 * into the shared venv root, as the CLI does, so a test's temporary venv root does not fetch it again), and the
 * version of the machine's python3.
 */
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { Progress } from "../../driver/core/ports.js";
import { venvRootFor } from "../../driver/host/pythonEnv.js";

export const SHARED_UV_ROOT = venvRootFor(fileURLToPath(new URL("../../", import.meta.url)));

/** A progress that records each info line (steps are not printed by the environment code). */
export function infoRecorder(): Progress & { lines: string[] } {
  return {
    lines: [],
    stepStarted() {},
    stepFinished() {},
    info(m: string) {
      this.lines.push(m);
    },
  };
}

/** "3.11": the major.minor of the python3 on PATH. */
export async function python3Version(): Promise<string> {
  return (await execa("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])).stdout.trim();
}
