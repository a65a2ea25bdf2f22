/**
 * Builds one virtualenv: `uv venv --seed`, or `python3 -m venv` where uv cannot be had or cannot seed pip (either
 * way it has pip, as conda.yml lists it); then the requirements are installed by uv (`uv pip install --python
 * <venv>/bin/python -r requirements.txt`: resolves like pip, the same packages) or, when uv cannot be had, by the
 * venv's pip. The completion marker is written last, naming the tool; a directory without it (crash, kill -9,
 * failed install) is discarded by the next build.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { EnvironmentError } from "../core/errors.js";
import type { Progress } from "../core/ports.js";
import { chooseInstaller, installerName, uvEnv, type Installer } from "./uvTool.js";

export const MARKER = ".mlops-complete.json";

export interface Marker {
  envDigest: string;
  python: string;
  createdAt: string;
  installSeconds: number;
  /** what installed the packages: "uv 0.13.8" or "pip" (absent in markers written before uv) */
  installer?: string;
}

export interface BuildSpec {
  /** major.minor the venv is built with (recorded in the marker) */
  python: string;
  /** the pip requirements file's content */
  requirementsText: string;
  packages: number;
  /** what the packages come from, for messages (ml/conda.yml, test/oracle/requirements.txt) */
  source: string;
  /** rough cold time with pip, shown when pip builds it */
  pipMinutes: number;
}

export interface BuildContext {
  /** base interpreter (python3 or MLOPS_PYTHON) */
  basePython: string;
  /** where the pinned uv is installed (its tools venv) */
  uvRoot: string;
  progress: Progress;
}

