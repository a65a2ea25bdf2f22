/**
 * The monitor report of one run: Markdown and a self-contained HTML page (inline SVG from driver/report/svgCharts,
 * no script), written atomically as .mlops/reports/monitor-<stack>-<stamp>.md/.html. The charts: each feature's
 * distribution, reference vs collected, and the PSI of the most drifted features over time slices of the window.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { escapeMdCell as md, escapeXml as e } from "../report/escape.js";
import { fmtNum, lineChart } from "../report/svgCharts.js";
import type { Comparison, MonitorResult } from "./monitorResult.js";

export interface MonitorRun {
  stack: string;
  modelName: string;
  modelVersion: string;
  at: string;
  since: string;
  mode: "disabled" | "dry_run" | "enabled";
  reference: string;
  /** the verdict as the command reports it (a dry run's drift is reported as such) */
  outcome: string;
  result: MonitorResult;
  psiThreshold: number;
}

export interface MonitorReportPaths {
  markdown: string;
  html: string;
}

const iso = (s: number | null): string => (s === null ? "-" : new Date(s * 1000).toISOString());
const pct = (v: number | null): string => (v === null ? "-" : `${(v * 100).toFixed(2)}%`);

function summaryRows(r: MonitorRun): [string, string][] {
  const x = r.result;
  return [
    ["stack", r.stack],
    ["model", `${r.modelName} v${r.modelVersion}`],
    ["outcome", r.outcome],
    ["mode", r.mode],
    ["window", `since ${r.since} (collected ${iso(x.window.from)} to ${iso(x.window.to)})`],
    ["reference", `${r.reference} (${x.counts.referenceRows} rows)`],
    ["volume", `${x.volume.requests} requests, ${x.volume.rows} rows${x.volume.perHour === null ? "" : `, ${fmtNum(x.volume.perHour)} requests/hour`}`],
    ["error rate", `${pct(x.errors.rate)} (${x.errors.rejected} rejected of ${x.errors.served + x.errors.rejected})`],
    ["latency (score.py)", x.latencyMs ? `p50 ${fmtNum(x.latencyMs.p50)} ms, p95 ${fmtNum(x.latencyMs.p95)} ms, p99 ${fmtNum(x.latencyMs.p99)} ms` : "-"],
    [
      "data quality",
      `${x.quality.missing} requests with missing values, ${x.quality.wrongType} with wrong types, ${x.quality.outOfRangeRows} rows out of the training range (${pct(x.quality.outOfRangeRate)})`,
    ],
    [
      "collected files",
      `${x.counts.files} read, ${x.counts.badLines} bad lines skipped${x.counts.skipped.length ? ` in ${x.counts.skipped.map((s) => s.file).join(", ")}` : ""}`,
    ],
  ];
}

const featureRow = (f: Comparison): string[] => [
  f.name,
  f.psi.toFixed(3),
  f.ks.statistic.toFixed(3),
  f.ks.pvalue.toExponential(2),
  fmtNum(f.reference.mean),
  fmtNum(f.current.mean),
  String(f.outOfRange),
  f.drifted ? "DRIFT" : "ok",
];
const FEATURE_HEAD = ["feature", "PSI", "KS statistic", "KS p-value", "reference mean", "collected mean", "out of range", "verdict"];

function comparisons(x: MonitorResult): Comparison[] {
  return x.prediction ? [...x.features, x.prediction] : x.features;
}

export function renderMonitorMarkdown(r: MonitorRun): string {
  const x = r.result;
  const out = [`# Monitor: ${r.stack} (${r.modelName} v${r.modelVersion}), ${r.at}`, "", "| | |", "|---|---|"];
  for (const [k, v] of summaryRows(r)) out.push(`| ${md(k)} | ${md(v)} |`);
  out.push("", "## Why", "");
  for (const reason of x.reasons.length ? x.reasons : ["nothing drifted"]) out.push(`- ${reason}`);
  for (const a of x.alerts) out.push(`- alert: ${a}`);
  if (comparisons(x).length) {
    out.push("", "## Drift per feature", "", `| ${FEATURE_HEAD.join(" | ")} |`, `|${FEATURE_HEAD.map(() => "---").join("|")}|`);
    for (const f of comparisons(x)) out.push(`| ${featureRow(f).map(md).join(" | ")} |`);
  }
  if (x.windows.length) {
    out.push(
      "",
      "## PSI over time",
      "",
      `| slice | rows | ${x.features.map((f) => f.name).join(" | ")} |`,
      `|---|---|${x.features.map(() => "---").join("|")}|`,
    );
    for (const w of x.windows) out.push(`| ${iso(w.from)} | ${w.rows} | ${x.features.map((f) => (w.psi[f.name] ?? 0).toFixed(3)).join(" | ")} |`);
  }
  out.push("", "The HTML report beside this file has the plots.", "");
  return out.join("\n");
}

