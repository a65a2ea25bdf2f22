/** The release report as one self-contained HTML page: inline CSS and SVG, no script, no external resource. */
import { escapeXml as e } from "./escape.js";
import type { ReportModel } from "./reportSections.js";
import { lineChart, metricPanels, fmtNum } from "./svgCharts.js";

function table(head: string[], rows: string[][], cls = ""): string {
  const thead = head.some((h) => h) ? `<thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join("")}</tr></thead>` : "";
  return `<table${cls ? ` class="${cls}"` : ""}>${thead}<tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

const CSS = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1000px;padding:0 1rem;color:#111827}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}th,td{border:1px solid #e5e7eb;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f9fafb}td.num{text-align:right}.kv td:first-child{font-weight:600;background:#f9fafb}
.ok{color:#047857}.bad{color:#b91c1c;font-weight:600}pre{background:#f3f4f6;padding:.8rem;overflow-x:auto;font-size:.85rem}
.add{color:#047857}.del{color:#b91c1c}figure{margin:1rem 0}`;

const statusClass = (s: string): string => (s === "failed" || s === "FAILED" ? "bad" : s === "succeeded" || s === "passed" ? "ok" : "");

export function renderHtml(m: ReportModel): string {
  const b: string[] = [];
  b.push(
    `<h1>${e(m.title)}</h1>`,
    table(
      ["", ""],
      m.summary.map(([k, v]) => [k, v]),
      "kv",
    ),
  );
  b.push(
    `<h2>Steps</h2><table><thead><tr><th>step</th><th>status</th><th>detail</th></tr></thead><tbody>${m.steps
      .map((s) => `<tr><td>${e(s.step)}</td><td class="${statusClass(s.status)}">${e(s.status)}</td><td>${e(s.detail)}</td></tr>`)
      .join("")}</tbody></table>`,
  );
  b.push(`<h2>Challenger vs champion</h2>`);
  if (m.metrics.length) {
    b.push(`<figure>${metricPanels(m.metrics, { challenger: "challenger", champion: m.championLabel.replace(/ \(none\)$/, "") })}</figure>`);
    b.push(
      table(
        ["metric", "challenger", m.championLabel],
        m.metrics.map((x) => [x.name, fmtNum(x.challenger), x.champion === undefined ? "-" : fmtNum(x.champion)]),
      ),
    );
    if (m.gateChecks.length) {
      b.push(
        `<table><thead><tr><th>gate check</th><th>result</th><th>detail</th></tr></thead><tbody>${m.gateChecks
          .map((c) => `<tr><td>${e(c.metric)}</td><td class="${c.passed ? "ok" : "bad"}">${c.passed ? "passed" : "FAILED"}</td><td>${e(c.detail)}</td></tr>`)
          .join("")}</tbody></table>`,
      );
    }
  } else b.push(`<p>No training metrics recorded.</p>`);
  b.push(`<h2>Load profile</h2>`);
  if (m.profile) {
    const p = m.profile;
    b.push(`<p>Endpoint <code>${e(p.url)}</code>; SLO ${e(p.slo)}. Stopped: ${e(p.stopped)}.</p>`);
    b.push(
      `<figure>${lineChart({
        title: "Latency percentiles by concurrency",
        xLabel: "concurrent connections",
        yLabel: "latency (ms)",
        x: p.x,
        series: [
          { name: "p50", values: p.p50 },
          { name: "p95", values: p.p95 },
          { name: "p99", values: p.p99 },
        ],
        limits: [
          { value: p.sloP95, label: `SLO p95 ${fmtNum(p.sloP95)} ms` },
          { value: p.sloP99, label: `SLO p99 ${fmtNum(p.sloP99)} ms` },
        ],
      })}</figure>`,
    );
    b.push(table(["concurrency", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "cpu cores", "peak RSS", "verdict"], p.rows));
  } else b.push(`<p>Not profiled.</p>`);
  if (m.sizing) {
    b.push(`<h2>Sizing recommendation for PROD</h2>`);
    if (!m.sizing.feasible) b.push(`<p class="bad">No level met the SLO: nothing is recommended.</p>`);
    b.push(table(["", ""], m.sizing.rows, "kv"), `<ul>${m.sizing.reasoning.map((r) => `<li>${e(r)}</li>`).join("")}</ul>`);
    const c = m.sizing.change;
    if (c?.diff) {
      const lines = c.diff
        .split("\n")
        .map((l) =>
          l.startsWith("+") && !l.startsWith("+++")
            ? `<span class="add">${e(l)}</span>`
            : l.startsWith("-") && !l.startsWith("---")
              ? `<span class="del">${e(l)}</span>`
              : e(l),
        );
      b.push(`<p>The change to <code>${e(c.file)}</code> (applied only by <code>mlops profile int --apply</code>):</p><pre>${lines.join("\n")}</pre>`);
    } else if (c) b.push(`<p><code>${e(c.file)}</code> already holds this sizing.</p>`);
  }
  if (m.shadow) {
    b.push(`<h2>Shadow traffic before the canary</h2><p>${e(m.shadow.title)}: ${e(m.shadow.verdict)}</p>`);
    b.push(table(["", ""], m.shadow.rows));
  }
  if (m.rollout) {
    b.push(`<h2>PROD rollout</h2><p>${e(m.rollout.title)}: ${e(m.rollout.outcome)}</p>`);
    b.push(table(["step", "requests", "errors", "error rate", "healthy", "check", "detail"], m.rollout.rows));
  }
  b.push(`<h2>Events</h2>`, table(["at", "event"], m.events));
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${e(m.title)}</title><style>${CSS}</style></head><body>${b.join("\n")}</body></html>\n`;
}
