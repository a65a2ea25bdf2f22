/**
 * The release state machine. It knows the order of the steps, what each records and which transitions are
 * allowed; it knows nothing of processes, HTTP or Azure (those are behind the ports). Every step persists its
 * state before and after it runs, and every port call it makes is idempotent, so a release interrupted at any
 * point resumes with `resume` without doing any step twice.
 *
 *   test -> train -> gate -> register -> deploy-int -> validate-int -> profile-int -> [awaiting-approval]
 *        -> approve -> deploy-prod -> validate-prod -> champion
 *
 * The port method (driver/core/ports.ts) each step calls; every change of state is saved by store.save, and
 * every operation holds store.lock:
 *   start          target.preflight (tools, ports), source.fingerprint   (records the digests the release is about)
 *   test           source.fingerprint + store.list (a passing run with the same reuse key, see reuseKeys.ts), else
 *                  tests.runUnitTests, then source.fingerprint (unchanged while they ran?)
 *   train          source.fingerprint (unchanged?), training.findReusable, else training.train (--no-reuse: always train)
 *   gate           registry.champion (the gate itself is gate.ts, no port)
 *   register       registry.findByRun, else registry.register
 *   deploy-int     source.fingerprint (serving files unchanged since the release started), environments.deploy("int")
 *   validate-int   environments.validate("int")
 *   profile-int    profiling.profile("int") (skipped when the target has no profiling port); store.list for an earlier profile
 *   approve        approvals.approvers("prod"), registry.recordApproval
 *   deploy-prod    registry.getVersion (digest still the approved one), source.fingerprint as for int,
 *                  environments.deploy("prod"); on failure environments.rollBack("prod") or environments.deploy("prod")
 *   validate-prod  environments.validate("prod") (a failure rolls back as above)
 *   champion       registry.crownChampion
 *   resume         store.load, target.preflight, then the next step above
 *   status         store.list; with the lock free, releases left running are dead ones: marked interrupted
 * Every operation that takes the lock first marks releases left running by a dead process as interrupted
 * (interruptedReleases.ts), so the first command to look records the crash, once.
 */
import type { ShadowRecord } from "../rollout/shadowTypes.js";
import { randomBytes } from "node:crypto";
import type { ReleaseConfig } from "../config/releaseConfig.js";
import {
  ApprovalError,
  DataError,
  DeploymentError,
  endedRelease,
  GateRejectedError,
  InvalidStateError,
  MlopsError,
  RolloutRolledBackError,
  UnitTestsFailedError,
} from "./errors.js";
import { evaluateGate } from "./gate.js";
import { approverName } from "./approverIdentity.js";
import { markInterrupted, stoppedAt } from "./interruptedReleases.js";
import { assertStillServing, checkDowngrade } from "./prodVersionGuard.js";
import { runTestStep } from "./testStep.js";
import type { Progress, ReleaseLock, Target } from "./ports.js";
import {
  CANDIDATE_STEPS,
  PRODUCTION_STEPS,
  newRelease,
  type ApproverIdentity,
  type Release,
  type ReleaseTrigger,
  type RegisteredModel,
  type StepName,
} from "./release.js";

export interface ReleaseMachineDeps {
  target: Target;
  config: ReleaseConfig;
  progress: Progress;
  /** false (`mlops release --no-reuse`): a new release runs every step, reusing no earlier tests, training or profile */
  reuse?: boolean;
  now?: () => Date;
  newId?: () => string;
}

type StepFn = (release: Release) => Promise<string>;

/** Errors that end a release for good: the code, the data or the model must change before trying again. */
const isFinalVerdict = (e: unknown): boolean => e instanceof GateRejectedError || e instanceof UnitTestsFailedError || e instanceof DataError;

export function defaultReleaseId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `rel-${stamp}-${randomBytes(2).toString("hex")}`;
}

export class ReleaseStateMachine {
  private readonly now: () => Date;
  private readonly newId: () => string;
  private active?: string;

  /** The release the last operation took on (created, resumed or promoted), once it got past its refusals; for
   * the CLI to report on that release, never on another. */
  get activeReleaseId(): string | undefined {
    return this.active;
  }

