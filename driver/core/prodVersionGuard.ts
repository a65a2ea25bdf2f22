/**
 * What PROD really serves, as the promote path needs it: promote never takes PROD (or the champion) back to an
 * older model version unless asked (going back is `mlops rollback`'s job), and a released release that no longer
 * serves PROD (rolled back, or replaced) is reported as such, never as "already serving". What PROD serves comes
 * from the target's EnvironmentsPort.describe("prod"), the champion from RegistryPort.champion: both targets.
 */
import { InvalidStateError } from "./errors.js";
import type { Target } from "./ports.js";
import type { Release } from "./release.js";

/** -1/0/1 for registry versions (positive integers on MLflow and Azure ML); undefined when either is not one. */
function compareVersions(a: string, b: string): number | undefined {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  return Math.sign(Number(a) - Number(b));
}

export interface ProdVersions {
  served?: string;
  champion?: string;
}

/** The version PROD serves (of this model) and the champion's. */
export async function prodVersions(t: Target, modelName: string): Promise<ProdVersions> {
  const [status, champion] = await Promise.all([t.environments.describe("prod"), t.registry.champion(modelName)]);
  const served = status.modelVersion && (status.modelName ?? modelName) === modelName ? status.modelVersion : undefined;
  return { ...(served ? { served } : {}), ...(champion ? { champion: champion.version } : {}) };
}

/**
 * Refuses to promote `release` when its model is older than what PROD serves or than the champion; with
 * `allowDowngrade`, returns the line to record instead. Returns undefined when it is no downgrade.
 */
export async function checkDowngrade(t: Target, release: Release, allowDowngrade: boolean): Promise<string | undefined> {
  const model = release.model;
  if (!model) return undefined;
  const v = await prodVersions(t, model.name);
  const newer = [v.served, v.champion].filter((x): x is string => x !== undefined && compareVersions(x, model.version) === 1);
  if (newer.length === 0) return undefined;
  const from = v.served ?? v.champion!;
  if (!allowDowngrade) {
    throw new InvalidStateError(
      `release ${release.id} would take prod from ${model.name} v${from} back to v${model.version}${v.champion ? ` (champion: v${v.champion})` : ""}: promote does not downgrade; to go back to an earlier version run 'mlops rollback prod', or promote it anyway with --allow-downgrade`,
    );
  }
  return `--allow-downgrade: prod served ${v.served ? `v${v.served}` : "no version it reported"}${v.champion ? ` (champion v${v.champion})` : ""}; promoting v${model.version}`;
}

/** For a released release: throws when PROD serves another version now (what it serves, and why if known). */
export async function assertStillServing(t: Target, release: Release): Promise<void> {
  const model = release.model;
  if (!model) return;
  const { served } = await prodVersions(t, model.name);
  if (!served || served === model.version) return;
  const rolledBack = release.events.filter((e) => e.event === "rolled-back").at(-1);
  throw new InvalidStateError(
    `release ${release.id} put ${model.name} v${model.version} into prod, but prod serves v${served} now (${rolledBack ? `rolled back at ${rolledBack.at}` : "another release or a rollback replaced it"}); promote does not deploy a release twice: start a new release to serve v${model.version} again`,
  );
}
