/**
 * `mlops rollback <stack>`: puts the model version that served before the current one back on the stack,
 * validates it and, in PROD, crowns it champion again. Works over the ports only, so any target can do it;
 * what served before comes from the release that deployed the current version (its deployment's `previous`:
 * the version that served 100% when the current one took over; a version whose rollout failed never did).
 * A target with `rollBack` (the local blue/green PROD: a router flip) does it without a new rollout. PROD's
 * champion follows: the champion is what serves PROD, so the next release's gate compares against it.
 */
import { DeploymentError, NotFoundError } from "../core/errors.js";
import type { Progress, Target } from "../core/ports.js";
import type { DeploymentRecord, RegisteredModel, Release, StackName, ValidationResult } from "../core/release.js";

export interface RollbackResult {
  stack: StackName;
  from: string;
  to: RegisteredModel;
  deployment: DeploymentRecord;
  validation: ValidationResult;
  /** the release whose deployment was rolled back */
  releaseId: string;
}

export async function rollbackStack(target: Target, stack: StackName, progress: Progress, now: () => Date = () => new Date()): Promise<RollbackResult> {
  const lock = await target.store.lock(`rollback ${stack}`);
  try {
    const status = await target.environments.describe(stack);
    if (!status.modelVersion) throw new NotFoundError(`nothing is deployed to ${stack}; there is nothing to roll back`);
    const releases = (await target.store.list()).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    const owner: Release | undefined = releases.find((r) => {
      const d = r.deployments[stack];
      return d?.modelVersion === status.modelVersion && !!d?.previous;
    });
    const d = owner?.deployments[stack];
    if (!owner || !d?.previous) {
      throw new NotFoundError(`no release records what ${stack} served before v${status.modelVersion}; deploy the version you want with a release instead`);
    }
    const previous = await target.registry.getVersion(d.modelName, d.previous.modelVersion);
    if (!previous || previous.digest !== d.previous.digest) {
      throw new NotFoundError(
        `${d.modelName} v${d.previous.modelVersion} (${d.previous.digest.slice(0, 12)}) is no longer in the registry; it cannot be put back`,
      );
    }
    progress.info(`rolling ${stack} back from v${status.modelVersion} to v${previous.version}`);
    const env = target.environments;
    const deployment = await (env.rollBack ? env.rollBack(stack, previous, progress) : env.deploy(stack, previous, progress));
    const validation = await target.environments.validate(stack, deployment, progress);
    if (!validation.healthy) throw new DeploymentError(`${stack} runs v${previous.version} again but its validation failed: ${validation.detail}`);
    if (stack === "prod") await target.registry.crownChampion(previous);
    const at = now().toISOString();
    owner.events.push({ at, event: "rolled-back", detail: `mlops rollback: ${stack} serves v${previous.version} again instead of v${status.modelVersion}` });
    owner.updatedAt = at;
    await target.store.save(owner);
    return { stack, from: status.modelVersion, to: previous, deployment, validation, releaseId: owner.id };
  } finally {
    await lock.release();
  }
}
