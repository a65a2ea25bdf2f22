/**
 * The Python environment on this machine (the local target's, and the azure target's ML unit tests): a virtualenv materialized from ml/conda.yml's pip list under
 * <venvRoot>/<conda file digest prefix>/. Another conda file of the repository can be materialized the same way
 * (`condaFile`), e.g. ml/azure-training-conda.yml for a test that runs the Azure ML job's entry point. The packages are
 * installed by uv (pinned, installed once per machine: ./uvTool.ts) or, when uv cannot be had, by pip (./venvBuild.ts).
 * A completion marker is written only after the install succeeded, so a half-built venv (crash, Ctrl-C, kill -9, failed
 * install) is discarded and rebuilt; while the digest is unchanged the venv is reused. A lock file serializes builders (CLI and tests may race); waiters reuse the finished venv.
 * `ensureRequirementsEnv` gives the same guarantees to a pinned requirements file (e.g. the test-only SDK oracle,
 * test/oracle/requirements.txt), keyed by the file's content and the Python version it is built with.
 */
import { sha256Hex } from "../../config/sha256.js";
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { EnvironmentError } from "../core/errors.js";
import type { Progress } from "../core/ports.js";
import { parseCondaEnv, pipRequirementsText, type CondaEnv } from "../source/condaEnv.js";
import { CONDA_FILE, condaFileDigest } from "../source/fingerprint.js";
import { acquireFileLock } from "./fileLock.js";
import { buildVenv, MARKER, type BuildSpec, type Marker } from "./venvBuild.js";

export interface PythonEnv {
  dir: string;
  digest: string;
  python: string;
  /** absolute path of a console script installed in the venv (pytest, mlflow, ...) */
  bin(name: string): string;
}

/** Rough cold-install time with pip on a 2-core machine (measured: see docs/local-target.md). */
const PIP_MINUTES = 5;

function envOf(dir: string, digest: string): PythonEnv {
  return { dir, digest, python: path.join(dir, "bin", "python"), bin: (name) => path.join(dir, "bin", name) };
}

async function readMarker(dir: string): Promise<Marker | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, MARKER), "utf8")) as Marker;
  } catch {
    return undefined;
  }
}

/** Where the virtualenvs live: `venvRoot` if given, else MLOPS_VENV_ROOT (shared across checkouts), else <repo>/.mlops/venvs. */
export function venvRootFor(repoRoot: string, venvRoot?: string): string {
  const envRoot = venvRoot ?? process.env.MLOPS_VENV_ROOT?.trim();
  return envRoot ? path.resolve(envRoot) : path.join(path.resolve(repoRoot), ".mlops", "venvs");
}

/** The interpreter used to create venvs: MLOPS_PYTHON, else python3. */
export function basePython(): string {
  return process.env.MLOPS_PYTHON?.trim() || "python3";
}

/** Fails with both versions named when python3 is not the major.minor conda.yml asks for. */
export async function checkPythonVersion(wanted: string, interpreter = basePython(), askedBy: string = CONDA_FILE): Promise<void> {
  const r = await execa(interpreter, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { reject: false, stdin: "ignore" });
  if (r.exitCode !== 0 || r.failed) {
    throw new EnvironmentError(`${interpreter} was not found or does not run; install Python ${wanted} or set MLOPS_PYTHON to its path`);
  }
  const have = r.stdout.trim();
  if (have !== wanted) {
    throw new EnvironmentError(
      `${askedBy} asks for Python ${wanted} but ${interpreter} is Python ${have}; install Python ${wanted} or set MLOPS_PYTHON to a Python ${wanted} interpreter`,
    );
  }
}

export interface EnsureEnvOptions {
  repoRoot: string;
  venvRoot: string;
  progress: Progress;
  /** how long to wait for another process building the same venv, default 30 min */
  lockTimeoutMs?: number;
  /** the repo-relative conda file to materialize, default ml/conda.yml */
  condaFile?: string;
  /** where the pinned uv is installed once (its tools venv uv-<version>/), default venvRoot */
  uvRoot?: string;
}

