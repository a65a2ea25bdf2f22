/**
 * Text and JSON views of releases and stacks for the CLI. The JSON shape of `mlops status --json` is
 * documented in the README; change both together.
 */
import { stoppedAt } from "../core/interruptedReleases.js";
import type { StackStatus } from "../core/ports.js";
import { STEPS, type Release } from "../core/release.js";
import { describeIdentity } from "../core/approverIdentity.js";
import { attentionNotes } from "../core/statusNotes.js";

/** The state a person reads: a failed release whose step was cut short by a dead process is "interrupted". */
const shownState = (r: Release): string => (r.state === "failed" && stoppedAt(r)?.code === "interrupted" ? "interrupted" : r.state);
import { sha256Hex } from "../../config/sha256.js";
import { describeTestRun, REUSE_INPUTS, trainingReuseInputs } from "../core/reuseKeys.js";

const mark: Record<string, string> = { succeeded: "ok", failed: "FAILED", running: "running", pending: "-", skipped: "skipped" };

export function renderRelease(r: Release): string {
  const lines = [
    `release ${r.id} (${r.target}) ${shownState(r)}`,
    `  model     ${r.model ? `${r.model.name} v${r.model.version} sha256 ${r.model.digest.slice(0, 12)}` : r.modelName + " (not registered)"}`,
  ];
  if (r.source) lines.push(`  source    commit ${r.source.gitCommit.slice(0, 12)}${r.source.gitDirty ? " (uncommitted changes)" : ""}`);
  if (r.trigger) lines.push(`  trigger   monitor: drift on ${r.trigger.stack} v${r.trigger.modelVersion}: ${r.trigger.reasons.join("; ")}`);
  if (r.gate) lines.push(`  gate      ${r.gate.summary}`);
  if (r.approval) {
    const who = r.approval.identity ? ` [${describeIdentity(r.approval.identity)}]` : "";
    lines.push(`  approval  ${r.approval.by}${who} at ${r.approval.at} for v${r.approval.modelVersion}`);
  }
  const shadow = (r.deployments.prod?.rollout ?? r.failedRollouts?.filter((f) => f.stack === "prod").at(-1))?.shadow;
  if (shadow) lines.push(`  shadow    ${shadow.passed ? "passed" : "FAILED"}: ${shadow.percent}% to ${shadow.to} for ${shadow.seconds}s: ${shadow.detail}`);
  for (const s of STEPS) {
    const st = r.steps[s];
    const what = st.status === "failed" ? st.error?.message : st.detail;
    lines.push(`  ${s.padEnd(14)} ${(mark[st.status] ?? st.status).padEnd(8)} ${what ?? ""}`.trimEnd());
  }
  lines.push(...renderReuseKeys(r));
  return lines.join("\n");
}

/** The inputs each reusable step is keyed by (a step is reused only when all of them equal an earlier run's). */
export function renderReuseKeys(r: Release): string[] {
  const inputs = (named: Record<string, string>) =>
    Object.entries(named).map(([k, v]) => `      ${k.padEnd(12)} ${/^[0-9a-f]{64}$/.test(v) ? v.slice(0, 12) : v}  (${REUSE_INPUTS[k] ?? k})`);
  const lines = [`  reuse keys${r.noReuse ? " (--no-reuse: every step ran)" : ""}`];
  if (r.testsKey) {
    const how = r.tests?.reusedFrom ? `reused from ${describeTestRun(r.tests)}` : "ran";
    lines.push(`    test      key ${r.testsKey.digest.slice(0, 12)}, ${how}`, ...inputs(r.testsKey.inputs));
  } else if (r.steps.test.status !== "pending") {
    lines.push("    test      no key: this run is never reused (inputs not comparable or changed while the tests ran)");
  }
  if (r.source && r.training) {
    lines.push(`    train     ${r.training.reused ? `reused run ${r.training.runId}` : `ran ${r.training.runId}`}`, ...inputs(trainingReuseInputs(r.source)));
  }
  if (r.profile && r.model && r.source?.servingDigest && r.profileSettings) {
    const reused = /^reused/.test(r.steps["profile-int"].detail ?? "");
    lines.push(
      `    profile   ${reused ? "reused" : "ran"}`,
      ...inputs({
        model: `v${r.model.version} sha256 ${r.model.digest.slice(0, 12)}`,
        serving: r.source.servingDigest,
        environment: r.source.envDigest,
        settings: sha256Hex(r.profileSettings),
      }),
    );
  }
  return lines.length > 1 ? lines : [];
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
    /** the step a dead process was running when it ended, or was about to start when it died between two steps
     * (`awaiting-approval`/`champion`: it was recording the end of a phase); state is then "failed": resume it. Else null */
    interruptedAt: string | null;
  }>;
  /** what needs a person now, e.g. PROD left mid-rollout (plain sentences; [] when nothing) */
  attention: string[];
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
      approval: r.approval
        ? { by: r.approval.by, at: r.approval.at, modelVersion: r.approval.modelVersion, digest: r.approval.digest, identity: r.approval.identity ?? null }
        : null,
      steps: Object.fromEntries(STEPS.map((s) => [s, r.steps[s].status])),
      interruptedAt: shownState(r) === "interrupted" ? stoppedAt(r)!.step : null,
    })),
    attention: attentionNotes(releases),
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
  const notes = attentionNotes(releases);
  const lines = notes.length ? ["attention:", ...notes.map((n) => `  ${n}`), "stacks:"] : ["stacks:"];
  for (const s of stacks) {
    lines.push(
      `  ${s.stack.padEnd(5)} ${s.modelVersion ? `${s.modelName} v${s.modelVersion} sha256 ${(s.digest ?? "").slice(0, 12)}` : "(nothing deployed)"}  ${s.scoringUri ?? ""}  ${s.healthy ? "healthy" : "not healthy"}: ${s.detail}`.trimEnd(),
    );
  }
  lines.push("releases:");
  if (releases.length === 0) lines.push("  (none yet: run 'npm run mlops -- release')");
  for (const r of releases.slice(-20)) {
    const at = stoppedAt(r)?.step;
    lines.push(`  ${r.id}  ${shownState(r).padEnd(17)} ${r.model ? `v${r.model.version}` : "-"}${at ? `  at ${at}` : ""}`.trimEnd());
  }
  return lines.join("\n");
}
