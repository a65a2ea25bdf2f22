/**
 * The metric gate: pure rules, shaped after MLflow's MetricThreshold (per-metric direction, a hard threshold,
 * and an absolute and relative margin over the champion), with MLflow's verdicts at the edges: the comparisons of
 * `_validate` in mlflow/models/evaluation/validation.py (MLflow 3.17.2). Two deliberate differences: without a
 * champion (or a champion lacking the metric) only the threshold is checked, where MLflow fails the comparison
 * for a missing baseline; and `min_absolute_change: 0` ("no worse than the champion") is allowed. Its result is
 * always a recorded outcome; the state machine decides what a rejection means.
 */
import type { GateConfig, MetricRule } from "../config/releaseConfig.js";
import type { GateResult, MetricCheck, Metrics, RegisteredModel } from "./release.js";

/** MLflow's fallback margin when the champion's metric is 0 (mlflow/models/evaluation/validation.py, `_validate`). */
const ZERO_BASELINE_STEP = 1e-10;

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toPrecision(4));

function checkMetric(metric: string, rule: MetricRule, value: number | undefined, champion?: RegisteredModel): MetricCheck[] {
  if (value === undefined || !Number.isFinite(value)) {
    return [
      {
        metric,
        kind: "present",
        passed: false,
        detail: `${metric} is ${value === undefined ? "missing" : String(value)} in the run's metrics`,
      },
    ];
  }
  const checks: MetricCheck[] = [];
  const better = rule.greater_is_better;
  if (rule.threshold !== undefined) {
    const ok = better ? value >= rule.threshold : value <= rule.threshold;
    checks.push({
      metric,
      kind: "threshold",
      passed: ok,
      detail: `${metric} ${fmt(value)} ${better ? ">=" : "<="} ${fmt(rule.threshold)}${ok ? "" : " failed"}`,
    });
  }
  const base = champion?.metrics[metric];
  if (champion && base !== undefined && Number.isFinite(base)) {
    const gain = better ? value - base : base - value;
    if (rule.min_absolute_change !== undefined) {
      // As MLflow compares: candidate >= baseline + change (higher is better), candidate <= baseline - change
      // (lower is better), not (candidate - baseline) >= change, which differs in floating point at the edge.
      const ok = better ? value >= base + rule.min_absolute_change : value <= base - rule.min_absolute_change;
      checks.push({
        metric,
        kind: "absolute-change",
        passed: ok,
        detail: `${metric} ${fmt(value)} vs champion v${champion.version} ${fmt(base)}: improvement ${fmt(gain)} (need >= ${fmt(rule.min_absolute_change)})`,
      });
    }
    if (rule.min_relative_change !== undefined) {
      // A champion at 0 has no relative scale: MLflow then asks for a plain improvement of at least 1e-10.
      // Otherwise the change is divided by |champion|, so a negative champion keeps the comparison's direction.
      const ok = base === 0 ? (better ? value >= ZERO_BASELINE_STEP : value <= -ZERO_BASELINE_STEP) : gain / Math.abs(base) >= rule.min_relative_change;
      checks.push({
        metric,
        kind: "relative-change",
        passed: ok,
        detail:
          base === 0
            ? `${metric} ${fmt(value)} vs champion v${champion.version} 0: no relative scale, improvement ${fmt(gain)} (need >= 1e-10)`
            : `${metric} ${fmt(value)} vs champion v${champion.version} ${fmt(base)}: relative improvement ${fmt((gain / Math.abs(base)) * 100)}% (need >= ${fmt(rule.min_relative_change * 100)}%)`,
      });
    }
  }
  return checks;
}

/**
 * Evaluates the candidate's metrics. When the candidate *is* the champion (same run, or a new run that produced
 * the champion's model file byte for byte, as `mlops release --no-reuse` of an unchanged source does), the champion
 * comparison is skipped: a rerun with nothing changed is not asked to beat itself.
 */
export function evaluateGate(
  config: GateConfig,
  candidate: { runId: string; metrics: Metrics; modelSha256?: string },
  champion: RegisteredModel | undefined,
): GateResult {
  // (a champion's digest is always a string, so a candidate without a sha256 never matches by digest)
  const itself = champion && (champion.runId === candidate.runId || champion.digest === candidate.modelSha256);
  const compareTo = champion && !itself ? champion : undefined;
  const checks = Object.entries(config.metrics).flatMap(([metric, rule]) => checkMetric(metric, rule, candidate.metrics[metric], compareTo));
  const failed = checks.filter((c) => !c.passed);
  const championInfo = champion ? { version: champion.version, runId: champion.runId, metrics: champion.metrics } : undefined;
  const against = !champion
    ? "no champion yet"
    : compareTo
      ? `champion v${champion.version}`
      : `candidate is champion v${champion.version} itself, comparison skipped`;
  if (config.mode === "disabled") {
    return {
      mode: config.mode,
      outcome: "disabled",
      checks,
      champion: championInfo,
      summary: `gate disabled (${failed.length} of ${checks.length} checks would fail)`,
    };
  }
  if (failed.length === 0) {
    return {
      mode: config.mode,
      outcome: "passed",
      checks,
      champion: championInfo,
      summary: `gate passed: ${checks.length} checks (${against})`,
    };
  }
  const why = failed.map((c) => c.detail).join("; ");
  if (config.mode === "dry_run") {
    return { mode: config.mode, outcome: "passed-dry-run", checks, champion: championInfo, summary: `gate in dry_run would reject: ${why}` };
  }
  return { mode: config.mode, outcome: "rejected", checks, champion: championInfo, summary: `gate rejected the model: ${why}` };
}
