/**
 * The source fingerprint: what determines a trained model (ML code, training data, Python environment) as
 * sha256 digests that are the same on every machine (relative POSIX paths, LF line endings, no mtimes), plus
 * the git commit for lineage. Shared by every target: the same fingerprint means "the same model would come out".
 *
 * The ML unit tests (ml/tests/**) are NOT part of the code digest: they do not change what is trained, so editing
 * a test never forces a retraining. They have their own digest (testsDigest), part of the test step's reuse key.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import type { SourcePort } from "../core/ports.js";
import type { SourceFingerprint } from "../core/release.js";
import { EnvironmentError } from "../core/errors.js";
import { parseCondaEnv } from "./condaEnv.js";
import { sha256Hex } from "../../config/sha256.js";

export const ML_DIR = "ml";
export const DATA_FILE = "ml/data.txt";
export const CONDA_FILE = "ml/conda.yml";
/**
 * The Azure ML training job's environment: ml/conda.yml's model-deciding pins plus azureml-mlflow (an Azure ML job
 * logs to an azureml:// tracking URI, which only that plugin can open). See docs/ml.md.
 */
export const AZURE_TRAINING_CONDA_FILE = "ml/azure-training-conda.yml";
/** The scoring script the inference server runs: part of what a deployment serves. */
export const SCORE_FILE = "ml/score.py";
/** Paths whose uncommitted changes make the fingerprint "dirty". */
export const FINGERPRINTED_PATHS = ["ml", "mlops.yaml"] as const;

const SKIPPED_DIRS = new Set(["tests", "__pycache__", ".pytest_cache", ".mypy_cache", ".ipynb_checkpoints", ".venv", "venv"]);

/** What running the code leaves under ml/ (MLflow's local store, see ml/.gitignore): outputs, never inputs of a test. */
const RUN_OUTPUT_DIRS = new Set(["mlruns", "mlartifacts"]);
const RUN_OUTPUT_FILES = new Set(["mlflow.db"]);

/** Text content with CRLF turned into LF, so a Windows checkout digests like a Linux one. */
export function normalizeText(buf: Buffer): Buffer {
  return buf.includes(13) ? Buffer.from(buf.toString("utf8").replace(/\r\n/g, "\n"), "utf8") : buf;
}

/** `ml/**\/*.py` except tests and caches, as sorted repo-relative POSIX paths. */
export async function listCodeFiles(repoRoot: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(repoRoot, rel), { withFileTypes: true });
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        // only ml/tests is excluded by name at the top level; caches are excluded anywhere
        if ((rel === ML_DIR && e.name === "tests") || (e.name !== "tests" && SKIPPED_DIRS.has(e.name))) continue;
        await walk(child);
      } else if (e.isFile() && e.name.endsWith(".py")) {
        out.push(child);
      }
    }
  };
  try {
    await walk(ML_DIR);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new EnvironmentError(`${ML_DIR}/ not found in ${repoRoot}; run mlops from the repository root`);
    throw e;
  }
  return out.sort();
}

/** sha256 over the sorted (path, content) pairs; each part is length-prefixed so boundaries cannot shift. */
export async function digestFiles(repoRoot: string, relPaths: readonly string[]): Promise<string> {
  const h = createHash("sha256");
  for (const rel of [...relPaths].sort()) {
    const content = normalizeText(await readFile(path.join(repoRoot, rel)));
    const p = Buffer.from(rel, "utf8");
    h.update(`${p.length}:`).update(p).update(`${content.length}:`).update(content);
  }
  return h.digest("hex");
}

/**
 * Everything under ml/ a test can read that no other digest covers: ml/tests/** (test modules, conftest.py,
 * fixtures) and ml/'s other files (pytest.ini, smoke.json, ...). Code (listCodeFiles), ml/data.txt and the conda
 * files have their own digests; caches and run outputs are left out. Sorted repo-relative POSIX paths.
 */