export async function readCondaEnv(repoRoot: string, condaFile: string = CONDA_FILE): Promise<CondaEnv> {
  let text: string;
  try {
    text = await readFile(path.join(repoRoot, condaFile), "utf8");
  } catch {
    throw new EnvironmentError(`${condaFile} not found in ${repoRoot}; it defines the Python environment`);
  }
  return parseCondaEnv(text, condaFile);
}

/** The venv for the current ml/conda.yml (or o.condaFile), created on first use. */
export async function ensurePythonEnv(o: EnsureEnvOptions): Promise<PythonEnv> {
  const condaFile = o.condaFile ?? CONDA_FILE;
  const digest = await condaFileDigest(o.repoRoot, condaFile);
  const dir = path.join(o.venvRoot, digest.slice(0, 16));
  const ready = async () => (await readMarker(dir))?.envDigest === digest && existsSync(path.join(dir, "bin", "python"));
  if (await ready()) return envOf(dir, digest);

  const conda = await readCondaEnv(o.repoRoot, condaFile);
  await checkPythonVersion(conda.python, basePython(), condaFile);
  const lock = await acquireFileLock(`${dir}.lock`, {
    what: "the Python environment",
    timeoutMs: o.lockTimeoutMs ?? 30 * 60_000,
    onWait: (pid) => o.progress.info(`waiting for process ${pid}, which is creating the Python environment`),
  });
  try {
    if (await ready()) return envOf(dir, digest);
    const spec: BuildSpec = {
      python: conda.python,
      requirementsText: pipRequirementsText(conda, condaFile),
      packages: conda.requirements.length,
      source: condaFile,
      pipMinutes: PIP_MINUTES,
    };
    await buildVenv(dir, digest, spec, { basePython: basePython(), uvRoot: o.uvRoot ?? o.venvRoot, progress: o.progress });
    return envOf(dir, digest);
  } finally {
    await lock.release();
  }
}

export interface EnsureRequirementsEnvOptions {
  /** absolute path of a pip requirements file (pinned versions, one per line) */
  requirementsFile: string;
  /** major.minor the venv must be built with; the base interpreter is checked against it */
  python: string;
  venvRoot: string;
  progress: Progress;
  /** shown while building with pip (rough cold minutes), default 2 */
  expectedMinutes?: number;
  lockTimeoutMs?: number;
  /** where the pinned uv is installed once, default venvRoot */
  uvRoot?: string;
}

/**
 * A venv for a requirements file, created on first use under <venvRoot>/<digest prefix>/: the digest covers the
 * file's content and the Python version, so an edited pin gives a new venv and an unchanged one is reused. Same
 * lock and completion marker as the project's own environment.
 */
export async function ensureRequirementsEnv(o: EnsureRequirementsEnvOptions): Promise<PythonEnv> {
  let text: string;
  try {
    text = await readFile(o.requirementsFile, "utf8");
  } catch {
    throw new EnvironmentError(`${o.requirementsFile} not found; it lists the packages of this Python environment`);
  }
  const digest = sha256Hex(text, `\npython=${o.python}\n`);
  const dir = path.join(o.venvRoot, digest.slice(0, 16));
  const ready = async () => (await readMarker(dir))?.envDigest === digest && existsSync(path.join(dir, "bin", "python"));
  if (await ready()) return envOf(dir, digest);

  const source = path.basename(path.dirname(o.requirementsFile)) + "/" + path.basename(o.requirementsFile);
  await checkPythonVersion(o.python, basePython(), source);
  const lock = await acquireFileLock(`${dir}.lock`, {
    what: `the Python environment of ${source}`,
    timeoutMs: o.lockTimeoutMs ?? 30 * 60_000,
    onWait: (pid) => o.progress.info(`waiting for process ${pid}, which is creating the Python environment of ${source}`),
  });
  try {
    if (await ready()) return envOf(dir, digest);
    const packages = text.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#")).length;
    const spec: BuildSpec = { python: o.python, requirementsText: text, packages, source, pipMinutes: o.expectedMinutes ?? 2 };
    await buildVenv(dir, digest, spec, { basePython: basePython(), uvRoot: o.uvRoot ?? o.venvRoot, progress: o.progress });
    return envOf(dir, digest);
  } finally {
    await lock.release();
  }
}