function distributionChart(f: Comparison): string {
  const { edges, reference, current } = f.histogram;
  const centers = edges.slice(1).map((hi, i) => (hi + edges[i]!) / 2);
  return lineChart({
    title: `${f.name}: share of rows per bin${f.drifted ? " (DRIFT)" : ""}`,
    xLabel: `${f.name} (bin centre)`,
    yLabel: "share of rows",
    x: centers,
    series: [
      { name: "reference", values: reference },
      { name: "collected", values: current },
    ],
  });
}

function psiOverTime(r: MonitorRun): string {
  const x = r.result;
  const top = [...x.features].sort((a, b) => b.psi - a.psi).slice(0, 5);
  return lineChart({
    title: "PSI per time slice (the 5 most drifted features)",
    xLabel: "time slice of the window (1 = oldest)",
    yLabel: "PSI",
    x: x.windows.map((_, i) => i + 1),
    series: top.map((f) => ({ name: f.name, values: x.windows.map((w) => w.psi[f.name] ?? 0) })),
    limits: [{ value: r.psiThreshold, label: `threshold ${fmtNum(r.psiThreshold)}` }],
  });
}

const CSS = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1000px;padding:0 1rem;color:#111827}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}th,td{border:1px solid #e5e7eb;padding:.3rem .6rem;text-align:left}
th{background:#f9fafb}.kv td:first-child{font-weight:600;background:#f9fafb}.bad{color:#b91c1c;font-weight:600}figure{margin:1rem 0}`;

export function renderMonitorHtml(r: MonitorRun): string {
  const x = r.result;
  const title = `Monitor: ${r.stack} (${r.modelName} v${r.modelVersion}), ${r.at}`;
  const b = [
    `<h1>${e(title)}</h1>`,
    `<table class="kv"><tbody>${summaryRows(r)
      .map(([k, v]) => `<tr><td>${e(k)}</td><td>${e(v)}</td></tr>`)
      .join("")}</tbody></table>`,
  ];
  b.push(
    `<h2>Why</h2><ul>${(x.reasons.length ? x.reasons : ["nothing drifted"]).map((s) => `<li>${e(s)}</li>`).join("")}${x.alerts.map((a) => `<li class="bad">alert: ${e(a)}</li>`).join("")}</ul>`,
  );
  if (comparisons(x).length) {
    b.push(
      `<h2>Drift per feature</h2><table><thead><tr>${FEATURE_HEAD.map((h) => `<th>${e(h)}</th>`).join("")}</tr></thead><tbody>${comparisons(x)
        .map(
          (f) =>
            `<tr>${featureRow(f)
              .map((c) => `<td${c === "DRIFT" ? ' class="bad"' : ""}>${e(c)}</td>`)
              .join("")}</tr>`,
        )
        .join("")}</tbody></table>`,
    );
  }
  if (x.windows.length > 1) b.push(`<h2>Drift over time</h2><figure>${psiOverTime(r)}</figure>`);
  if (comparisons(x).length) b.push(`<h2>Distributions, reference vs collected</h2>`, ...comparisons(x).map((f) => `<figure>${distributionChart(f)}</figure>`));
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${e(title)}</title><style>${CSS}</style></head><body>${b.join("\n")}</body></html>\n`;
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

export async function writeMonitorReport(stateDir: string, r: MonitorRun): Promise<MonitorReportPaths> {
  const stamp = r.at.replace(/[-:]/g, "").replace(/\..*$/, "");
  const dir = path.join(stateDir, "reports");
  await mkdir(dir, { recursive: true });
  const paths = { markdown: path.join(dir, `monitor-${r.stack}-${stamp}.md`), html: path.join(dir, `monitor-${r.stack}-${stamp}.html`) };
  await writeAtomic(paths.markdown, renderMonitorMarkdown(r));
  await writeAtomic(paths.html, renderMonitorHtml(r));
  return paths;
}
