/**
 * Text and JSON views of releases and stacks for the CLI. The JSON shape of `mlops status --json` is
 * documented in the README; change both together.
 */
import type { StackStatus } from "../core/ports.js";
import { STEPS, type Release } from "../core/release.js";

const mark: Record<string, string> = { succeeded: "ok", failed: "FAILED", running: "running", pending: "-", skipped: "skipped" };

export function renderRelease(r: Release): string {
  const lines = [
    `release ${r.id} (${r.target}) ${r.state}`,
    `  model     ${r.model ? `${r.model.name} v${r.model.version} sha256 ${r.model.digest.slice(0, 12)}` : r.modelName + " (not registered)"}`,
  ];
  if (r.source) lines.push(`  source    commit ${r.source.gitCommit.slice(0, 12)}${r.source.gitDirty ? " (uncommitted changes)" : ""}`);
  if (r.trigger) lines.push(`  trigger   monitor: drift on ${r.trigger.stack} v${r.trigger.modelVersion}: ${r.trigger.reasons.join("; ")}`);
  if (r.gate) lines.push(`  gate      ${r.gate.summary}`);
  if (r.approval) lines.push(`  approval  ${r.approval.by} at ${r.approval.at} for v${r.approval.modelVersion}`);
  for (const s of STEPS) {
    const st = r.steps[s];
    const what = st.status === "failed" ? st.error?.message : st.detail;
    lines.push(`  ${s.padEnd(14)} ${(mark[st.status] ?? st.status).padEnd(8)} ${what ?? ""}`.trimEnd());
  }
  return lines.join("\n");
}

export interface StatusJson {
  target: string;
  releases: Array<{
    id: string;
    state: Release["state"];
    createdAt: string;
    updatedAt: string;
    model: { name: string; version: string; digest: string } | null;
    gate: string | null;
    approval: { by: string; at: string; modelVersion: string; digest: string } | null;
    steps: Record<string, string>;
  }>;
  stacks: Record<
    string,
    { modelName: string | null; modelVersion: string | null; digest: string | null; scoringUri: string | null; healthy: boolean; detail: string }
  >;
}

export function statusJson(target: string, releases: Release[], stacks: StackStatus[]): StatusJson {
  return {
    target,
    releases: releases.map((r) => ({
      id: r.id,
      state: r.state,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      model: r.model ? { name: r.model.name, version: r.model.version, digest: r.model.digest } : null,
      gate: r.gate?.outcome ?? null,
      approval: r.approval ? { by: r.approval.by, at: r.approval.at, modelVersion: r.approval.modelVersion, digest: r.approval.digest } : null,
      steps: Object.fromEntries(STEPS.map((s) => [s, r.steps[s].status])),
    })),
    stacks: Object.fromEntries(
      stacks.map((s) => [
        s.stack,
        {
          modelName: s.modelName ?? null,
          modelVersion: s.modelVersion ?? null,
          digest: s.digest ?? null,
          scoringUri: s.scoringUri ?? null,
          healthy: s.healthy,
          detail: s.detail,
        },
      ]),
    ),
  };
}

export function renderStatus(releases: Release[], stacks: StackStatus[]): string {
  const lines = ["stacks:"];
  for (const s of stacks) {
    lines.push(
      `  ${s.stack.padEnd(5)} ${s.modelVersion ? `${s.modelName} v${s.modelVersion} sha256 ${(s.digest ?? "").slice(0, 12)}` : "(nothing deployed)"}  ${s.scoringUri ?? ""}  ${s.healthy ? "healthy" : "not healthy"}: ${s.detail}`.trimEnd(),
    );
  }
  lines.push("releases:");
  if (releases.length === 0) lines.push("  (none yet: run 'npx mlops release')");
  for (const r of releases.slice(-20)) {
    const failed = STEPS.find((s) => r.steps[s].status === "failed" || r.steps[s].status === "running");
    lines.push(`  ${r.id}  ${r.state.padEnd(17)} ${r.model ? `v${r.model.version}` : "-"}${failed ? `  at ${failed}` : ""}`.trimEnd());
  }
  return lines.join("\n");
}