export async function listTestInputFiles(repoRoot: string): Promise<string[]> {
  const code = new Set(await listCodeFiles(repoRoot));
  const elsewhere = new Set<string>([DATA_FILE, CONDA_FILE, AZURE_TRAINING_CONDA_FILE]);
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(repoRoot, rel), { withFileTypes: true })) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!RUN_OUTPUT_DIRS.has(e.name) && (e.name === "tests" || !SKIPPED_DIRS.has(e.name))) await walk(child);
      } else if (e.isFile() && !code.has(child) && !elsewhere.has(child) && !RUN_OUTPUT_FILES.has(e.name) && !e.name.endsWith(".pyc")) {
        out.push(child);
      }
    }
  };
  await walk(ML_DIR);
  return out.sort();
}

export async function testsDigest(repoRoot: string): Promise<string> {
  return digestFiles(repoRoot, await listTestInputFiles(repoRoot));
}

export async function codeDigest(repoRoot: string): Promise<string> {
  return digestFiles(repoRoot, await listCodeFiles(repoRoot));
}

async function readRequired(repoRoot: string, rel: string, what: string): Promise<Buffer> {
  try {
    return normalizeText(await readFile(path.join(repoRoot, rel)));
  } catch {
    throw new EnvironmentError(`${rel} not found (${what}); run mlops from the repository root`);
  }
}

export async function dataDigest(repoRoot: string): Promise<string> {
  return sha256Hex(await readRequired(repoRoot, DATA_FILE, "the training data"));
}

/**
 * sha256 of one conda file plus the Python major.minor it declares. The declared version (not this machine's
 * python3) keeps the digest the same across machines and targets; the local target refuses a python3 that
 * does not match it, so the two cannot drift apart. For ml/conda.yml this keys the local virtualenv.
 */
export async function condaFileDigest(repoRoot: string, rel: string = CONDA_FILE): Promise<string> {
  const text = await readRequired(repoRoot, rel, "a Python environment");
  const env = parseCondaEnv(text.toString("utf8"), rel);
  return sha256Hex(text, `\npython=${env.python}\n`);
}

/**
 * The environment part of the fingerprint: every Python environment a model is trained in, so the same digest
 * means the same model on any target. ml/conda.yml (local training, scoring) and, when present,
 * ml/azure-training-conda.yml (the Azure ML training job): editing either changes the digest, so no earlier
 * training is reused after an environment change. Without the job file (a repository used only locally) the
 * digest is ml/conda.yml's alone; the Azure target refuses to train without it.
 */
export async function envDigest(repoRoot: string): Promise<string> {
  const local = await condaFileDigest(repoRoot, CONDA_FILE);
  if (!existsSync(path.join(repoRoot, AZURE_TRAINING_CONDA_FILE))) return local;
  const job = await condaFileDigest(repoRoot, AZURE_TRAINING_CONDA_FILE);
  return sha256Hex(`${CONDA_FILE}:${local}\n${AZURE_TRAINING_CONDA_FILE}:${job}\n`);
}

async function git(repoRoot: string, args: string[]): Promise<string | undefined> {
  const r = await execa("git", args, { cwd: repoRoot, reject: false, stdin: "ignore" });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

export async function gitState(repoRoot: string): Promise<{ gitCommit: string; gitDirty: boolean }> {
  const commit = await git(repoRoot, ["rev-parse", "HEAD"]);
  if (!commit) return { gitCommit: "unknown", gitDirty: false };
  const status = await git(repoRoot, ["status", "--porcelain", "--", ...FINGERPRINTED_PATHS]);
  return { gitCommit: commit, gitDirty: (status ?? "") !== "" };
}

export async function fingerprintSource(repoRoot: string): Promise<SourceFingerprint> {
  const [gs, code, data, env, serving, tests] = await Promise.all([
    gitState(repoRoot),
    codeDigest(repoRoot),
    dataDigest(repoRoot),
    envDigest(repoRoot),
    digestFiles(repoRoot, [SCORE_FILE]),
    testsDigest(repoRoot),
  ]);
  return { ...gs, codeDigest: code, dataDigest: data, envDigest: env, servingDigest: serving, testsDigest: tests };
}

export class FileSourceFingerprinter implements SourcePort {
  constructor(private readonly repoRoot: string) {}
  fingerprint(): Promise<SourceFingerprint> {
    return fingerprintSource(this.repoRoot);
  }
}
