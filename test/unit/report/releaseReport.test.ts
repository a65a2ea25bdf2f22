import { expect } from "chai";
import { readFile, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import { planConfigChange } from "../../../driver/profile/prodConfigChange.js";
import { renderHtml } from "../../../driver/report/htmlReport.js";
import { renderMarkdown } from "../../../driver/report/markdownReport.js";
import { buildReportModel } from "../../../driver/report/reportSections.js";
import { lineChart, metricPanels, niceScale } from "../../../driver/report/svgCharts.js";
import { writeReleaseReport } from "../../../driver/report/writeReleaseReport.js";
import { sampleRelease } from "./sampleRelease.js";
import { tempDir } from "../../support/tempDirs.js";

const prod = readFileSync(new URL("../../../Pulumi.prod.yaml", import.meta.url), "utf8");

/** Well-formed XML (the yaml package's parser is not XML; use a strict check by hand: tags balance). */
function assertBalancedSvg(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) expect(stack.pop(), `closing ${name}`).to.equal(name);
    else stack.push(name!);
  }
  expect(stack).to.deep.equal([]);
  expect(svg).to.not.match(/NaN|undefined|Infinity/);
}

describe("release report", () => {
  const r = sampleRelease();
  const change = planConfigChange(prod, "prod", r.profile!.recommendation);

  it("Markdown holds the metrics, the latency figures per level, the sizing and the exact config diff", () => {
    const md = renderMarkdown(buildReportModel(r, change));
    expect(md).to.contain("# Release rel-20261127-090000-abcd: diabetes-ridge v4");
    expect(md).to.contain("| rmse (lower is better) | 53.9 | 55.1 |");
    expect(md).to.contain("| 4 | 410 | 9.4 | 18.2 | 30.1 | 0% | 0.88 | 316 MiB | within SLO |");
    expect(md).to.contain("| 8 | 430 | 18.1 | 260 | 420 | 0% | 1.76 | 332 MiB | p95 260 ms &gt; 200 ms |");
    expect(md).to.contain("| CPU request / limit | 900m / 1800m |");
    expect(md).to.contain("```diff\n--- a/Pulumi.prod.yaml");
    expect(md).to.contain("+        cpu: 900m");
    expect(md).to.contain("| 10% | 10 | 0 | 0% | yes | passed |");
    expect(md).to.contain("&lt;script&gt;");
    expect(md).to.not.contain("<script>");
  });

  it("HTML is one self-contained page: inline SVG charts, no script, no external resource, text escaped", () => {
    const html = renderHtml(buildReportModel(r, change));
    expect(html).to.match(/^<!doctype html>/);
    expect(html).to.not.match(/<script|src=|href=|@import|url\(/i);
    expect(html).to.contain("&lt;script&gt;alert(1)&lt;/script&gt;");
    const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(svgs).to.have.length(2);
    svgs.forEach(assertBalancedSvg);
    expect(svgs[0]).to.contain(">53.9<").and.contain(">55.1<");
    expect(svgs[1]).to.contain("SLO p95 200 ms").and.contain("p99 at 8: 420");
    expect(html).to.contain('<span class="add">+        cpu: 900m</span>');
  });

  it("a release without profile, champion or rollout still renders, saying what is missing", () => {
    const bare = sampleRelease();
    delete bare.profile;
    delete bare.gate;
    delete bare.deployments.prod;
    const md = renderMarkdown(buildReportModel(bare));
    expect(md).to.contain("Not profiled.");
    expect(md).to.contain("| rmse | 53.9 | - |");
    expect(md).to.not.contain("PROD rollout");
    expect(renderHtml(buildReportModel(bare))).to.contain("<p>Not profiled.</p>");
  });

  it("a rollout stopped in shadow shows the shadow verdict and its figures (Markdown and HTML); no section without one", () => {
    const f = sampleRelease();
    const ro = f.deployments.prod!.rollout!;
    delete f.deployments.prod;
    f.failedRollouts = [
      {
        ...ro,
        stack: "prod",
        at: "2026-11-27T09:10:00.000Z",
        outcome: "rolled-back",
        steps: ro.steps.slice(0, 1),
        detail: "shadow of 50% for 5s failed before any user traffic: error rate 68% (70/103) > 1%; all traffic stays on blue (v3)",
        shadow: {
          from: "blue",
          to: "green",
          percent: 50,
          seconds: 5,
          startedAt: "a",
          endedAt: "b",
          mirrored: 103,
          dropped: 2,
          errors: 70,
          errorRate: 0.67961,
          compared: 33,
          disagreements: 0,
          disagreementRate: 0,
          maxAbsDiff: 0,
          liveP99Ms: 4.2,
          shadowP99Ms: 6.5,
          p99Ratio: 1.548,
          passed: false,
          detail: "error rate 68% (70/103) > 1%",
        },
      },
    ];
    const md = renderMarkdown(buildReportModel(f));
    expect(md).to.contain("## Shadow traffic before the canary");
    expect(md).to.contain("50% of live requests copied to green for 5s (its answers dropped), compared with blue: FAILED: error rate 68% (70/103) &gt; 1%");
    expect(md).to.contain("| Errors of the new version (5xx or no answer) | 70 (67.96%) |");
    expect(md).to.contain("| Mirrored (pairs recorded) | 103 (2 dropped: too many in flight) |");
    expect(md).to.contain("| p99 latency, new vs live | 6.5 ms vs 4.2 ms (1.548x) |");
    const html = renderHtml(buildReportModel(f));
    expect(html).to.contain("<h2>Shadow traffic before the canary</h2>");
    expect(renderMarkdown(buildReportModel(r))).to.not.contain("Shadow traffic");
  });

  it("writes <release-id>.md and .html under .mlops/reports", async () => {
    const dir = tempDir("mlops-report-");
    try {
      const p = await writeReleaseReport(dir, r, change);
      expect(p.markdown).to.equal(path.join(dir, ".mlops", "reports", "rel-20261127-090000-abcd.md"));
      expect(await readFile(p.html, "utf8")).to.contain("Latency percentiles by concurrency");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("charts escape labels and scale axes to round numbers", () => {
    const svg = metricPanels([{ name: "a<b", challenger: 1 }]);
    assertBalancedSvg(svg);
    expect(svg).to.contain("a&lt;b");
    assertBalancedSvg(lineChart({ title: "t & u", xLabel: "x", yLabel: "y", x: [1], series: [{ name: "s", values: [3] }] }));
    expect(niceScale(420)).to.deep.equal({ top: 500, step: 100 });
    expect(niceScale(0.452, 4)).to.deep.equal({ top: 0.6, step: 0.2 });
    expect(parseDocument(prod).errors).to.deep.equal([]);
  });
});
