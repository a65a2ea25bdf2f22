/**
 * In-memory fakes of every port, for testing the release core. They keep the same promises the real adapters
 * make (idempotent deploy, registration findable by run, reusable training by digest) and can simulate a
 * process dying before or after a port's effect: the store freezes (nothing more is persisted) and the call
 * throws, exactly what a crash leaves on disk.
 */
import { DeploymentError, ReleaseLockedError, NotFoundError, RolloutRolledBackError } from "../../driver/core/errors.js";
import type { RolloutRecord } from "../../driver/rollout/rolloutTypes.js";
import type { ProfileReport } from "../../driver/profile/profileTypes.js";
import { recommendSizing } from "../../driver/profile/sizing.js";
import type { Progress, ReleaseLock, ReleaseStore, SharedTestRuns, StackStatus, Target } from "../../driver/core/ports.js";
import type {
  Approval,
  ApproverIdentity,
  DeploymentRecord,
  RegisteredModel,
  Release,
  SourceFingerprint,
  StackName,
  TrainingResult,
  ValidationResult,
} from "../../driver/core/release.js";

export class ProcessDied extends Error {}

export class MemoryStore implements ReleaseStore {
  readonly records = new Map<string, string>();
  frozen = false;
  locked = false;
  async save(r: Release): Promise<void> {
    if (!this.frozen) this.records.set(r.id, JSON.stringify(r));
  }
  async load(id: string): Promise<Release> {
    const t = this.records.get(id);
    if (!t) throw new NotFoundError(`no release '${id}'`);
    return JSON.parse(t) as Release;
  }
  async list(): Promise<Release[]> {
    return [...this.records.values()].map((t) => JSON.parse(t) as Release);
  }
  async lock(purpose: string): Promise<ReleaseLock> {
    if (this.locked) throw new ReleaseLockedError(`another mlops command is running (${purpose})`);
    this.locked = true;
    return { release: async () => void (this.locked = false) };
  }
}

export type Effect =
  "tests" | "train" | "champion" | "register" | "deploy-int" | "validate-int" | "profile-int" | "deploy-prod" | "validate-prod" | "crown" | "approval";

export const silentProgress: Progress = { stepStarted() {}, stepFinished() {}, info() {} };

/** The requests and limits the fake stacks serve with; the fake profiler measures no resources, so sizing keeps them. */
const FAKE_INSTANCE_TYPE = { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "500m", memory: "1Gi" } };

export class FakeTarget implements Target {
  name = "fake";
  store = new MemoryStore();
  fp: SourceFingerprint = {
    gitCommit: "c0ffee",
    gitDirty: false,
    codeDigest: "code1",
    dataDigest: "data1",
    envDigest: "env1",
    servingDigest: "score1",
    testsDigest: "tests1",
  };
  testResult = { passed: 7, failed: 0 };
  metrics: Record<string, number> = { rmse: 54, mae: 44, r2: 0.45 };
  /** versions whose validation fails, per stack */
  broken = new Set<string>();
  crash?: { at: Effect; when: "before" | "after" };
  counts: Record<string, number> = {};
  runs: (TrainingResult & { fp: SourceFingerprint })[] = [];
  versions: RegisteredModel[] = [];
  championVersion?: string;
  recordedApprovals: Approval[] = [];
  serving: Partial<Record<StackName, { version: string; digest: string }>> = {};
  approverList: Record<StackName, string[]> = { int: [], prod: ["alice", "Bob"] };
  /** Disagreeing modes, each the bad case of one defensive check of the core: */
  /** the registry hands back a version whose artifact hashes to this, not to the run's sha256 */
  registryDigest?: string;
  /** the stack reports serving this version/digest after a deploy (another one than it was handed) */
  deployedReports: Partial<Record<StackName, { version?: string; digest?: string }>> = {};
  /** the validation reports a healthy result for this version/digest (another one than was deployed) */
  validationOf: Partial<Record<StackName, { version?: string; digest?: string }>> = {};

  private effect<T>(name: Effect, fn: () => T): T {
    if (this.crash?.at === name && this.crash.when === "before") return this.die(name);
    const out = fn();
    this.counts[name] = (this.counts[name] ?? 0) + 1;
    if (this.crash?.at === name && this.crash.when === "after") return this.die(name);
    return out;
  }

