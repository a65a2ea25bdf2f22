/** mlops.yaml's monitor: section: defaults, each rule at its edge, and one-line refusals naming the key. */
import { expect } from "chai";
import { configRefusal, MINIMAL_CONFIG } from "../../support/configRefusal.js";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { durationSeconds } from "../../../driver/monitor/duration.js";

const ok = MINIMAL_CONFIG;
const withMonitor = (monitor: Record<string, unknown>) => ({ ...ok, monitor });

const refusal = configRefusal;

describe("mlops.yaml monitor: section (driver/config/monitorConfig.ts)", () => {
  it("has defaults for every key, so the section may be left out", () => {
    const m = parseReleaseConfig(ok).monitor;
    expect(m).to.deep.equal({
      mode: "enabled",
      window: "7d",
      minSamples: 200,
      windows: 6,
      thresholds: { psi: 0.2, ksPValue: 0.01, predictionPsi: 0.2, outOfRangeRate: 0.05, errorRate: 0.05, p99LatencyMs: 500 },
      collection: { enabled: true, samplingPercent: 100, maxFileMB: 8, retentionDays: 30 },
    });
  });

  it("mode is disabled, dry_run or enabled", () => {
    expect(parseReleaseConfig(withMonitor({ mode: "dry_run" })).monitor.mode).to.equal("dry_run");
    expect(refusal(withMonitor({ mode: "on" }))).to.match(/^mlops.yaml: monitor.mode: must be disabled, dry_run or enabled; fix the value/);
  });

  it("samplingPercent is a whole percentage from 0 to 100, both ends allowed", () => {
    expect(parseReleaseConfig(withMonitor({ collection: { samplingPercent: 0 } })).monitor.collection.samplingPercent).to.equal(0);
    expect(parseReleaseConfig(withMonitor({ collection: { samplingPercent: 100 } })).monitor.collection.samplingPercent).to.equal(100);
    expect(refusal(withMonitor({ collection: { samplingPercent: 101 } }))).to.match(
      /monitor.collection.samplingPercent: must be a whole percentage from 0 to 100/,
    );
    expect(refusal(withMonitor({ collection: { samplingPercent: 12.5 } }))).to.match(/monitor.collection.samplingPercent: must be a whole percentage/);
  });

  it("retentionDays and maxFileMB are bounded; unknown keys in collection: are refused", () => {
    expect(refusal(withMonitor({ collection: { retentionDays: 0 } }))).to.match(/monitor.collection.retentionDays: must be from 1 to 3650 \(days\)/);
    expect(refusal(withMonitor({ collection: { maxFileMB: 0.5 } }))).to.match(/monitor.collection.maxFileMB: must be from 1 to 1024 \(MB\)/);
    expect(refusal(withMonitor({ collection: { sampleRate: 1 } }))).to.match(/monitor.collection: Unrecognized key: "sampleRate"/);
  });

  it("minSamples is an integer >= 30: never a verdict from a handful of rows", () => {
    expect(parseReleaseConfig(withMonitor({ minSamples: 30 })).monitor.minSamples).to.equal(30);
    expect(refusal(withMonitor({ minSamples: 29 }))).to.match(/monitor.minSamples: must be an integer >= 30/);
  });

  it("thresholds: PSI > 0, p-values and rates from 0 to 1", () => {
    expect(refusal(withMonitor({ thresholds: { psi: 0 } }))).to.match(/monitor.thresholds.psi: must be a number > 0/);
    expect(refusal(withMonitor({ thresholds: { ksPValue: 1.5 } }))).to.match(/monitor.thresholds.ksPValue: must be a number from 0 to 1/);
    expect(refusal(withMonitor({ thresholds: { drift: 1 } }))).to.match(/monitor.thresholds: Unrecognized key: "drift"/);
  });

  it("window is a duration such as 30m, 24h or 7d", () => {
    expect(parseReleaseConfig(withMonitor({ window: "36h" })).monitor.window).to.equal("36h");
    expect(refusal(withMonitor({ window: "1 week" }))).to.match(/monitor.window: must be a duration such as 30m, 24h or 7d/);
    expect(refusal(withMonitor({ window: "0h" }))).to.match(/monitor.window: must be a duration/);
  });

  it("durations: s, m, h and d", () => {
    expect([durationSeconds("90s"), durationSeconds("30m"), durationSeconds("24h"), durationSeconds("7d")]).to.deep.equal([90, 1800, 86400, 604800]);
    expect([durationSeconds("7"), durationSeconds("7w"), durationSeconds("-1h"), durationSeconds("1.5h")]).to.deep.equal([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
