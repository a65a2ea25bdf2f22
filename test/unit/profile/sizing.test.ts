import { expect } from "chai";
import { formatCpu, formatMemory } from "../../../driver/profile/kubernetesQuantities.js";
import { percentile, sortedCopy } from "../../../driver/profile/percentiles.js";
import type { LevelResult } from "../../../driver/profile/profileTypes.js";
import { recommendSizing, type SizingInput } from "../../../driver/profile/sizing.js";
import { judgeLevel } from "../../../driver/profile/sloCheck.js";

const MiB = 1024 ** 2;

function level(concurrency: number, throughputRps: number, withinSlo: boolean, cpuCores?: number, peakRssMiB?: number): LevelResult {
  return {
    concurrency,
    durationS: 2,
    requests: throughputRps * 2,
    throughputRps,
    p50Ms: 10,
    p95Ms: 20,
    p99Ms: 30,
    maxMs: 40,
    non2xx: 0,
    errors: 0,
    errorRate: 0,
    withinSlo,
    verdict: withinSlo ? "within SLO" : "p95 300 ms > 200 ms",
    ...(cpuCores !== undefined ? { resources: { cpuCores, cpuCoresPeak: cpuCores, peakRssBytes: (peakRssMiB ?? 0) * MiB, samples: 8 } } : {}),
  };
}

const base: Omit<SizingInput, "levels"> = { target: { targetRps: 200, headroom: 0.7 }, minInstances: 2, memoryMargin: 1.5, limitFactor: 2 };

describe("exact percentiles (nearest rank)", () => {
  it("gives p50/p95/p99 of 1..100 as 50/95/99 and handles tiny samples", () => {
    const s = sortedCopy(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect([percentile(s, 50), percentile(s, 95), percentile(s, 99), percentile(s, 100)]).to.deep.equal([50, 95, 99, 100]);
    expect(percentile(sortedCopy([7]), 95)).to.equal(7);
    expect(percentile(sortedCopy([]), 95)).to.equal(0);
  });
});

describe("Kubernetes quantities", () => {
  it("rounds CPU up to 50m and prints whole cores plainly", () => {
    expect([formatCpu(0.01), formatCpu(0.26), formatCpu(1), formatCpu(1.01), formatCpu(2)]).to.deep.equal(["50m", "300m", "1", "1050m", "2"]);
  });
  it("rounds memory up to 64Mi and prints whole GiB as Gi", () => {
    expect([formatMemory(1), formatMemory(300 * MiB), formatMemory(1024 * MiB), formatMemory(1025 * MiB)]).to.deep.equal(["64Mi", "320Mi", "1Gi", "1088Mi"]);
  });
});

describe("SLO verdict of a level", () => {
  const slo = { p95Ms: 100, p99Ms: 200, maxErrorRate: 0.01 };
  it("passes within every bound and names each broken bound otherwise", () => {
    expect(judgeLevel({ p95Ms: 50, p99Ms: 80, errorRate: 0, requests: 10, errors: 0 }, slo).withinSlo).to.equal(true);
    const v = judgeLevel({ p95Ms: 150, p99Ms: 80, errorRate: 0.05, requests: 10, errors: 0 }, slo);
    expect(v.withinSlo).to.equal(false);
    expect(v.verdict).to.equal("p95 150.0 ms > 100.0 ms, error rate 5% > 1%");
  });
  it("a level with no response at all never passes", () => {
    expect(judgeLevel({ p95Ms: 0, p99Ms: 0, errorRate: 0, requests: 0, errors: 0 }, slo).verdict).to.equal("no response at all");
  });
});

describe("sizing recommendation (pure)", () => {
  it("sizes from the highest-throughput level within the SLO: instances, cpu and memory with margins, limits × factor", () => {
    const r = recommendSizing({ ...base, levels: [level(1, 40, true, 0.3, 200), level(2, 80, true, 0.62, 210), level(4, 90, false, 0.9, 220)] });
    expect(r.feasible).to.equal(true);
    expect(r.sustainableRps).to.equal(80);
    expect(r.atConcurrency).to.equal(2);
    // ceil(200 / (80 × 0.7)) = ceil(3.57) = 4
    expect(r.instances).to.equal(4);
    expect(r.requests).to.deep.equal({ cpu: "650m", memory: "320Mi" }); // 0.62 -> 650m; 210 MiB × 1.5 = 315 -> 320Mi
    expect(r.limits).to.deep.equal({ cpu: "1300m", memory: "640Mi" });
    expect(r.inputs).to.deep.include({ targetRps: 200, headroom: 0.7, cpuCoresAtLevel: 0.62, peakRssBytes: 210 * MiB });
    expect(r.reasoning[1]).to.equal("instances: ceil(200 / (80.0 × 0.7)) = 4");
  });

  it("never recommends fewer than minInstances", () => {
    const r = recommendSizing({ ...base, target: { targetRps: 5, headroom: 0.7 }, levels: [level(1, 100, true, 0.2, 100)] });
    expect(r.instances).to.equal(2);
    expect(r.reasoning[1]).to.match(/= 1, raised to the minimum of 2$/);
  });

  it("keeps the current requests and limits when resources were not measured (remote endpoint)", () => {
    const current = { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } };
    const r = recommendSizing({ ...base, levels: [level(1, 50, true)], current });
    expect(r.requests).to.deep.equal(current.requests);
    expect(r.limits).to.deep.equal(current.limits);
    expect(r.instances).to.equal(6); // ceil(200 / 35)
    expect(r.reasoning.join(" ")).to.match(/not measured/);
  });

  it("is infeasible, with a reason, when not even the lowest level met the SLO", () => {
    const r = recommendSizing({ ...base, levels: [level(1, 10, false, 0.9, 100)] });
    expect(r.feasible).to.equal(false);
    expect(r.instances).to.equal(0);
    expect(r.reasoning[0]).to.match(/^no level met the SLO \(concurrency 1: p95 300 ms > 200 ms\)/);
  });
});
