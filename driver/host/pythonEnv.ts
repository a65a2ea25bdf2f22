/**
 * The Python environment on this machine (the local target's, and the azure target's ML unit tests): a virtualenv materialized from ml/conda.yml's pip list under
 * <venvRoot>/<conda file digest prefix>/. Another conda file of the repository can be materialized the same way
 * (`condaFile`), e.g. ml/azure-training-conda.yml for a test that runs the Azure ML job's entry point. A completion marker is written only after pip succeeded, so a half-built
 * venv (crash, Ctrl-C, failed install) is discarded and rebuilt; while the digest is unchanged the venv is
 * reused. A lock file serializes builders (CLI and tests may race); waiters reuse the finished venv.
 * `ensureRequirementsEnv` gives the same guarantees to a pinned requirements file (e.g. the test-only SDK oracle,
 * test/oracle/requirements.txt), keyed by the file's content and the Python version it is built with.
 */
import { sha256Hex } from "../../config/sha256.js";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { EnvironmentError } from "../core/errors.js";
import type { Progress } from "../core/ports.js";
import { parseCondaEnv, pipRequirementsText, type CondaEnv } from "../source/condaEnv.js";
import { CONDA_FILE, condaFileDigest } from "../source/fingerprint.js";
import { acquireFileLock } from "./fileLock.js";

export interface PythonEnv {
  dir: string;
  digest: string;
  python: string;
  /** absolute path of a console script installed in the venv (pytest, mlflow, ...) */
  bin(name: string): string;
}

interface Marker {
  envDigest: string;
  python: string;
  createdAt: string;
  installSeconds: number;
}

const MARKER = ".mlops-complete.json";
/** Rough cold-install time on a 2-core machine (measured: see docs/local-target.md). */
const EXPECTED_MINUTES = 5;

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
    await build(
      dir,
      digest,
      {
        python: conda.python,
        requirementsText: pipRequirementsText(conda, condaFile),
        packages: conda.requirements.length,
        source: condaFile,
        expectedMinutes: EXPECTED_MINUTES,
      },
      o.progress,
    );
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
  /** shown while building, e.g. "~1 min" */
  expectedMinutes?: number;
  lockTimeoutMs?: number;
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
    await build(dir, digest, { python: o.python, requirementsText: text, packages, source, expectedMinutes: o.expectedMinutes ?? 2 }, o.progress);
    return envOf(dir, digest);
  } finally {
    await lock.release();
  }
}

interface BuildSpec {
  /** major.minor the venv is built with (recorded in the marker) */
  python: string;
  /** the pip requirements file's content */
  requirementsText: string;
  packages: number;
  /** what the packages come from, for messages (ml/conda.yml, test/oracle/requirements.txt) */
  source: string;
  expectedMinutes: number;
}

async function build(dir: string, digest: string, spec: BuildSpec, progress: Progress): Promise<void> {
  const started = Date.now();
  if (existsSync(dir)) progress.info(`discarding an incomplete Python environment in ${dir}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  progress.info(`creating Python environment (first run, ~${spec.expectedMinutes} min): ${spec.packages} packages from ${spec.source} into ${dir}`);
  const venv = await execa(basePython(), ["-m", "venv", dir], { reject: false, stdin: "ignore", all: true });
  if (venv.exitCode !== 0) {
    throw new EnvironmentError(`'${basePython()} -m venv' failed: ${lastLine(venv.all ?? "")}; install the venv module (e.g. python3-venv)`);
  }
  const reqFile = path.join(dir, "requirements.txt");
  await writeFile(reqFile, spec.requirementsText);
  const logFile = path.join(dir, "pip-install.log");
  const pip = execa(path.join(dir, "bin", "python"), ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", reqFile], {
    reject: false,
    stdin: "ignore",
    all: true,
    env: { PIP_NO_INPUT: "1" },
  });
  let collected = 0;
  let lastReport = Date.now();
  const log: string[] = [];
  for await (const line of pip.iterable({ from: "all" })) {
    const text = String(line);
    log.push(text);
    if (text.startsWith("Collecting ")) collected += 1;
    if (text.startsWith("Installing collected packages")) progress.info(`installing ${text.split(",").length} packages (${secs(started)})`);
    else if (Date.now() - lastReport > 15_000) {
      progress.info(`still resolving and downloading packages: ${collected} collected (${secs(started)})`);
      lastReport = Date.now();
    }
  }
  const r = await pip;
  await writeFile(logFile, log.join("\n"));
  if (r.exitCode !== 0) {
    const err = log.filter((l) => /^ERROR:/.test(l)).slice(-1)[0] ?? lastLine(log.join("\n"));
    // leave no marker: the next run discards this directory and starts over
    throw new EnvironmentError(`pip could not install ${spec.source}'s packages: ${err.slice(0, 300)} (full log: ${logFile})`);
  }
  const marker: Marker = {
    envDigest: digest,
    python: spec.python,
    createdAt: new Date().toISOString(),
    installSeconds: Math.round((Date.now() - started) / 1000),
  };
  await writeFile(path.join(dir, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  progress.info(`Python environment ready in ${secs(started)}`);
}

const secs = (since: number) => `${Math.round((Date.now() - since) / 1000)}s`;
const lastLine = (s: string) => s.trim().split("\n").slice(-1)[0] ?? "";
