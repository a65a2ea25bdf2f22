/**
 * The sizing recommendation: from the levels a profile measured to instance count, CPU/memory requests and
 * limits. Pure and deterministic, so every rule is unit-tested and every decision is written down in
 * `reasoning`.
 *
 *   sustainable rate  = the highest 2xx throughput among the levels that met the SLO (one instance)
 *   instances         = max(minInstances, ceil(targetRps / (sustainable × headroom)))
 *   cpu request       = mean CPU (cores) of the process tree at that level, rounded up to 50m
 *   memory request    = peak RSS of the process tree × memoryMargin, rounded up to 64Mi
 *   limits            = request × limitFactor, rounded the same way
 * Without resource measurements (a remote endpoint) the current requests/limits are kept and said so.
 */
import { parseCpu, parseMemory } from "../../config/quantities.js";
import { formatBytes, formatCpu, formatMemory } from "./kubernetesQuantities.js";
import type { CapacityTarget, LevelResult, ResourceQuantities, SizingRecommendation } from "./profileTypes.js";

export interface SizingInput {
  levels: readonly LevelResult[];
  target: CapacityTarget;
  /** At least this many instances (2 in PROD so one can drain). */
  minInstances: number;
  /** Peak RSS is multiplied by this for the memory request (>= 1). */
  memoryMargin: number;
  /** Limits are requests multiplied by this (>= 1). */
  limitFactor: number;
  /** The stack's current instance type; kept for what was not measured. */
  current?: { requests: ResourceQuantities; limits: ResourceQuantities };
}

// below defaultinstancetype's limits (2 CPU / 2Gi), which a deployment without an instance type must stay under
const FALLBACK = { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1", memory: "1536Mi" } };

export function recommendSizing(input: SizingInput): SizingRecommendation {
  const { levels, target, minInstances, memoryMargin, limitFactor } = input;
  const reasoning: string[] = [];
  const within = levels.filter((l) => l.withinSlo && l.throughputRps > 0);
  const inputs: SizingRecommendation["inputs"] = { targetRps: target.targetRps, headroom: target.headroom, memoryMargin, limitFactor };
  const current = input.current ?? FALLBACK;

  if (within.length === 0) {
    const first = levels[0];
    reasoning.push(
      first
        ? `no level met the SLO (concurrency ${first.concurrency}: ${first.verdict}); nothing safe to recommend: make the model faster or relax profile.slo`
        : "no level was measured; nothing to recommend",
    );
    return {
      feasible: false,
      sustainableRps: 0,
      atConcurrency: 0,
      instances: 0,
      requests: { ...current.requests },
      limits: { ...current.limits },
      inputs,
      reasoning,
    };
  }

  const best = within.reduce((a, b) => (b.throughputRps > a.throughputRps ? b : a));
  reasoning.push(
    `sustainable rate per instance: ${best.throughputRps.toFixed(1)} req/s at concurrency ${best.concurrency} (highest throughput among ${within.length} level(s) within the SLO)`,
  );
  const usable = best.throughputRps * target.headroom;
  const needed = Math.ceil(target.targetRps / usable - 1e-9);
  const instances = Math.max(minInstances, needed);
  reasoning.push(
    `instances: ceil(${target.targetRps} / (${best.throughputRps.toFixed(1)} × ${target.headroom})) = ${needed}` +
      (instances > needed ? `, raised to the minimum of ${minInstances}` : ""),
  );

  let requests: ResourceQuantities;
  const res = best.resources;
  if (res && res.samples > 0) {
    inputs.cpuCoresAtLevel = round(res.cpuCores, 3);
    inputs.peakRssBytes = res.peakRssBytes;
    const cpu = formatCpu(res.cpuCores);
    const memory = formatMemory(res.peakRssBytes * memoryMargin);
    reasoning.push(`cpu request: ${res.cpuCores.toFixed(3)} cores measured at concurrency ${best.concurrency}, rounded up to ${cpu}`);
    reasoning.push(
      `memory request: peak RSS ${formatBytes(res.peakRssBytes)} × ${memoryMargin} = ${formatBytes(res.peakRssBytes * memoryMargin)}, rounded up to ${memory}`,
    );
    requests = { cpu, memory };
  } else {
    requests = { ...current.requests };
    reasoning.push(`cpu and memory were not measured (remote endpoint): requests kept at ${requests.cpu} / ${requests.memory}`);
  }

  let limits: ResourceQuantities;
  if (res && res.samples > 0) {
    const cpuReq = parseCpu(requests.cpu) ?? 0;
    const memReq = parseMemory(requests.memory) ?? 0;
    limits = { cpu: formatCpu(cpuReq * limitFactor), memory: formatMemory(memReq * limitFactor) };
    reasoning.push(`limits: requests × ${limitFactor} = ${limits.cpu} / ${limits.memory}`);
  } else {
    limits = { ...current.limits };
    reasoning.push(`limits kept at ${limits.cpu} / ${limits.memory}`);
  }

  return { feasible: true, sustainableRps: round(best.throughputRps, 1), atConcurrency: best.concurrency, instances, requests, limits, inputs, reasoning };
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));