  private die(name: string): never {
    this.store.frozen = true;
    this.crash = undefined;
    throw new ProcessDied(`process died at ${name}`);
  }

  /** After a simulated crash: the next process sees what was persisted. */
  reboot(): void {
    this.store.frozen = false;
    this.store.locked = false;
  }

  source = { fingerprint: async () => ({ ...this.fp }) };

  /** called while the tests "run" (e.g. to edit the fingerprint mid-run) */
  duringTests?: () => void;

  tests = {
    /** how the fake "runs" the suite: the runner part of the test step's reuse key */
    runner: "fake pytest",
    /** the machine's ledger of runs shared between checkouts: none unless a test gives one */
    shared: undefined as SharedTestRuns | undefined,
    runUnitTests: async () =>
      this.effect("tests", () => {
        this.duringTests?.();
        return { ...this.testResult, durationMs: 120, outputTail: `${this.testResult.failed} failed, ${this.testResult.passed} passed` };
      }),
  };

  training = {
    findReusable: async (fp: SourceFingerprint) => {
      const r = [...this.runs].reverse().find((x) => x.fp.codeDigest === fp.codeDigest && x.fp.dataDigest === fp.dataDigest && x.fp.envDigest === fp.envDigest);
      if (!r) return undefined;
      const { fp: _fp, ...result } = r;
      return { ...result, reused: true };
    },
    train: async (fp: SourceFingerprint) =>
      this.effect("train", () => {
        const n = this.runs.length + 1;
        const result: TrainingResult = {
          runId: `run${n}`,
          metrics: { ...this.metrics },
          modelSha256: `sha${n}`.padEnd(64, "0"),
          artifactUri: `runs:/run${n}/model`,
          reused: false,
        };
        this.runs.push({ ...result, fp: { ...fp } });
        return result;
      }),
  };

  registry = {
    champion: async (name: string) => this.effect("champion", () => this.versions.find((v) => v.name === name && v.version === this.championVersion)),
    findByRun: async (name: string, runId: string) => this.versions.find((v) => v.name === name && v.runId === runId),
    register: async (name: string, t: TrainingResult, tags: Record<string, string>) =>
      this.effect("register", () => {
        const v: RegisteredModel = {
          name,
          version: String(this.versions.length + 1),
          digest: this.registryDigest ?? t.modelSha256,
          runId: t.runId,
          metrics: t.metrics,
          tags,
        };
        this.versions.push(v);
        return v;
      }),
    getVersion: async (name: string, version: string) => this.versions.find((v) => v.name === name && v.version === version),
    crownChampion: async (m: RegisteredModel) => this.effect("crown", () => void (this.championVersion = m.version)),
    recordApproval: async (a: Approval) => this.effect("approval", () => void this.recordedApprovals.push(a)),
  };

  /** versions whose staged canary fails: deploy puts the traffic back and throws RolloutRolledBackError */
  canaryFails = new Set<string>();

