/**
 * Reading the workflows and running their `run:` steps as the runner does: `bash --noprofile --norc -eo pipefail
 * <file>` for `shell: bash` (GitHub docs, "Workflow syntax for GitHub Actions", jobs.<job_id>.steps[*].shell), with
 * the runner's files for outputs and the job summary (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) and RUNNER_TEMP, and fake
 * commands (npm, pulumi) first on PATH.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { tempDir } from "../../support/tempDirs.js";

export const REPO = path.resolve(import.meta.dirname, "../../..");

export interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
export interface Job {
  uses?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  outputs?: Record<string, string>;
  env?: Record<string, string>;
  steps?: Step[];
}
export interface Workflow {
  name: string;
  on: Record<string, { branches?: string[]; paths?: string[]; "paths-ignore"?: string[] } | null>;
  permissions?: Record<string, string>;
  defaults?: { run?: { shell?: string } };
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  jobs: Record<string, Job>;
}

export function workflow(file: string): Workflow {
  return parse(readFileSync(path.join(REPO, ".github", "workflows", file), "utf8")) as Workflow;
}

export function step(job: Job, name: string): Step {
  const s = (job.steps ?? []).find((x) => x.name === name || x.id === name);
  if (!s) throw new Error(`no step '${name}'`);
  return s;
}

export interface StepRun {
  status: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** A folder of fake commands: name -> bash body. */
export function fakeBin(commands: Record<string, string>): string {
  const dir = tempDir("mlops-fakebin-");
  for (const [name, body] of Object.entries(commands)) {
    const file = path.join(dir, name);
    writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}

/** Runs one `run:` script as the runner would, in `cwd`, with `env` over a minimal environment. */
export function runStep(script: string, env: Record<string, string>, cwd: string = REPO): StepRun {
  const dir = tempDir("mlops-step-");
  const temp = path.join(dir, "temp");
  mkdirSync(temp);
  const file = path.join(dir, "step.sh");
  writeFileSync(file, script);
  const out = path.join(dir, "output");
  const summary = path.join(dir, "summary");
  writeFileSync(out, "");
  writeFileSync(summary, "");
  const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", file], {
    cwd,
    encoding: "utf8",
    env: {
      PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: dir,
      RUNNER_TEMP: temp,
      GITHUB_OUTPUT: out,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_ACTIONS: "true",
      ...env,
    },
  });
  const outputs = Object.fromEntries(
    readFileSync(out, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, outputs, summary: readFileSync(summary, "utf8") };
}

/**
 * A GitHub path filter as a predicate (docs "Workflow syntax for GitHub Actions", Filter pattern cheat sheet: `*`
 * matches any characters but `/`, `**` any characters, `?` one character but `/`; patterns match the whole path).
 */
export function githubPathFilter(pattern: string): (file: string) => boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i += 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  const rx = new RegExp(`^${re}$`);
  return (f) => rx.test(f);
}