export async function buildVenv(dir: string, digest: string, spec: BuildSpec, ctx: BuildContext): Promise<void> {
  const { progress } = ctx;
  const started = Date.now();
  if (existsSync(dir)) progress.info(`discarding an incomplete Python environment in ${dir}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  const installer = await chooseInstaller({ uvRoot: ctx.uvRoot, python: ctx.basePython, progress });
  const how =
    installer.kind === "uv" ? `${installerName(installer)} (first run, under a minute)` : `pip, not uv (${installer.why}; first run, ~${spec.pipMinutes} min)`;
  progress.info(`creating Python environment with ${how}: ${spec.packages} packages from ${spec.source} into ${dir}`);
  await makeVenv(dir, installer, ctx);
  const reqFile = path.join(dir, "requirements.txt");
  await writeFile(reqFile, spec.requirementsText);
  if (spec.packages > 0) await install(dir, reqFile, spec, installer, progress, started);
  const marker: Marker = {
    envDigest: digest,
    python: spec.python,
    createdAt: new Date().toISOString(),
    installSeconds: Math.round((Date.now() - started) / 1000),
    installer: installerName(installer),
  };
  await writeFile(path.join(dir, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  progress.info(`Python environment ready in ${secs(started)} (${installerName(installer)})`);
}

/**
 * The empty venv, with pip in it: `uv venv --seed` where uv is had (0.5 s; `python3 -m venv` spends ~4 s of CPU
 * installing pip from Python's bundled wheel), else, or if uv cannot seed pip (no index and no cached pip), `-m venv`.
 */
async function makeVenv(dir: string, installer: Installer, ctx: BuildContext): Promise<void> {
  if (installer.kind === "uv") {
    const uv = await execa(installer.bin, ["venv", "--seed", "--quiet", "--python", ctx.basePython, dir], {
      reject: false,
      stdin: "ignore",
      all: true,
      env: uvEnv(),
    });
    if (uv.exitCode === 0) return;
    ctx.progress.info(`'uv venv' could not make the environment (${lastLine(uv.all ?? "")}); making it with '${ctx.basePython} -m venv'`);
    await rm(dir, { recursive: true, force: true });
  }
  const v = await execa(ctx.basePython, ["-m", "venv", dir], { reject: false, stdin: "ignore", all: true });
  if (v.exitCode !== 0) {
    throw new EnvironmentError(`'${ctx.basePython} -m venv' failed: ${lastLine(v.all ?? "")}; install the venv module (e.g. python3-venv)`);
  }
}

async function install(dir: string, reqFile: string, spec: BuildSpec, installer: Installer, progress: Progress, started: number): Promise<void> {
  const python = path.join(dir, "bin", "python");
  const child: ResultPromise<{ reject: false; stdin: "ignore"; all: true }> =
    installer.kind === "uv"
      ? // --compile-bytecode: .pyc files written at install, as pip does; else, where PYTHONDONTWRITEBYTECODE is set,
        // every process (pytest, the MLflow server, the pipeline) would compile MLflow's sources again on each start
        execa(installer.bin, ["pip", "install", "--compile-bytecode", "--python", python, "-r", reqFile], {
          reject: false,
          stdin: "ignore",
          all: true,
          env: uvEnv(),
        })
      : execa(python, ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", reqFile], {
          reject: false,
          stdin: "ignore",
          all: true,
          env: { PIP_NO_INPUT: "1" },
        });
  let collected = 0;
  let lastReport = Date.now();
  // uv installs, then compiles every installed .py file (most of a warm-cache build: 21 s of 32 s for ml/conda.yml)
  let compiling = false;
  const log: string[] = [];
  for await (const line of child.iterable({ from: "all" })) {
    const text = String(line);
    log.push(text);
    if (text.startsWith("Collecting ")) collected += 1;
    const uvStage = /^(Resolved|Prepared|Installed) (\d+) packages? in /.exec(text);
    const uvCompiled = /^Bytecode compiled (\d+) files? in /.exec(text);
    if (uvStage || uvCompiled) lastReport = Date.now(); // a "still ..." line only after 15 s without news
    if (uvStage) {
      compiling = uvStage[1] === "Installed";
      progress.info(
        `${uvStage[1]!.toLowerCase()} ${uvStage[2]} package${uvStage[2] === "1" ? "" : "s"} (${secs(started)})${compiling ? "; compiling them to bytecode" : ""}`,
      );
    } else if (uvCompiled) {
      compiling = false;
      progress.info(`compiled ${uvCompiled[1]} files to bytecode (${secs(started)})`);
    } else if (text.startsWith("Installing collected packages")) progress.info(`installing ${text.split(",").length} packages (${secs(started)})`);
    else if (Date.now() - lastReport > 15_000) {
      progress.info(
        compiling
          ? `still compiling the installed packages to bytecode (${secs(started)})`
          : `still resolving and downloading packages${installer.kind === "pip" ? `: ${collected} collected` : ""} (${secs(started)})`,
      );
      lastReport = Date.now();
    }
  }
  const r = await child;
  const logFile = path.join(dir, `${installer.kind}-install.log`);
  await writeFile(logFile, log.join("\n"));
  if (r.exitCode !== 0) {
    // leave no marker: the next run discards this directory and starts over
    if (installer.kind === "uv") {
      throw new EnvironmentError(
        `uv could not install ${spec.source}'s packages: ${uvError(log).slice(0, 300)} (full log: ${logFile}; MLOPS_UV=off builds with pip instead)`,
      );
    }
    const err = log.filter((l) => /^ERROR:/.test(l)).slice(-1)[0] ?? lastLine(log.join("\n"));
    throw new EnvironmentError(`pip could not install ${spec.source}'s packages: ${err.slice(0, 300)} (full log: ${logFile})`);
  }
}

/** uv's error and its causes on one line ("error: ...", "  Caused by: ...", "  ╰─▶ ..."). */
function uvError(log: string[]): string {
  const at = log.findIndex((l) => l.startsWith("error:") || l.startsWith("×"));
  if (at < 0) return lastLine(log.join("\n"));
  return log
    .slice(at)
    .map((l) => l.trim())
    .filter((l) => l !== "" && l !== "|")
    .join(" ")
    .replace(/\s+/g, " ");
}

const secs = (since: number) => `${Math.round((Date.now() - since) / 1000)}s`;
const lastLine = (s: string) => s.trim().split("\n").slice(-1)[0] ?? "";
