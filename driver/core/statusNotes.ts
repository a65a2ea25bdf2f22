/**
 * What `mlops status` must say plainly above the listing: a PROD left mid-rollout by a release that stopped between
 * its PROD deploy and its crowning (a crash, or a rollback that could not finish). A canary that failed and was
 * rolled back is not one: PROD serves the old version cleanly then.
 */
import { stoppedAt } from "./interruptedReleases.js";
import type { Release } from "./release.js";

function midRollout(r: Release): boolean {
  if (r.state !== "failed" && r.state !== "running") return false;
  const deploy = r.steps["deploy-prod"];
  const validate = r.steps["validate-prod"];
  // a step's error is cleared when it runs again, so an interrupted code means deploy-prod was cut short
  if (deploy.status === "running" || deploy.error?.code === "interrupted") return true;
  // deployed (a version took PROD's traffic) but never validated or crowned; a rollback fails deploy-prod itself
  return deploy.status === "succeeded" && validate.status !== "succeeded";
}

export function attentionNotes(releases: Release[]): string[] {
  const notes: string[] = [];
  for (const r of releases.filter(midRollout)) {
    const model0 = r.model ? `v${r.model.version}` : r.modelName;
    if (r.state === "running") {
      // status marks dead ones interrupted first: a release still running here has a live command behind it
      notes.push(`prod rollout in progress: release ${r.id} (${model0}) is at ${stoppedAt(r)?.step ?? "deploy-prod"} in a running mlops command`);
      continue;
    }
    // a failed release always says where it stopped (between two steps: before the next one)
    const at = stoppedAt(r)!;
    const how = `${at.code === "interrupted" ? "interrupted" : "failed"} at ${at.step}`;
    const lastReleased = releases.filter((x) => x.state === "released" && x.model).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
    const before = r.deployments.prod?.previous?.modelVersion ?? lastReleased?.model?.version;
    const model = model0;
    notes.push(
      `prod is left mid-rollout by release ${r.id} (${model}, ${how}): it may serve ${model}${before ? ` and v${before}` : ""} side by side, and ${model} is not champion; finish it with 'mlops resume ${r.id}', or go back with 'mlops rollback prod'`,
    );
  }
  return notes;
}
