/**
 * The CLI side of profiling, rollback and release reports: `mlops profile <stack> [--apply]`,
 * `mlops rollback <stack>`, and the report written at the end of `release` and `promote`. Results go to
 * stdout (text or --json), the report's path to stderr.
 */
import { EnvironmentError, UsageError } from "../core/errors.js";
import type { Progress, Target } from "../core/ports.js";
import { STACKS, type DeploymentRecord, type Release, type StackName } from "../core/release.js";
import { applyConfigChange, readConfigChange, type ConfigChange } from "../profile/prodConfigChange.js";
import { describeLevel } from "../profile/profiler.js";
import type { ProfileReport } from "../profile/profileTypes.js";
import { writeReleaseReport, type ReportPaths } from "../report/writeReleaseReport.js";
import { rollbackStack } from "../rollout/rollbackStack.js";

export interface CommandOutput {
  json: unknown;
  text: string;
}

function parseStack(value: string): StackName {
  if ((STACKS as readonly string[]).includes(value)) return value as StackName;
  throw new UsageError(`unknown stack '${value}'; use one of: ${STACKS.join(", ")}`);
}

const newestFirst = (rs: Release[]): Release[] => [...rs].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));

async function sizingChange(repoRoot: string, profile: ProfileReport | undefined): Promise<ConfigChange | undefined> {
  if (!profile?.recommendation.feasible) return undefined;
  return readConfigChange(repoRoot, "prod", profile.recommendation).catch(() => undefined);
}

async function writeReport(repoRoot: string, release: Release): Promise<ReportPaths> {
  return writeReleaseReport(repoRoot, release, await sizingChange(repoRoot, release.profile));
}

/**
 * Runs a release operation, then (even when it failed) writes the report of the release it ran and prints its path.
 * `ran` names the release the operation took on (the state machine's activeReleaseId): a command refused before
 * that (the lock is held, the release is not approved) writes and prints no report, never another release's.
 */
export async function writeReportFor(repoRoot: string, t: Target, run: () => Promise<Release>, ran: () => string | undefined): Promise<Release> {
  let release: Release | undefined;
  try {
    release = await run();
    return release;
  } finally {
    const id = release?.id ?? ran();
    const r = release ?? (id ? await t.store.load(id).catch(() => undefined) : undefined);
    if (r) {
      const p = await writeReport(repoRoot, r).catch(
        (e: Error) => (process.stderr.write(`mlops: the release report could not be written: ${e.message}\n`), undefined),
      );
      if (p) process.stderr.write(`report: ${p.html}\n        ${p.markdown}\n`);
    }
  }
}

export async function profileCommand(repoRoot: string, t: Target, stackArg: string, o: { apply: boolean }, progress: Progress): Promise<CommandOutput> {
  const stack = parseStack(stackArg);
  if (!t.profiling) throw new UsageError(`the ${t.name} target cannot profile yet; use --target local`);
  const status = await t.environments.describe(stack);
  if (!status.healthy || !status.modelVersion) throw new EnvironmentError(`${stack} is not serving (${status.detail}); deploy it first with 'mlops release'`);
  const owner = newestFirst(await t.store.list()).find((r) => r.deployments[stack]?.modelVersion === status.modelVersion);
  const deployment: DeploymentRecord = owner?.deployments[stack] ?? {
    stack,
    modelName: status.modelName ?? "",
    modelVersion: status.modelVersion,
    digest: status.digest ?? "",
    scoringUri: status.scoringUri ?? "",
    deployedAt: "",
    detail: status.detail,
  };
  const profile = await t.profiling.profile(stack, deployment, progress);
  const rec = profile.recommendation;
  const change = await (rec.feasible ? readConfigChange(repoRoot, "prod", rec) : Promise.resolve(undefined));
  const applied = !!(o.apply && change && change.changes.length > 0);
  if (o.apply && !change) throw new EnvironmentError(`no load level met the SLO, so there is no sizing to apply: ${profile.run.stoppedBecause}`);
  if (applied) await applyConfigChange(repoRoot, change!);

  let report: ReportPaths | undefined;
  if (owner) {
    const lock = await t.store.lock(`profile ${stack}`);
    try {
      const fresh = await t.store.load(owner.id);
      fresh.profile = profile;
      fresh.updatedAt = new Date().toISOString();
      fresh.events.push({
        at: fresh.updatedAt,
        event: "profiled",
        detail: `mlops profile ${stack}${applied ? " --apply" : ""}: ${rec.feasible ? `${rec.instances} instance(s), ${rec.requests.cpu}/${rec.requests.memory}` : "no level within the SLO"}`,
      });
      await t.store.save(fresh);
      report = await writeReport(repoRoot, fresh);
    } finally {
      await lock.release();
    }
  }

  const lines = [
    `profile of ${stack} (v${status.modelVersion}) at ${profile.run.url}`,
    ...profile.run.levels.map((l) => `  ${describeLevel(l)}`),
    `  stopped: ${profile.run.stoppedBecause}`,
    "",
  ];
  if (rec.feasible) {
    lines.push(
      `recommended for prod: ${rec.instances} instance(s), requests ${rec.requests.cpu} / ${rec.requests.memory}, limits ${rec.limits.cpu} / ${rec.limits.memory}`,
    );
  } else lines.push("no sizing recommended: no level met the SLO");
  lines.push(...rec.reasoning.map((r) => `  - ${r}`));
  if (change) {
    lines.push("");
    if (change.diff === "") lines.push(`${change.file} already holds this sizing`);
    else
      lines.push(
        change.diff,
        "",
        applied
          ? `applied to ${change.file}; run 'pulumi up --stack prod' to roll it out`
          : `not applied: run 'mlops profile ${stack} --apply' to write it to ${change.file}`,
      );
  }
  if (report) lines.push(`recorded on release ${owner!.id}; report ${report.html}`);
  return {
    json: {
      stack,
      modelVersion: status.modelVersion,
      release: owner?.id ?? null,
      profile,
      change: change ? { file: change.file, changes: change.changes, diff: change.diff } : null,
      applied,
      report: report ?? null,
    },
    text: lines.join("\n"),
  };
}

export async function rollbackCommand(t: Target, stackArg: string, progress: Progress): Promise<CommandOutput> {
  const stack = parseStack(stackArg);
  const r = await rollbackStack(t, stack, progress);
  return {
    json: { stack, from: r.from, to: r.to.version, release: r.releaseId, deployment: r.deployment, validation: r.validation },
    text: `${stack} serves ${r.to.name} v${r.to.version} again (was v${r.from}); ${r.validation.detail}${stack === "prod" ? `; v${r.to.version} is champion again` : ""}`,
  };
}
