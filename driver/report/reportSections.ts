/**
 * What the release report says, independent of format: the numbers pulled from a release record into rows
 * and series. Both the Markdown and the HTML renderings are built from this. Pure.
 */
import type { Release } from "../core/release.js";
import { describeIdentity } from "../core/approverIdentity.js";
import type { ConfigChange } from "../profile/prodConfigChange.js";
import type { MetricPair } from "./svgCharts.js";
import { fmtNum } from "./svgCharts.js";

export interface ReportModel {
  title: string;
  summary: Array<[string, string]>;
  steps: Array<{ step: string; status: string; detail: string }>;
  metrics: MetricPair[];
  gateChecks: Array<{ metric: string; passed: boolean; detail: string }>;
  championLabel: string;
  profile?: {
    url: string;
    slo: string;
    stopped: string;
    x: number[];
    p50: number[];
    p95: number[];
    p99: number[];
    sloP95: number;
    sloP99: number;
    rows: string[][];
  };
  sizing?: { feasible: boolean; rows: Array<[string, string]>; reasoning: string[]; change?: ConfigChange };
  rollout?: { title: string; outcome: string; rows: string[][] };
  /** the shadow phase before the canary: one row of figures and its verdict */
  shadow?: { title: string; verdict: string; rows: Array<[string, string]> };
  events: Array<[string, string]>;
}

const ms = (v: number): string => fmtNum(v);
const pct = (x: number): string => `${Number((x * 100).toFixed(2))}%`;

