/**
 * Which tool installs a Python environment's packages: uv (fast: the ML environment in seconds instead of
 * minutes) when it can be had, else pip. uv is the PyPI package `uv` (one binary wheel) at a pinned version,
 * installed once per machine into a small tools venv <uvRoot>/uv-<version>/ with that venv's own pip (so pip's
 * own settings apply: index, proxy, certificate). Same lock and completion marker as the environments.
 *
 * MLOPS_UV: unset = the pinned uv; `off` (or `pip`, `0`) = pip; anything else = the path of a uv binary to use.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { EnvironmentError } from "../core/errors.js";
import type { Progress } from "../core/ports.js";
import { acquireFileLock } from "./fileLock.js";

/** The uv release the environments are built with (bump deliberately: it decides how packages are resolved). */
export const UV_VERSION = "0.13.8";

export type Installer = { kind: "uv"; bin: string; version: string } | { kind: "pip"; why: string };

const MARKER = ".mlops-complete.json";

export function installerName(i: Installer): string {
  return i.kind === "uv" ? `uv ${i.version}` : "pip";
}

/**
 * uv if it can be had, else pip with the reason (one line, for the progress output). Never throws for a uv that
 * cannot be installed; throws only for an MLOPS_UV path that does not run (the user asked for that binary).
 */
export async function chooseInstaller(o: { uvRoot: string; python: string; progress: Progress; lockTimeoutMs?: number }): Promise<Installer> {
  const setting = process.env.MLOPS_UV?.trim() ?? "";
  if (["off", "pip", "0", "false"].includes(setting.toLowerCase())) return { kind: "pip", why: `MLOPS_UV=${setting}` };
  if (setting !== "") {
    const version = await uvVersion(setting);
    if (!version) throw new EnvironmentError(`MLOPS_UV=${setting} is not a uv binary that runs; point it at one, or unset it to use uv ${UV_VERSION}`);
    return { kind: "uv", bin: setting, version };
  }
  const dir = path.join(o.uvRoot, `uv-${UV_VERSION}`);
  const bin = path.join(dir, "bin", "uv");
  const ready = async () => (await readMarker(dir)) === UV_VERSION && existsSync(bin);
  if (await ready()) return { kind: "uv", bin, version: UV_VERSION };
  const lock = await acquireFileLock(`${dir}.lock`, {
    what: `uv ${UV_VERSION}`,
    timeoutMs: o.lockTimeoutMs ?? 10 * 60_000,
    onWait: (pid) => o.progress.info(`waiting for process ${pid}, which is installing uv ${UV_VERSION}`),
  });
  try {
    if (await ready()) return { kind: "uv", bin, version: UV_VERSION };
    const why = await installUv(dir, o.python, o.progress);
    if (why) return { kind: "pip", why };
    await writeFile(path.join(dir, MARKER), `${JSON.stringify({ uv: UV_VERSION, createdAt: new Date().toISOString() })}\n`);
    return { kind: "uv", bin, version: UV_VERSION };
  } finally {
    await lock.release();
  }
}

/** Installs the pinned uv into `dir`; returns why it could not (and leaves no marker), or undefined. */
async function installUv(dir: string, python: string, progress: Progress): Promise<string | undefined> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  progress.info(`installing uv ${UV_VERSION} into ${dir} (once per machine)`);
  const venv = await execa(python, ["-m", "venv", dir], { reject: false, stdin: "ignore", all: true });
  if (venv.exitCode !== 0) return `'${python} -m venv' failed: ${lastLine(venv.all ?? "")}`;
  const pip = await execa(
    path.join(dir, "bin", "python"),
    ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--only-binary", ":all:", `uv==${UV_VERSION}`],
    { reject: false, stdin: "ignore", all: true, env: { PIP_NO_INPUT: "1" } },
  );
  const log = pip.all ?? "";
  await writeFile(path.join(dir, "pip-install.log"), log);
  if (pip.exitCode !== 0) {
    const err = log.split("\n").filter((l) => /^ERROR:/.test(l))[0] ?? lastLine(log);
    return `pip could not install uv ${UV_VERSION}: ${err.slice(0, 240)}`;
  }
  const version = await uvVersion(path.join(dir, "bin", "uv"));
  if (version !== UV_VERSION) return `the installed uv does not run (${path.join(dir, "bin", "uv")} --version gave ${version ?? "an error"})`;
  return undefined;
}

async function uvVersion(bin: string): Promise<string | undefined> {
  const r = await execa(bin, ["--version"], { reject: false, stdin: "ignore" });
  if (r.exitCode !== 0 || r.failed) return undefined;
  return /^uv (\S+)/.exec(r.stdout.trim())?.[1];
}

async function readMarker(dir: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(path.join(dir, MARKER), "utf8")) as { uv?: string }).uv;
  } catch {
    return undefined;
  }
}

/**
 * The environment of a uv run: pip's own environment settings that uv does not read are passed on under uv's
 * names when those are unset (pip.conf files are not: set UV_DEFAULT_INDEX etc. for a private index), and uv never
 * downloads a Python of its own (the venv's interpreter is given).
 */
export function uvEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = { UV_PYTHON_DOWNLOADS: "never", UV_NO_PROGRESS: "1" };
  const pass = (from: string, to: string, also: string[] = []) => {
    const v = env[from]?.trim();
    if (v && !env[to] && !also.some((a) => env[a])) out[to] = v;
  };
  pass("PIP_INDEX_URL", "UV_DEFAULT_INDEX", ["UV_INDEX_URL"]);
  pass("PIP_EXTRA_INDEX_URL", "UV_INDEX", ["UV_EXTRA_INDEX_URL"]);
  pass("PIP_CERT", "SSL_CERT_FILE");
  return out;
}

const lastLine = (s: string) => s.trim().split("\n").slice(-1)[0] ?? "";
