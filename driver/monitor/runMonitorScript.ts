/** Runs ml/monitor.py in the project's Python environment and reads back its JSON (validated). */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { MonitorConfig } from "../config/monitorConfig.js";
import { MlopsError, EXIT } from "../core/errors.js";
import type { Progress } from "../core/ports.js";
import { monitorResultSchema, type MonitorResult } from "./monitorResult.js";

export const MONITOR_SCRIPT = "ml/monitor.py";

export class MonitorScriptError extends MlopsError {
  constructor(message: string) {
    super(message, "monitor", EXIT.failure);
  }
}

export interface MonitorScriptInput {
  repoRoot: string;
  python: string;
  reference: string;
  collected: string[];
  /** names a collected file as the user knows it (warnings and `counts.skipped`); default: its local path */
  rename?: (text: string) => string;
  modelDir: string;
  modelVersion: string;
  sinceEpochSeconds: number;
  config: MonitorConfig;
  progress: Progress;
}

export async function runMonitorScript(i: MonitorScriptInput): Promise<MonitorResult> {
  const work = await mkdtemp(path.join(os.tmpdir(), "mlops-monitor-"));
  const out = path.join(work, "result.json");
  const settings = { thresholds: i.config.thresholds, minSamples: i.config.minSamples, windows: i.config.windows };
  try {
    const r = await execa(
      i.python,
      [
        path.join(i.repoRoot, MONITOR_SCRIPT),
        "--reference",
        i.reference,
        ...i.collected.flatMap((c) => ["--collected", c]),
        "--model-dir",
        i.modelDir,
        "--model-version",
        i.modelVersion,
        "--since",
        String(i.sinceEpochSeconds),
        "--settings",
        JSON.stringify(settings),
        "--out",
        out,
      ],
      { cwd: i.repoRoot, reject: false, stdin: "ignore", env: { PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" } },
    );
    const rename = i.rename ?? ((t: string) => t);
    const stderr = rename(String(r.stderr ?? "").trim());
    for (const line of stderr.split("\n")) if (line.startsWith("monitor: warning: ")) i.progress.info(`warning: ${line.slice("monitor: warning: ".length)}`);
    if (r.exitCode !== 0) {
      const last = stderr.split("\n").filter(Boolean).at(-1) ?? "no message";
      throw new MonitorScriptError(`${MONITOR_SCRIPT} failed (exit ${r.exitCode ?? r.signal}): ${last.slice(0, 300)}`);
    }
    const parsed = monitorResultSchema.safeParse(JSON.parse(await readFile(out, "utf8")));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new MonitorScriptError(
        `${MONITOR_SCRIPT} wrote an unexpected result (${issue.path.join(".")}: ${issue.message}); is ml/monitor.py from this version of mlops?`,
      );
    }
    for (const s of parsed.data.counts.skipped) s.file = rename(s.file);
    return parsed.data;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
