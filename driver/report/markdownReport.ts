/** The release report as Markdown (for a pull request, a wiki, a terminal). */
import type { ReportModel } from "./reportSections.js";
import { escapeMdCell } from "./escape.js";
import { fmtNum } from "./svgCharts.js";

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.map(escapeMdCell).join(" | ")} |`;
  return [line(head), `|${head.map(() => " --- ").join("|")}|`, ...rows.map(line)].join("\n");
}

export function renderMarkdown(m: ReportModel): string {
  const out: string[] = [
    `# ${escapeMdCell(m.title)}`,
    "",
    table(["", ""], m.summary),
    "",
    "## Steps",
    "",
    table(
      ["step", "status", "detail"],
      m.steps.map((s) => [s.step, s.status, s.detail]),
    ),
  ];
  out.push("", "## Challenger vs champion", "");
  if (m.metrics.length) {
    out.push(
      table(
        ["metric", "challenger", m.championLabel],
        m.metrics.map((x) => [
          x.name + (x.lowerIsBetter ? " (lower is better)" : x.lowerIsBetter === false ? " (higher is better)" : ""),
          fmtNum(x.challenger),
          x.champion === undefined ? "-" : fmtNum(x.champion),
        ]),
      ),
    );
    if (m.gateChecks.length)
      out.push(
        "",
        table(
          ["gate check", "result", "detail"],
          m.gateChecks.map((c) => [c.metric, c.passed ? "passed" : "FAILED", c.detail]),
        ),
      );
  } else out.push("No training metrics recorded.");
  out.push("", "## Load profile", "");
  if (m.profile) {
    const p = m.profile;
    out.push(`Endpoint ${escapeMdCell(p.url)}; SLO ${escapeMdCell(p.slo)}. Stopped: ${escapeMdCell(p.stopped)}.`, "");
    out.push(table(["concurrency", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "cpu cores", "peak RSS", "verdict"], p.rows));
  } else out.push("Not profiled.");
  if (m.sizing) {
    out.push("", "## Sizing recommendation for PROD", "");
    if (!m.sizing.feasible) out.push("**No level met the SLO: nothing is recommended.**", "");
    out.push(table(["", ""], m.sizing.rows), "", ...m.sizing.reasoning.map((r) => `- ${r}`));
    const c = m.sizing.change;
    if (c) {
      out.push("", c.diff ? `The change to ${c.file} (applied only by \`mlops profile int --apply\`):` : `${c.file} already holds this sizing.`);
      if (c.diff) out.push("", "```diff", c.diff, "```");
    }
  }
  if (m.shadow) {
    out.push("", "## Shadow traffic before the canary", "", `${escapeMdCell(m.shadow.title)}: ${escapeMdCell(m.shadow.verdict)}`, "");
    out.push(table(["", ""], m.shadow.rows));
  }
  if (m.rollout) {
    out.push("", "## PROD rollout", "", `${escapeMdCell(m.rollout.title)}: ${escapeMdCell(m.rollout.outcome)}`, "");
    out.push(table(["step", "requests", "errors", "error rate", "healthy", "check", "detail"], m.rollout.rows));
  }
  out.push("", "## Events", "", table(["at", "event"], m.events), "");
  return out.join("\n");
}
