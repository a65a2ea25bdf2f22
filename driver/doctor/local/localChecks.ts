/**
 * `mlops doctor` for the local target: what a local release needs from this machine.
 *
 * - node: the running Node.js is the major bin/mlops.js requires (22).
 * - python: the interpreter that creates venvs (MLOPS_PYTHON or python3) is the major.minor ml/conda.yml pins
 *   (host/pythonEnv.ts checkPythonVersion, the check a release makes).
 * - venv: the digest-keyed venv for the current ml/conda.yml under MLOPS_VENV_ROOT (or .mlops/venvs): built
 *   (completion marker for this digest), half-built (rebuilt on next use) or not built yet (built on first use: under a minute with uv, ~5 min with pip).
 * - ports: each of mlops.yaml local.ports free, or held by the project's own service (localServicesStatus).
 * - disk: free space where the venv and the MLflow store go. A built venv of this project measured 0.5-0.9 GB
 *   (two conda.yml digests on the CI machine, 2026-12-02): doctor asks for 1.5 GB when the venv is not built, and
 *   0.5 GB for the MLflow store and logs (an estimate: a model version is a few MB).
 * - approvers[prod]: who may approve for PROD and what a local approval records (approversCheck.ts).
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { CONDA_FILE, envDigest } from "../../source/fingerprint.js";
import type { ReleaseConfig } from "../../config/releaseConfig.js";
import { checkPythonVersion, readCondaEnv } from "../../host/pythonEnv.js";
import type { LocalPaths } from "../../targets/local/localPaths.js";
import type { LocalServiceStatus } from "../../targets/local/localServices.js";
import type { Check, CheckResult } from "../checkResult.js";
import { fail, ok, warn } from "../checkResult.js";
import { approversCheck } from "./approversCheck.js";

export const MIN_NODE_MAJOR = 22;
export const VENV_BYTES = 1.5 * 1024 ** 3;
export const STORE_BYTES = 0.5 * 1024 ** 3;
/** host/pythonEnv.ts writes it after pip succeeded */
const VENV_MARKER = ".mlops-complete.json";

export interface LocalDoctorDeps {
  nodeVersion: string;
  /** the interpreter venvs are made with (MLOPS_PYTHON or python3) */
  python: string;
  isPortFree(port: number): Promise<boolean>;
  servicesStatus(): Promise<LocalServiceStatus[]>;
  /** free bytes and device id of the filesystem holding `dir` (the nearest existing ancestor) */
  freeSpace(dir: string): Promise<{ free: number; device: number }>;
}

export interface LocalDoctorContext {
  repoRoot: string;
  config: ReleaseConfig;
  paths: LocalPaths;
  deps: LocalDoctorDeps;
  venvBuilt?: boolean;
}

const gb = (n: number): string => `${(n / 1024 ** 3).toFixed(1)} GB`;

export const nodeCheck: Check<LocalDoctorContext> = {
  name: "node",
  async run(ctx) {
    const v = ctx.deps.nodeVersion.replace(/^v/, "");
    const major = Number(v.split(".")[0]);
    return major >= MIN_NODE_MAJOR
      ? ok("node", `Node.js ${v}`)
      : fail(
          "node",
          `Node.js ${v} is older than ${MIN_NODE_MAJOR}`,
          "run mlops through npx or the npm scripts, which use the project's own Node 22 (npm ci installs it)",
        );
  },
};

export const pythonCheck: Check<LocalDoctorContext> = {
  name: "python",
  async run(ctx) {
    const conda = await readCondaEnv(ctx.repoRoot);
    try {
      await checkPythonVersion(conda.python, ctx.deps.python);
    } catch (e) {
      const [what, fix] = (e as Error).message.split(/;\s*/, 2);
      return fail("python", what!, fix ?? `install Python ${conda.python}`);
    }
    return ok("python", `${ctx.deps.python} is Python ${conda.python}, as ${CONDA_FILE} asks`);
  },
};

