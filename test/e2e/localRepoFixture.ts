/**
 * A throw-away repository root for end-to-end tests of the local target: a copy of the repo's ml/,
 * mlops.yaml (with test ports) and Pulumi.*.yaml in a temp dir, so the developer's .mlops/ is never touched.
 * The Python virtualenv is shared through the real repo's .mlops/venvs (building it takes minutes).
 */
import { cp, mkdtemp, readFile, writeFile, rm } from "node:fs/promises";
import { readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { parseReleaseConfig, type ReleaseConfig } from "../../driver/config/releaseConfig.js";
import type { Progress } from "../../driver/core/ports.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SHARED_VENV_ROOT = process.env.MLOPS_VENV_ROOT?.trim() || path.join(REPO_ROOT, ".mlops", "venvs");

export interface TempRepo {
  root: string;
  config: ReleaseConfig;
  remove(): Promise<void>;
}

const SKIP = new Set(["__pycache__", ".pytest_cache"]);

export interface TestPorts {
  mlflow: number;
  int: number;
  prod: number;
  /** PROD's blue/green slots behind the router on `prod` */
  prodBlue: number;
  prodGreen: number;
}

/**
 * `overrides` replaces top-level sections of mlops.yaml (e.g. `{ profile: { enabled: false }, rollout: {...} }`),
 * so a test keeps its release short and says which settings it depends on.
 */
export async function makeTempRepo(ports: TestPorts, overrides: Record<string, unknown> = {}): Promise<TempRepo> {
  const root = await mkdtemp(path.join(os.tmpdir(), "mlops-e2e-"));
  await cp(path.join(REPO_ROOT, "ml"), path.join(root, "ml"), { recursive: true, filter: (src) => !SKIP.has(path.basename(src)) });
  for (const f of readdirSync(REPO_ROOT).filter((n) => /^Pulumi(\.[a-z0-9-]+)?\.yaml$/.test(n))) {
    await cp(path.join(REPO_ROOT, f), path.join(root, f));
  }
  const raw = parse(await readFile(path.join(REPO_ROOT, "mlops.yaml"), "utf8")) as Record<string, unknown>;
  Object.assign(raw, overrides);
  raw.local = { host: "127.0.0.1", ports };
  await writeFile(path.join(root, "mlops.yaml"), stringify(raw));
  return { root, config: parseReleaseConfig(raw), remove: () => rm(root, { recursive: true, force: true }) };
}

/** Progress that keeps every line (printed too when MLOPS_E2E_VERBOSE is set). */
export class RecordingProgress implements Progress {
  readonly lines: string[] = [];
  private readonly t0 = Date.now();
  private add(line: string): void {
    const l = `[${((Date.now() - this.t0) / 1000).toFixed(1)}s] ${line}`;
    this.lines.push(l);
    if (process.env.MLOPS_E2E_VERBOSE) process.stderr.write(`    ${l}\n`);
  }
  stepStarted(step: string, what: string): void {
    this.add(`> ${step}: ${what}`);
  }
  stepFinished(step: string, ok: boolean, detail: string): void {
    this.add(`${ok ? "ok" : "FAILED"} ${step}: ${detail}`);
  }
  info(message: string): void {
    this.add(message);
  }
}
