/**
 * `mlops monitor <stack> [--since <duration>] [--retrain]`: the collected requests of the version a stack serves,
 * against the data it was trained on (ml/monitor.py), a report, and an exit code per verdict:
 *   0 no drift (or a dry run / disabled monitor), 9 drift (EXIT.drift), 10 not enough data (EXIT.notEnoughData).
 * With --retrain and drift (mode enabled), a release is started whose record says why (Release.trigger).
 */
import type { MonitorConfig } from "../config/monitorConfig.js";
import { EXIT, NotEnoughDataError, UsageError } from "../core/errors.js";
import type { Progress, RegistryPort } from "../core/ports.js";
import { STACKS, type Release, type ReleaseTrigger, type StackName } from "../core/release.js";
import { durationSeconds } from "./duration.js";
import { writeLastMonitor } from "./lastMonitor.js";
import { writeMonitorReport, type MonitorReportPaths } from "./monitorReport.js";
import type { MonitorResult } from "./monitorResult.js";
import type { MonitorSource } from "./monitorSource.js";
import { findReference } from "./referenceData.js";
import { runMonitorScript } from "./runMonitorScript.js";

export interface MonitorCommandDeps {
  repoRoot: string;
  config: MonitorConfig;
  source: MonitorSource;
  registry: RegistryPort;
  progress: Progress;
  /** starts a release (the release core's `start`), for --retrain */
  startRelease: (trigger: ReleaseTrigger) => Promise<Release>;
  now?: () => Date;
}

export interface MonitorOutput {
  json: {
    stack: StackName;
    modelVersion: string;
    outcome: string;
    verdict: MonitorResult["verdict"];
    reasons: string[];
    alerts: string[];
    report: MonitorReportPaths;
    release: { id: string; state: string } | null;
    result: MonitorResult;
  };
  text: string;
  exitCode: number;
}

export function parseStack(stack: string): StackName {
  if (!(STACKS as readonly string[]).includes(stack)) throw new UsageError(`unknown stack '${stack}'; use ${STACKS.join(" or ")}`);
  return stack as StackName;
}

export function sinceSeconds(since: string | undefined, config: MonitorConfig): number {
  const text = since ?? config.window;
  const s = durationSeconds(text);
  if (s === undefined) throw new UsageError(`--since '${text}' is not a duration; use a whole number and s, m, h or d, such as 30m, 24h or 7d`);
  return s;
}

/** The outcome line and exit code of a verdict under the configured mode. */
export function decide(verdict: MonitorResult["verdict"], mode: MonitorConfig["mode"]): { outcome: string; exitCode: number; drift: boolean } {
  if (verdict === "insufficient-data") return { outcome: "not enough data", exitCode: EXIT.notEnoughData, drift: false };
  if (verdict === "no-drift") return { outcome: "no drift", exitCode: 0, drift: false };
  if (mode === "enabled") return { outcome: "drift", exitCode: EXIT.drift, drift: true };
  return { outcome: mode === "dry_run" ? "drift (dry run: not acted on)" : "drift (monitor disabled: reported only)", exitCode: 0, drift: false };
}

export async function monitorCommand(d: MonitorCommandDeps, stackArg: string, o: { since?: string; retrain?: boolean }): Promise<MonitorOutput> {
  const stack = parseStack(stackArg);
  const window = sinceSeconds(o.since, d.config);
  try {
    return await judge(d, stack, window, o);
  } finally {
    await d.source.close?.();
  }
}

async function judge(d: MonitorCommandDeps, stack: StackName, window: number, o: { since?: string; retrain?: boolean }): Promise<MonitorOutput> {
  const now = (d.now ?? (() => new Date()))();
  const served = await d.source.served(stack);
  if (!served) throw new NotEnoughDataError(`stack '${stack}' serves nothing yet, so there is nothing to monitor; release (and promote) a model first`);
  const model = await d.registry.getVersion(served.modelName, served.modelVersion);
  if (!model)
    throw new NotEnoughDataError(
      `stack '${stack}' serves ${served.modelName} v${served.modelVersion}, which is not in the registry; deploy a registered version`,
    );
  const reference = await findReference({ repoRoot: d.repoRoot, runsDir: d.source.runsDir, model });
  d.progress.info(`monitor: ${stack} serves ${served.modelName} v${served.modelVersion}; reference: ${reference.source}`);
  const sinceEpochSeconds = Math.floor(now.getTime() / 1000) - window;
  const collected = await d.source.collected(stack, served, sinceEpochSeconds);
  const result = await runMonitorScript({
    repoRoot: d.repoRoot,
    python: await d.source.python(),
    reference: reference.file,
    collected: collected.dirs,
    ...(collected.rename ? { rename: collected.rename } : {}),
    modelDir: served.modelDir,
    modelVersion: served.modelVersion,
    sinceEpochSeconds,
    config: d.config,
    progress: d.progress,
  });
  if (result.counts.rows === 0) {
    const why =
      result.counts.files === 0
        ? "nothing was collected yet"
        : `no answered request of v${served.modelVersion} was collected in the last ${o.since ?? d.config.window}${result.counts.requests ? ` (${result.counts.requests} rejected)` : ""}`;
    result.reasons = [`${why}: is monitor.collection.enabled true in mlops.yaml, and does the stack get requests?`];
  }
  const { outcome, exitCode, drift } = decide(result.verdict, d.config.mode);
  const at = now.toISOString();
  const report = await writeMonitorReport(d.source.stateDir, {
    stack,
    modelName: served.modelName,
    modelVersion: served.modelVersion,
    at,
    since: o.since ?? d.config.window,
    mode: d.config.mode,
    reference: reference.source,
    outcome,
    result,
    psiThreshold: d.config.thresholds.psi,
  });
  let release: Release | undefined;
  if (o.retrain && drift) {
    d.progress.info(`monitor: drift on ${stack}; starting a release (--retrain)`);
    const trigger: ReleaseTrigger = { kind: "monitor", at, stack, modelVersion: served.modelVersion, reasons: result.reasons, report: report.markdown };
    await writeLastMonitor(d.source.stateDir, { stack, at, modelVersion: served.modelVersion, outcome, reasons: result.reasons, report });
    release = await d.startRelease(trigger);
  }
  await writeLastMonitor(d.source.stateDir, {
    stack,
    at,
    modelVersion: served.modelVersion,
    outcome,
    reasons: result.reasons,
    report,
    ...(release ? { release: release.id } : {}),
  });
  const lines = [
    `${stack}: ${served.modelName} v${served.modelVersion}: ${outcome} (${result.counts.rows} rows from ${result.counts.requests} requests since ${o.since ?? d.config.window} ago)`,
    ...result.reasons.map((r) => `  ${r}`),
    ...result.alerts.map((a) => `  alert: ${a}`),
    ...(result.counts.badLines ? [`  ${result.counts.badLines} bad collected line(s) skipped in ${result.counts.skipped.length} file(s)`] : []),
    `report: ${report.html}`,
    ...(release ? [`release ${release.id} started by monitor: ${release.state}`] : o.retrain && !drift ? ["no release started (no drift to act on)"] : []),
  ];
  return {
    json: {
      stack,
      modelVersion: served.modelVersion,
      outcome,
      verdict: result.verdict,
      reasons: result.reasons,
      alerts: result.alerts,
      report,
      release: release ? { id: release.id, state: release.state } : null,
      result,
    },
    text: lines.join("\n"),
    exitCode,
  };
}