export const venvCheck: Check<LocalDoctorContext> = {
  name: "venv",
  async run(ctx) {
    const digest = await envDigest(ctx.repoRoot);
    const dir = path.join(ctx.paths.venvRoot, digest.slice(0, 16));
    let marker: { envDigest?: string; createdAt?: string; installSeconds?: number } | undefined;
    try {
      marker = JSON.parse(readFileSync(path.join(dir, VENV_MARKER), "utf8")) as typeof marker;
    } catch {
      marker = undefined;
    }
    if (marker?.envDigest === digest && existsSync(path.join(dir, "bin", "python"))) {
      ctx.venvBuilt = true;
      return ok(
        "venv",
        `built for ${CONDA_FILE} digest ${digest.slice(0, 12)} in ${dir}${marker.createdAt ? ` (${marker.createdAt.slice(0, 10)}, pip took ${marker.installSeconds ?? "?"} s)` : ""}`,
      );
    }
    ctx.venvBuilt = false;
    if (existsSync(dir))
      return warn(
        "venv",
        `${dir} is incomplete (no completion marker for digest ${digest.slice(0, 12)})`,
        "it is discarded and rebuilt on the next 'mlops test' or release (under a minute with uv, ~5 min with pip)",
      );
    return warn(
      "venv",
      `not built yet for ${CONDA_FILE} digest ${digest.slice(0, 12)} (would be ${dir})`,
      "the first 'mlops test' or release builds it (under a minute with uv, ~5 min with pip; set MLOPS_VENV_ROOT to share venvs between checkouts)",
    );
  },
};

export const portsCheck: Check<LocalDoctorContext> = {
  name: "ports",
  async run(ctx) {
    const ports = ctx.config.local.ports;
    let services: LocalServiceStatus[] | undefined;
    const out: CheckResult[] = [];
    for (const [key, port] of Object.entries(ports) as [string, number][]) {
      const name = `port[${key}]`;
      if (await ctx.deps.isPortFree(port)) {
        out.push(ok(name, `${port} free`));
        continue;
      }
      services ??= await ctx.deps.servicesStatus();
      const ours = services.find((s) => s.port === port && s.running);
      out.push(
        ours
          ? ok(name, `${port} held by the project's own ${ours.name}${ours.pid ? ` (pid ${ours.pid})` : ""}`)
          : fail(
              name,
              `${port} (mlops.yaml local.ports.${key}) is in use by another process`,
              `stop that process ('ss -ltnp | grep :${port}') or set local.ports.${key} in mlops.yaml to a free port`,
            ),
      );
    }
    return out;
  },
};

function existingAncestor(dir: string): string {
  let d = path.resolve(dir);
  while (!existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

export const diskCheck: Check<LocalDoctorContext> = {
  name: "disk",
  async run(ctx) {
    const venvNeed = ctx.venvBuilt ? 0 : VENV_BYTES;
    const where = [
      { what: "venv", dir: ctx.paths.venvRoot, need: venvNeed },
      { what: "MLflow store and logs", dir: ctx.paths.stateDir, need: STORE_BYTES },
    ];
    const byDevice = new Map<number, { free: number; need: number; whats: string[]; dirs: string[] }>();
    const unusable: CheckResult[] = [];
    for (const w of where) {
      const anc = existingAncestor(w.dir);
      const why = unusableDir(anc);
      if (why) {
        unusable.push(
          fail(
            `disk[${w.what}]`,
            `${w.dir} cannot be created or written: ${anc} ${why}`,
            `move ${anc} aside (or fix its permissions)${w.what === "venv" ? ", or set MLOPS_VENV_ROOT to a writable directory" : ""}`,
          ),
        );
        continue;
      }
      const { free, device } = await ctx.deps.freeSpace(anc);
      const e = byDevice.get(device) ?? { free, need: 0, whats: [], dirs: [] };
      e.need += w.need;
      e.whats.push(w.what);
      e.dirs.push(w.dir);
      byDevice.set(device, e);
    }
    return [
      ...unusable,
      ...[...byDevice.values()].map((e) => {
        const name = `disk[${e.whats.join(" + ")}]`;
        const what = `${gb(e.free)} free for ${e.dirs.join(", ")}; needs about ${gb(e.need)}`;
        if (e.free < e.need) return fail(name, what, "free disk space, or set MLOPS_VENV_ROOT to a filesystem with room");
        if (e.free < 2 * e.need) return warn(name, `${what} (less than twice that)`, "free some space before long runs");
        return ok(name, what);
      }),
    ];
  },
};

/** Why `dir` (an existing path) cannot hold the state or venvs: not a directory, or not writable; undefined when usable. */
function unusableDir(dir: string): string | undefined {
  if (!statSync(dir).isDirectory()) return "is not a directory";
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return "is not writable";
  }
  return undefined;
}

export const LOCAL_CHECKS: Check<LocalDoctorContext>[] = [nodeCheck, pythonCheck, venvCheck, portsCheck, diskCheck, approversCheck];
