/**
 * ml/conda.yml, read as the single source of the Python environment: the Python version it asks for and the
 * packages, turned into a pip requirements list (what a virtualenv can install). Conda-only packages other
 * than `python` and `pip` are translated to pip specs (`numpy=1.26` -> `numpy==1.26.*`), which holds for the
 * common scientific packages whose conda and PyPI names agree.
 */
import { parse } from "yaml";
import { ConfigError } from "../core/errors.js";

export interface CondaEnv {
  /** major.minor, e.g. "3.11" */
  python: string;
  /** pip requirement lines in file order */
  requirements: string[];
}

const PYTHON_SPEC = /^python\s*={1,2}\s*(\d+)\.(\d+)(?:\.[\d*]+)?$/;
const CONDA_SPEC = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\s*(={1,2}|>=|<=|>|<|!=)\s*([^\s=]+))?$/;

function condaToPip(spec: string, where: string): string {
  const m = CONDA_SPEC.exec(spec.trim());
  if (!m) throw new ConfigError(`${where}: dependency '${spec}' is not a package spec pip can install; use 'name' or 'name=version'`);
  const [, name, op, version] = m;
  if (!op) return name!;
  if (op === "=") return version!.includes("*") ? `${name}==${version}` : `${name}==${version}.*`;
  return `${name}${op}${version}`;
}

export function parseCondaEnv(text: string, where = "ml/conda.yml"): CondaEnv {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new ConfigError(`${where} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const deps = (raw as { dependencies?: unknown } | null)?.dependencies;
  if (!Array.isArray(deps)) throw new ConfigError(`${where}: 'dependencies' must be a list (python=3.x, pip, {pip: [...]})`);
  let python: string | undefined;
  const requirements: string[] = [];
  for (const d of deps) {
    if (typeof d === "string") {
      const s = d.trim();
      const py = PYTHON_SPEC.exec(s);
      if (py) python = `${py[1]}.${py[2]}`;
      else if (/^python\b/.test(s)) throw new ConfigError(`${where}: '${s}' must pin a version such as python=3.11`);
      else if (s !== "pip" && !/^pip\s*[=<>]/.test(s)) requirements.push(condaToPip(s, where));
    } else if (d && typeof d === "object" && "pip" in d) {
      const pip = (d as { pip: unknown }).pip;
      if (!Array.isArray(pip) || !pip.every((p) => typeof p === "string")) {
        throw new ConfigError(`${where}: 'pip' must be a list of requirement strings`);
      }
      requirements.push(...pip.map((p: string) => p.trim()).filter((p) => p !== ""));
    } else {
      throw new ConfigError(`${where}: unexpected dependency ${JSON.stringify(d)}; use strings or a {pip: [...]} entry`);
    }
  }
  if (!python) throw new ConfigError(`${where}: no python=<major.minor> dependency; add one, e.g. 'python=3.11'`);
  return { python, requirements };
}

/** The requirements file the virtualenv is installed from (deterministic: same conda.yml, same text). */
export function pipRequirementsText(env: CondaEnv, from = "ml/conda.yml"): string {
  return `# generated from ${from} by mlops; do not edit\n${env.requirements.join("\n")}\n`;
}

/**
 * What decides a trained model's bytes (model.pkl is a pickle of a scikit-learn pipeline holding numpy arrays):
 * these must be pinned exactly, and alike, in every environment that trains or serves the model.
 */
export const MODEL_BYTES_PACKAGES = ["scikit-learn", "numpy", "joblib"] as const;

const PIN = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;,]+)\s*$/;
const canonical = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, "-");

/** name -> exact version for every `name==version` requirement (PEP 503 names). */
export function exactPins(env: CondaEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of env.requirements) {
    const m = PIN.exec(r);
    if (m) out.set(canonical(m[1]!), m[2]!);
  }
  return out;
}

/**
 * Where two environments that must produce and read the same model disagree: the Python version, a package
 * pinned in both with different versions, or a model-deciding package not pinned exactly in one of them.
 * Empty when they agree.
 */
export function pinDrift(a: { file: string; env: CondaEnv }, b: { file: string; env: CondaEnv }): string[] {
  const out: string[] = [];
  if (a.env.python !== b.env.python) out.push(`python: ${a.file} has ${a.env.python}, ${b.file} has ${b.env.python}`);
  const pa = exactPins(a.env);
  const pb = exactPins(b.env);
  for (const name of MODEL_BYTES_PACKAGES) {
    for (const [file, pins] of [
      [a.file, pa],
      [b.file, pb],
    ] as const) {
      if (!pins.has(name)) out.push(`${name}: not pinned with == in ${file}`);
    }
  }
  for (const [name, va] of pa) {
    const vb = pb.get(name);
    if (vb !== undefined && vb !== va) out.push(`${name}: ${a.file} pins ${va}, ${b.file} pins ${vb}`);
  }
  return out;
}