export function buildReportModel(r: Release, change?: ConfigChange): ReportModel {
  const model = r.model ? `${r.model.name} v${r.model.version}` : `${r.modelName} (not registered)`;
  const champ = r.gate?.champion;
  const summary: Array<[string, string]> = [
    ["Release", r.id],
    ["State", r.state],
    ["Target", r.target],
    ["Model", r.model ? `${model} (sha256 ${r.model.digest.slice(0, 12)})` : model],
    ["Champion before", champ ? `v${champ.version} (run ${champ.runId})` : "none"],
    ["Source", r.source ? `commit ${r.source.gitCommit.slice(0, 12)}${r.source.gitDirty ? " + uncommitted changes" : ""}` : "-"],
    ["Created", r.createdAt],
    ["Updated", r.updatedAt],
  ];
  if (r.approval) {
    const who = r.approval.identity ? ` (${describeIdentity(r.approval.identity)})` : "";
    summary.push(["Approval", `${r.approval.by}${who} at ${r.approval.at}`]);
  }
  if (r.trigger)
    summary.push(["Started by", `mlops monitor --retrain: drift on ${r.trigger.stack} v${r.trigger.modelVersion}: ${r.trigger.reasons.join("; ")}`]);
  const steps = Object.entries(r.steps).map(([step, s]) => ({ step, status: s.status, detail: (s.status === "failed" ? s.error?.message : s.detail) ?? "" }));
  const lowerIsBetter = (name: string): boolean | undefined => {
    const check = r.gate?.checks.find((c) => c.metric === name && c.kind === "threshold");
    if (!check) return undefined;
    return /<=/.test(check.detail) ? true : />=/.test(check.detail) ? false : undefined;
  };
  const metrics: MetricPair[] = Object.entries(r.training?.metrics ?? {}).map(([name, v]) => {
    const lib = lowerIsBetter(name);
    return {
      name,
      challenger: v,
      ...(champ?.metrics[name] !== undefined ? { champion: champ.metrics[name] } : {}),
      ...(lib !== undefined ? { lowerIsBetter: lib } : {}),
    };
  });
  const out: ReportModel = {
    title: `Release ${r.id}: ${model}`,
    summary,
    steps,
    metrics,
    gateChecks: (r.gate?.checks ?? []).map((c) => ({ metric: c.metric, passed: c.passed, detail: c.detail })),
    championLabel: champ ? `champion v${champ.version}` : "champion (none)",
    events: r.events.map((e) => [e.at, `${e.event}${e.detail ? `: ${e.detail}` : ""}`]),
  };

  const p = r.profile;
  if (p) {
    out.profile = {
      url: p.run.url,
      slo: `p95 <= ${p.run.slo.p95Ms} ms, p99 <= ${p.run.slo.p99Ms} ms, errors <= ${pct(p.run.slo.maxErrorRate)}`,
      stopped: p.run.stoppedBecause,
      x: p.run.levels.map((l) => l.concurrency),
      p50: p.run.levels.map((l) => l.p50Ms),
      p95: p.run.levels.map((l) => l.p95Ms),
      p99: p.run.levels.map((l) => l.p99Ms),
      sloP95: p.run.slo.p95Ms,
      sloP99: p.run.slo.p99Ms,
      rows: p.run.levels.map((l) => [
        String(l.concurrency),
        fmtNum(l.throughputRps),
        ms(l.p50Ms),
        ms(l.p95Ms),
        ms(l.p99Ms),
        pct(l.errorRate),
        l.resources ? l.resources.cpuCores.toFixed(2) : "-",
        l.resources ? `${(l.resources.peakRssBytes / 1024 ** 2).toFixed(0)} MiB` : "-",
        l.withinSlo ? "within SLO" : l.verdict,
      ]),
    };
    const rec = p.recommendation;
    out.sizing = {
      feasible: rec.feasible,
      rows: [
        ["Target rate", `${p.target.targetRps} req/s with headroom ${p.target.headroom}`],
        ["Sustainable per instance", `${rec.sustainableRps} req/s (at concurrency ${rec.atConcurrency})`],
        ["Instances", String(rec.instances)],
        ["CPU request / limit", `${rec.requests.cpu} / ${rec.limits.cpu}`],
        ["Memory request / limit", `${rec.requests.memory} / ${rec.limits.memory}`],
      ],
      reasoning: rec.reasoning,
      ...(change ? { change } : {}),
    };
  }

  const ro = r.deployments.prod?.rollout ?? r.failedRollouts?.filter((f) => f.stack === "prod").at(-1);
  if (ro) {
    out.rollout = {
      title: `${ro.from}${ro.fromVersion ? ` (v${ro.fromVersion})` : ""} -> ${ro.to} (v${ro.toVersion})`,
      outcome: `${ro.outcome}: ${ro.detail}`,
      rows: ro.steps.map((s) => [
        s.percent === 0 ? "pre-check" : `${s.percent}%`,
        String(s.requests),
        String(s.errors),
        pct(s.errorRate),
        s.healthy ? "yes" : "no",
        s.passed ? "passed" : "FAILED",
        s.detail,
      ]),
    };
  }
  const sh = ro?.shadow;
  if (sh) {
    const msOf = (v: number | undefined): string => (v === undefined ? "-" : `${ms(v)} ms`);
    out.shadow = {
      title: `${sh.percent}% of live requests copied to ${sh.to} for ${sh.seconds}s (its answers dropped), compared with ${sh.from}`,
      verdict: `${sh.passed ? "passed" : "FAILED"}: ${sh.detail}`,
      rows: [
        ["Mirrored (pairs recorded)", `${sh.mirrored}${sh.dropped ? ` (${sh.dropped} dropped: too many in flight)` : ""}`],
        ["Errors of the new version (5xx or no answer)", `${sh.errors} (${pct(sh.errorRate)})`],
        ["Answers that differ", `${sh.disagreements} of ${sh.compared} compared (${pct(sh.disagreementRate)})`],
        ["Largest prediction difference", sh.maxAbsDiff === undefined ? "-" : fmtNum(sh.maxAbsDiff)],
        ["p99 latency, new vs live", `${msOf(sh.shadowP99Ms)} vs ${msOf(sh.liveP99Ms)}${sh.p99Ratio === undefined ? "" : ` (${sh.p99Ratio}x)`}`],
      ],
    };
  }
  return out;
}