  environments = {
    deploy: async (stack: StackName, m: RegisteredModel): Promise<DeploymentRecord> =>
      this.effect(`deploy-${stack}`, () => {
        const cur = this.serving[stack];
        if (this.canaryFails.has(`${stack}:${m.version}`)) {
          const rollout: RolloutRecord = {
            from: "blue",
            to: "green",
            ...(cur ? { fromVersion: cur.version } : {}),
            toVersion: m.version,
            outcome: "rolled-back",
            steps: [
              {
                percent: 10,
                startedAt: "now",
                endedAt: "now",
                requests: 10,
                errors: 3,
                errorRate: 0.3,
                healthy: true,
                passed: false,
                detail: "error rate 30% > 1%",
              },
            ],
            detail: "step 10% failed: error rate 30% > 1%",
          };
          throw new RolloutRolledBackError(`v${m.version} failed its prod canary and was rolled back`, rollout);
        }
        const same = cur?.version === m.version && cur.digest === m.digest;
        if (!same) {
          this.counts[`changed-${stack}`] = (this.counts[`changed-${stack}`] ?? 0) + 1;
          this.serving[stack] = { version: m.version, digest: m.digest };
        }
        const reported = this.deployedReports[stack];
        return {
          stack,
          modelName: m.name,
          modelVersion: reported?.version ?? m.version,
          digest: reported?.digest ?? m.digest,
          scoringUri: `http://127.0.0.1/${stack}/score`,
          deployedAt: "now",
          ...(cur && !same ? { previous: { modelVersion: cur.version, digest: cur.digest } } : {}),
          detail: same ? `no change: ${stack} already serves v${m.version}` : `${stack} serves v${m.version}`,
        };
      }),
    validate: async (stack: StackName, d: DeploymentRecord): Promise<ValidationResult> =>
      this.effect(`validate-${stack}`, () => {
        const ok = !this.broken.has(`${stack}:${d.modelVersion}`) && this.serving[stack]?.version === d.modelVersion;
        const of = this.validationOf[stack];
        return {
          stack,
          modelVersion: of?.version ?? d.modelVersion,
          digest: of?.digest ?? d.digest,
          healthy: ok,
          predictions: 2,
          latencyMs: 3,
          validatedAt: "now",
          detail: ok ? "2 predictions in range" : "scoring returned 500",
        };
      }),
    rollBack: async (stack: StackName, to: RegisteredModel): Promise<DeploymentRecord> => {
      this.counts[`rollBack-${stack}`] = (this.counts[`rollBack-${stack}`] ?? 0) + 1;
      this.serving[stack] = { version: to.version, digest: to.digest };
      return {
        stack,
        modelName: to.name,
        modelVersion: to.version,
        digest: to.digest,
        scoringUri: `http://127.0.0.1/${stack}/score`,
        deployedAt: "now",
        detail: `flipped back to v${to.version}`,
      };
    },
    describe: async (stack: StackName): Promise<StackStatus> => ({
      stack,
      healthy: true,
      detail: "fake",
      ...(this.serving[stack] ? { modelVersion: this.serving[stack]!.version } : {}),
    }),
  };

  /** set to make the profiler fail (endpoint unreachable) */
  profileFails = false;
  profiling = {
    profile: async (stack: StackName, d: DeploymentRecord): Promise<ProfileReport> =>
      this.effect(`profile-${stack}` as Effect, () => {
        if (this.profileFails) throw new DeploymentError(`profiling ${stack} failed: endpoint unreachable`);
        const level = {
          concurrency: 1,
          durationS: 1,
          requests: 50,
          throughputRps: 50,
          p50Ms: 18,
          p95Ms: 22,
          p99Ms: 30,
          maxMs: 35,
          non2xx: 0,
          errors: 0,
          errorRate: 0,
          withinSlo: true,
          verdict: "within SLO",
        };
        const target = { targetRps: 20, headroom: 0.7 };
        return {
          stack,
          modelVersion: d.modelVersion,
          run: {
            url: d.scoringUri,
            startedAt: "now",
            endedAt: "now",
            slo: { p95Ms: 200, p99Ms: 500, maxErrorRate: 0.01 },
            levels: [level],
            stoppedBecause: "all 1 levels within the SLO",
          },
          target,
          // the real sizing rule on the fake level; without resource figures it keeps the fake stack's instance type
          recommendation: recommendSizing({ levels: [level], target, minInstances: 2, memoryMargin: 1.5, limitFactor: 2, current: FAKE_INSTANCE_TYPE }),
        };
      }),
  };

  /** who runs the command: unauthenticated by default, as locally; tests set an authenticated one */
  identity: ApproverIdentity = { authenticated: false, source: "local", osUser: "tester", host: "test-host" };
  approvals = { approvers: async (stack: StackName) => [...this.approverList[stack]], identity: async () => this.identity };

  async close(): Promise<void> {}
}

/** Each input of the test step's reuse key, and a change of only that input on a FakeTarget. */
export const TEST_KEY_INPUT_CHANGES: ReadonlyArray<[string, (t: FakeTarget) => void]> = [
  ["code", (t) => (t.fp = { ...t.fp, codeDigest: "code2" })],
  ["tests", (t) => (t.fp = { ...t.fp, testsDigest: "tests2" })],
  ["data", (t) => (t.fp = { ...t.fp, dataDigest: "data2" })],
  ["environment", (t) => (t.fp = { ...t.fp, envDigest: "env2" })],
  ["runner", (t) => (t.tests.runner = "fake pytest -k something")],
];