  constructor(private readonly deps: ReleaseMachineDeps) {
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? (() => defaultReleaseId(this.now()));
  }

  private get t(): Target {
    return this.deps.target;
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  private async save(release: Release, event?: string, detail?: string): Promise<void> {
    release.updatedAt = this.stamp();
    if (event) release.events.push({ at: release.updatedAt, event, ...(detail ? { detail } : {}) });
    await this.t.store.save(release);
  }

  private async withLock<T>(purpose: string, fn: () => Promise<T>): Promise<T> {
    const lock = await this.t.store.lock(purpose);
    try {
      await markInterrupted(this.t.store, () => this.stamp(), this.deps.progress);
      return await fn();
    } finally {
      await lock.release();
    }
  }

  /**
   * Every release, as it truly stands: when a record says `running` and nobody holds the release lock, its process
   * died, and it is marked interrupted now (recorded, not only shown). While a live command holds the lock the
   * records are shown as they are. Takes the lock only when there is something to mark.
   */
  async status(): Promise<Release[]> {
    const releases = await this.t.store.list();
    if (!releases.some((r) => r.state === "running")) return releases;
    let lock: ReleaseLock;
    try {
      lock = await this.t.store.lock("status");
    } catch {
      return releases; // held by a live command (it is running them), or the state cannot be locked here
    }
    try {
      await markInterrupted(this.t.store, () => this.stamp(), this.deps.progress);
      return await this.t.store.list();
    } finally {
      await lock.release();
    }
  }

  /** Starts a new release and runs it up to the approval hold. */
  async start(trigger?: ReleaseTrigger): Promise<Release> {
    return this.withLock("release", async () => {
      await this.t.preflight?.(this.deps.progress);
      const release = newRelease(this.newId(), this.t.name, this.deps.config.model.name, this.stamp());
      if (trigger) {
        release.trigger = trigger;
        release.events.push({
          at: release.createdAt,
          event: "triggered",
          detail: `by monitor on ${trigger.stack} v${trigger.modelVersion}: ${trigger.reasons.join("; ")}`,
        });
      }
      release.source = await this.t.source.fingerprint();
      if (this.deps.reuse === false) release.noReuse = true;
      await this.save(release);
      this.active = release.id;
      this.deps.progress.info(
        `release ${release.id} started (commit ${release.source.gitCommit.slice(0, 12)}${release.source.gitDirty ? ", uncommitted changes" : ""})`,
      );
      await this.runCandidate(release).catch((e: unknown) => {
        throw endedRelease(release.id, e);
      });
      return release;
    });
  }

  /** Continues a failed or interrupted release from the step where it stopped. */
  async resume(id: string): Promise<Release> {
    return this.withLock(`resume ${id}`, async () => {
      const release = await this.t.store.load(id);
      switch (release.state) {
        case "rejected":
          throw new InvalidStateError(
            `release ${id} was rejected (${this.failedStep(release)}); that is final: change the code or data and run 'mlops release'`,
          );
        case "released":
          this.deps.progress.info(`release ${id} is already released; nothing to do`);
          return release;
        case "awaiting-approval":
          throw new InvalidStateError(`release ${id} is awaiting approval; run 'mlops approve ${id} --as <name>'`);
        case "approved":
          throw new InvalidStateError(`release ${id} is approved; run 'mlops promote ${id}'`);
        default:
          break;
      }
      const inProduction = PRODUCTION_STEPS.some((s) => release.steps[s].status !== "pending");
      this.active = release.id;
      await this.t.preflight?.(this.deps.progress);
      await (inProduction ? this.runProduction(release) : this.runCandidate(release)).catch((e: unknown) => {
        throw endedRelease(release.id, e);
      });
      return release;
    });
  }

  /**
   * Records an approval from a listed approver, bound to this release's model version and digest. `identity` is who
   * runs the command (a CI system's record of the approver, or the target's own: token claims on azure, the OS user
   * locally); `by` is the `--as` name, which an authenticated identity may leave empty and may not contradict.
   */
  async approve(id: string, by: string, comment?: string, identity?: ApproverIdentity): Promise<Release> {
    return this.withLock(`approve ${id}`, async () => {
      const release = await this.t.store.load(id);
      const who = identity ?? (await this.t.approvals.identity());
      const name = approverName(by, who, await this.t.approvals.approvers("prod"));
      if (release.state !== "awaiting-approval" && release.state !== "approved") {
        throw new ApprovalError(
          `release ${id} is ${release.state}, not awaiting approval; only a release validated in INT can be approved (see 'mlops status')`,
        );
      }
      const model = release.model;
      const validated = release.validations.int;
      if (!model || !validated?.healthy || validated.modelVersion !== model.version || validated.digest !== model.digest) {
        throw new ApprovalError(`release ${id} has no passing INT validation for its model; it cannot be approved`);
      }
      const approvers = await this.t.approvals.approvers("prod");
      if (approvers.length === 0) {
        throw new ApprovalError("no approvers are listed for prod; add names under mlops:approvers in Pulumi.prod.yaml");
      }
      const listed = approvers.find((a) => a.toLowerCase() === name.toLowerCase());
      if (!listed) {
        throw new ApprovalError(`'${name}' may not approve releases into prod; approvers listed in Pulumi.prod.yaml: ${approvers.join(", ")}`);
      }
      if (release.approval) {
        const a = release.approval;
        this.deps.progress.info(`release ${id} was already approved by ${a.by} at ${a.at}; keeping that approval`);
        return release;
      }
      release.approval = {
        stack: "prod",
        by: listed,
        identity: who,
        at: this.stamp(),
        modelName: model.name,
        modelVersion: model.version,
        digest: model.digest,
        ...(comment ? { comment } : {}),
      };
      await this.t.registry.recordApproval(release.approval);
      release.state = "approved";
      await this.save(release, "approved", `${listed} approved ${model.name} v${model.version} (${model.digest.slice(0, 12)})`);
      return release;
    });
  }

  /** Deploys an approved release to PROD, validates it, and crowns it champion. Never to an older version than PROD
   * serves or the champion unless `allowDowngrade` (going back is `mlops rollback`'s job). */
  async promote(id: string, opts: { allowDowngrade?: boolean } = {}): Promise<Release> {
    return this.withLock(`promote ${id}`, async () => {
      const release = await this.t.store.load(id);
      if (release.state === "released") {
        await assertStillServing(this.t, release);
        this.deps.progress.info(`release ${id} is already serving in prod; nothing to do`);
        return release;
      }
      const inProduction = PRODUCTION_STEPS.some((s) => release.steps[s].status !== "pending");
      // a release interrupted (or failed) in PROD is finished by promote, as by resume (only a failed release is
      // in PROD without being released: withLock marked any left running)
      if (release.state !== "approved" && !inProduction) this.refusePromote(release);
      this.active = release.id;
      await this.runProduction(release, !!opts.allowDowngrade).catch((e: unknown) => {
        throw endedRelease(release.id, e);
      });
      return release;
    });
  }

  private refusePromote(release: Release): never {
    const id = release.id;
    switch (release.state) {
      case "awaiting-approval":
        throw new ApprovalError(`release ${id} is not approved; an approver listed in Pulumi.prod.yaml must run 'mlops approve ${id} --as <name>' first`);
      case "rejected":
        throw new InvalidStateError(`release ${id} was rejected (${this.failedStep(release)}); that is final: change the code or data and run 'mlops release'`);
      default: {
        // failed (withLock marked any release left running): it always says where it stopped, see interruptedReleases.ts
        const at = stoppedAt(release)!;
        throw new InvalidStateError(
          `release ${id} stopped at ${at.step} (${at.code === "interrupted" ? "interrupted" : at.message}) before the approval hold; run 'mlops resume ${id}', then approve it`,
        );
      }
    }
  }

  private failedStep(release: Release): string {
    const step = [...CANDIDATE_STEPS, ...PRODUCTION_STEPS].find((s) => release.steps[s].status === "failed");
    return step ? `${step}: ${release.steps[step].error?.message ?? "failed"}` : release.state;
  }

  private async runStep(release: Release, step: StepName, what: string, fn: StepFn): Promise<void> {
    const rec = release.steps[step];
    if (rec.status === "succeeded" || rec.status === "skipped") return;
    rec.status = "running";
    rec.attempts += 1;
    rec.startedAt = this.stamp();
    delete rec.error;
    delete rec.endedAt;
    release.state = "running";
    await this.save(release);
    this.deps.progress.stepStarted(step, what);
    try {
      const detail = await fn(release);
      rec.status = "succeeded";
      rec.detail = detail;
      rec.endedAt = this.stamp();
      await this.save(release, `${step} succeeded`, detail);
      this.deps.progress.stepFinished(step, true, detail);
    } catch (e) {
      const err = e instanceof MlopsError ? e : new MlopsError((e as Error)?.message ?? String(e), "internal", 1);
      rec.status = "failed";
      rec.error = { code: err.code, message: err.message };
      rec.endedAt = this.stamp();
      release.state = isFinalVerdict(err) ? "rejected" : "failed";
      await this.save(release, `${step} failed`, err.message);
      this.deps.progress.stepFinished(step, false, err.message);
      throw e;
    }
  }

  private async runCandidate(release: Release): Promise<void> {
    const { target: t, config, progress } = this.deps;

    await this.runStep(release, "test", "running the ML unit tests", (r) => runTestStep(r, t, progress, () => this.save(r)));

    await this.runStep(release, "train", "training and evaluating the model", async (r) => {
      const now = await t.source.fingerprint();
      const was = r.source!;
      if (now.codeDigest !== was.codeDigest || now.dataDigest !== was.dataDigest || now.envDigest !== was.envDigest) {
        throw new InvalidStateError(`the ML code, data or environment changed since release ${r.id} started; start a new release with 'mlops release'`);
      }
      const reused = r.noReuse ? undefined : await t.training.findReusable(was);
      r.training = reused ?? (await t.training.train(was, progress));
      const m = Object.entries(r.training.metrics)
        .map(([k, v]) => `${k}=${v.toPrecision(4)}`)
        .join(" ");
      return r.training.reused
        ? `reused run ${r.training.runId}: code, data and environment unchanged since it trained (${m})`
        : `run ${r.training.runId} trained (${m})${r.noReuse ? " (--no-reuse)" : ""}`;
    });

    await this.runStep(release, "gate", "checking metrics against the gate and the champion", async (r) => {
      const champion = await t.registry.champion(config.model.name);
      const result = evaluateGate(config.gate, r.training!, champion);
      r.gate = result;
      if (result.outcome === "rejected") {
        throw new GateRejectedError(`${result.summary}; the model was not registered (a recorded outcome, see 'mlops status ${r.id}')`);
      }
      return result.summary;
    });

    await this.runStep(release, "register", "registering the model version", async (r) => {
      const training = r.training!;
      const existing = await t.registry.findByRun(config.model.name, training.runId);
      const model = existing ?? (await t.registry.register(config.model.name, training, lineageTags(r)));
      if (model.digest !== training.modelSha256) {
        throw new DeploymentError(
          `registered ${model.name} v${model.version} has digest ${model.digest.slice(0, 12)} but run ${training.runId} produced ${training.modelSha256.slice(0, 12)}; refusing to continue`,
        );
      }
      r.model = model;
      return existing ? `${model.name} v${model.version} already registered from this run` : `registered ${model.name} v${model.version}`;
    });

    await this.deployAndValidate(release, "int");
    await this.profile(release, "int");
    release.state = "awaiting-approval";
    await this.save(release, "awaiting-approval", `${release.model!.name} v${release.model!.version} validated in int`);
  }

  /** The shadow phase of a PROD rollout, as an event of the release (saved with the step). */
  private shadowEvent(r: Release, shadow: ShadowRecord | undefined): void {
    if (!shadow) return;
    const event = shadow.passed ? "shadow-passed" : "shadow-failed";
    const detail = `${shadow.percent}% to ${shadow.to} from ${shadow.startedAt}: ${shadow.detail}`;
    // a deploy that changes nothing returns the record of the rollout that put the version there: not a new phase
    if (!r.events.some((e) => e.event === event && e.detail === detail)) r.events.push({ at: this.stamp(), event, detail });
  }

  private async deployAndValidate(release: Release, stack: "int" | "prod"): Promise<void> {
    const { target: t, progress } = this.deps;
    await this.runStep(release, `deploy-${stack}`, `deploying to ${stack}`, async (r) => {
      await this.assertServingUnchanged(r, stack);
      const d = await t.environments.deploy(stack, r.model!, progress).catch((e: unknown) => {
        if (e instanceof RolloutRolledBackError) {
          r.failedRollouts = [...(r.failedRollouts ?? []), { ...e.rollout, stack, at: this.stamp() }];
          this.shadowEvent(r, e.rollout.shadow);
        }
        throw e;
      });
      this.shadowEvent(r, d.rollout?.shadow);
      if (d.modelVersion !== r.model!.version || d.digest !== r.model!.digest) {
        throw new DeploymentError(
          `${stack} reports version ${d.modelVersion} (${d.digest.slice(0, 12)}) after deploying v${r.model!.version}; check 'mlops status'`,
        );
      }
      r.deployments[stack] = d;
      return d.detail;
    });
    await this.runStep(release, `validate-${stack}`, `validating ${stack} (health and a scoring request)`, async (r) => {
      const v = await t.environments.validate(stack, r.deployments[stack]!, progress);
      r.validations[stack] = v;
      if (!v.healthy) throw new DeploymentError(`${stack} validation failed: ${v.detail}`);
      return v.detail;
    });
  }

  /**
   * A deployment serves the model file plus the scoring code and its environment, read from the working tree.
   * If those changed since the release started, the stack would serve something the release never tested (and,
   * for PROD, something INT never validated): refuse instead.
   */
  private async assertServingUnchanged(release: Release, stack: "int" | "prod"): Promise<void> {
    const was = release.source;
    if (!was) return;
    const now = await this.t.source.fingerprint();
    const changed = [
      was.servingDigest !== undefined && now.servingDigest !== was.servingDigest ? "ml/score.py" : undefined,
      now.envDigest !== was.envDigest ? "the Python environment (ml/conda.yml or ml/azure-training-conda.yml)" : undefined,
    ].filter((x): x is string => x !== undefined);
    if (changed.length > 0) {
      throw new InvalidStateError(
        `${changed.join(" and ")} changed since release ${release.id} started; ${stack} would serve code ${stack === "prod" ? "that int did not validate" : "this release did not test"}: restore it, or start a new release`,
      );
    }
  }

  /** Load profile and sizing recommendation, recorded on the release; skipped when disabled or unsupported. */
  private async profile(release: Release, stack: "int"): Promise<void> {
    const { target: t, config, progress } = this.deps;
    const step = release.steps[`profile-${stack}`];
    if (step.status === "succeeded" || step.status === "skipped") return;
    const why = !config.profile.enabled ? "profile.enabled is false in mlops.yaml" : !t.profiling ? `the ${t.name} target cannot profile yet` : undefined;
    if (why) {
      Object.assign(step, { status: "skipped", detail: why, endedAt: this.stamp() });
      await this.save(release, `profile-${stack} skipped`, why);
      return;
    }
    await this.runStep(release, `profile-${stack}`, `profiling ${stack} under load (latency, throughput, sizing)`, async (r) => {
      const settings = JSON.stringify(config.profile);
      const earlier = r.noReuse ? undefined : await this.earlierProfile(r, settings);
      const report = earlier?.profile ?? (await t.profiling!.profile(stack, r.deployments[stack]!, progress));
      r.profile = report;
      r.profileSettings = settings;
      const rec = report.recommendation;
      const what = rec.feasible
        ? `${rec.sustainableRps} req/s per instance within the SLO; recommended for prod: ${rec.instances} instance(s), requests ${rec.requests.cpu}/${rec.requests.memory}, limits ${rec.limits.cpu}/${rec.limits.memory}`
        : `no load level met the SLO (${report.run.stoppedBecause}); no sizing recommended`;
      return earlier ? `reused the profile of release ${earlier.id} (same model, scoring code, environment and profile settings): ${what}` : what;
    });
  }

  /**
   * A profile measures the deployment: the same model file, scoring code, environment and profile settings give the
   * same figures, so a no-change rerun reuses the newest such profile instead of loading INT again
   * (`mlops profile int` always measures anew).
   */
  private async earlierProfile(release: Release, settings: string): Promise<Release | undefined> {
    const m = release.model!;
    const s = release.source;
    const same = (r: Release) =>
      r.id !== release.id &&
      r.profile !== undefined &&
      r.profileSettings === settings &&
      r.model?.name === m.name &&
      r.model.version === m.version &&
      r.model.digest === m.digest &&
      r.source?.servingDigest !== undefined &&
      r.source.servingDigest === s?.servingDigest &&
      r.source.envDigest === s?.envDigest;
    return (await this.t.store.list()).filter(same).at(-1);
  }

  private async runProduction(release: Release, allowDowngrade = false): Promise<void> {
    const { target: t } = this.deps;
    const model = release.model;
    const approval = release.approval;
    const int = release.validations.int;
    if (!model || !approval) throw new ApprovalError(`release ${release.id} has no approval; run 'mlops approve ${release.id} --as <name>'`);
    if (approval.modelName !== model.name || approval.modelVersion !== model.version || approval.digest !== model.digest) {
      throw new ApprovalError(
        `the approval on release ${release.id} is for ${approval.modelName} v${approval.modelVersion} (${approval.digest.slice(0, 12)}), not for ${model.name} v${model.version}; approve this version again`,
      );
    }
    if (!int?.healthy || int.modelVersion !== model.version || int.digest !== model.digest) {
      throw new ApprovalError(`${model.name} v${model.version} was not validated in int; nothing reaches prod without it`);
    }
    const downgrade = await checkDowngrade(t, release, allowDowngrade);
    if (downgrade) await this.save(release, "downgrade-allowed", downgrade);
    const registered = await t.registry.getVersion(model.name, model.version);
    if (!registered || registered.digest !== model.digest) {
      throw new ApprovalError(
        `${model.name} v${model.version} in the registry no longer has digest ${model.digest.slice(0, 12)}; the approved artifact changed, refusing to deploy`,
      );
    }
    try {
      await this.deployAndValidate(release, "prod");
    } catch (e) {
      await this.rollbackProd(release);
      throw e;
    }
    await t.registry.crownChampion(model);
    release.state = "released";
    await this.save(release, "released", `${model.name} v${model.version} serving in prod, crowned champion`);
  }

  /** A PROD deployment that fails validation is taken back to what served before, so PROD keeps serving. */
  private async rollbackProd(release: Release): Promise<void> {
    const { target: t, progress } = this.deps;
    const d = release.deployments.prod;
    if (!d?.previous || release.steps["validate-prod"].status !== "failed") return;
    const previous: RegisteredModel | undefined = await t.registry.getVersion(d.modelName, d.previous.modelVersion);
    if (!previous) {
      progress.info(`prod rollback impossible: v${d.previous.modelVersion} is no longer in the registry`);
      return;
    }
    progress.info(`rolling prod back to v${previous.version}`);
    await (t.environments.rollBack ? t.environments.rollBack("prod", previous, progress) : t.environments.deploy("prod", previous, progress));
    // A retry of this release must deploy its model again, not validate what the rollback put back.
    const step = release.steps["deploy-prod"];
    step.status = "failed";
    step.error = { code: "rolled-back", message: `validation failed; prod rolled back to v${previous.version}` };
    delete release.deployments.prod;
    await this.save(release, "rolled-back", `prod serves v${previous.version} again`);
  }
}

export function lineageTags(release: Release): Record<string, string> {
  const s = release.source!;
  const tr = release.training!;
  return {
    "mlops.release": release.id,
    "mlops.git_commit": s.gitCommit,
    "mlops.git_dirty": String(s.gitDirty),
    "mlops.code_digest": s.codeDigest,
    "mlops.data_digest": s.dataDigest,
    "mlops.env_digest": s.envDigest,
    "mlops.run_id": tr.runId,
    "mlops.model_sha256": tr.modelSha256,
    ...Object.fromEntries(Object.entries(tr.metrics).map(([k, v]) => [`mlops.metric.${k}`, String(v)])),
  };
}
