/**
 * The PROD rollout e2e files' shared set-up: a temp copy of the repository on its own ports, the real local target,
 * the release state machine, the smoke request, score.py as shipped (to restore after a faulty variant) and an
 * approver from Pulumi.prod.yaml. `start()` in `before`, `stop()` in `after` (stops every service; keeps the temp
 * repo when MLOPS_E2E_KEEP is set).
 */
import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { ReleaseStateMachine } from "../../driver/core/releaseStateMachine.js";
import type { Release } from "../../driver/core/release.js";
import { createLocalTarget, type LocalTarget } from "../../driver/targets/local/index.js";
import type { ProdDeployment } from "../../driver/targets/local/prodSlots.js";
import { readSmokeRequest, type SmokeRequest } from "../../driver/host/smokeRequest.js";
import { SHARED_VENV_ROOT, makeTempRepo, RecordingProgress, type TempRepo, type TestPorts } from "./localRepoFixture.js";
import { readScore } from "./localScoreVariants.js";

export class LocalProd {
  repo!: TempRepo;
  target!: LocalTarget;
  machine!: ReleaseStateMachine;
  smoke!: SmokeRequest;
  /** ml/score.py as shipped */
  original!: string;
  approver!: string;
  readonly progress = new RecordingProgress();

  constructor(
    private readonly ports: TestPorts,
    private readonly overrides: Record<string, unknown>,
  ) {}

  async start(): Promise<void> {
    this.repo = await makeTempRepo(this.ports, this.overrides);
    this.target = await createLocalTarget({ repoRoot: this.repo.root, config: this.repo.config, progress: this.progress, venvRoot: SHARED_VENV_ROOT });
    this.machine = new ReleaseStateMachine({ target: this.target, config: this.repo.config, progress: this.progress });
    this.smoke = await readSmokeRequest(this.repo.root, this.repo.config.smoke.request);
    this.original = await readScore(this.repo.root);
    this.approver = (await this.target.approvals.approvers("prod"))[0]!;
  }

  /** Stops what the target runs (the lines `down` printed) and removes the temp repo. */
  async stop(): Promise<string[]> {
    const stopped = this.target ? await this.target.down() : [];
    if (this.repo && !process.env.MLOPS_E2E_KEEP) await this.repo.remove();
    return stopped;
  }

  async prodRecord(): Promise<ProdDeployment> {
    return JSON.parse(await readFile(this.target.paths.deploymentFile("prod"), "utf8")) as ProdDeployment;
  }

  /** A release of the repository as it is now, to the approval hold, approved. */
  async releaseAndApprove(): Promise<Release> {
    const r = await this.machine.start();
    expect(r.state, this.progress.lines.slice(-6).join("\n")).to.equal("awaiting-approval");
    return this.machine.approve(r.id, this.approver);
  }
}
