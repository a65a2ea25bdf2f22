/**
 * Shared set-up of the real-engine e2e files (pulumiEngine.test.ts, pulumiStagedRollout.test.ts): the Pulumi
 * engine built into .tools/bin, a temp dir with a file backend, PULUMI_HOME and a repository-shaped copy of the
 * provider-free fixture test/fixtures/pulumi-serving, the loopback FakeAzure of the azure contract tests, the
 * `int` and `prod` stacks created and updated once (the user's set-up step), and the product's
 * AutomationStackUpdater wrapped to time each `up` and remember the outputs it applied.
 *
 * `engineTarget` builds the release target these files drive: the azure target's real environments port
 * (AzureEnvironments, optionally with the staged PROD `rollout`) over that updater, every other port the
 * in-memory fakes of test/support/fakeTarget.ts (training writes real model bytes to the INT datastore so the
 * PROD copy can verify its sha256; registration also gives the INT workspace the model asset).
 */
import { execFile } from "node:child_process";
import { sha256Hex } from "../../config/sha256.js";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import { parse } from "yaml";
import type { ReleaseConfig } from "../../driver/config/releaseConfig.js";
import type { RolloutConfig } from "../../driver/config/profileRolloutConfig.js";
import type { Progress, RegistryPort, Target, TrainingPort } from "../../driver/core/ports.js";
import type { RegisteredModel, StackName } from "../../driver/core/release.js";
import { AutomationStackUpdater } from "../../driver/pulumi/automationStackUpdater.js";
import type { ServingConfig } from "../../driver/pulumi/servingDecision.js";
import type { StackOutputValues, StackUpdater, UpSummary } from "../../driver/pulumi/stackUpdater.js";
import { AzureEnvironments } from "../../driver/targets/azure/azureEnvironments.js";
import { readAzureSettings, workspaceFromOutputs } from "../../driver/targets/azure/azureSettings.js";
import { jobOutputPath, MODEL_FILE, MODEL_SUBDIR } from "../../driver/targets/azure/trainingJob.js";
import { WorkspaceClients } from "../../driver/targets/azure/workspaceClients.js";
import { FakeTarget } from "../support/fakeTarget.js";
import { accountOf, FakeAzure } from "../unit/azure/support/fakeAzure.js";
import { FakeCredential } from "../unit/azure/support/fakeCredential.js";
import { REPO_ROOT } from "./localRepoFixture.js";

const run = promisify(execFile);
export const SKIP_ENGINE = process.env.MLOPS_SKIP_PULUMI_ENGINE === "1";
export const MODEL = "diabetes-ridge";
const FIXTURE = path.join(REPO_ROOT, "test", "fixtures", "pulumi-serving");
const TOOLS_BIN = path.join(REPO_ROOT, ".tools", "bin");

/**
 * The StackUpdater the product uses, with each `up` timed and counted. After each successful `up` it keeps the
 * outputs the update returned (`applied`, and in order in `appliedLog`), so the loopback endpoint can answer from
 * what the engine applied; `onApplied` is told too.
 */
export class TimedUpdater implements StackUpdater {
  readonly ups: { stack: string; ms: number; result: string }[] = [];
  readonly applied = new Map<string, StackOutputValues>();
  readonly appliedLog: { stack: string; outputs: StackOutputValues }[] = [];
  onApplied?: (stack: string, outputs: StackOutputValues) => void;
  constructor(readonly inner: AutomationStackUpdater) {}
  serving(stack: string): Promise<ServingConfig> {
    return this.inner.serving(stack);
  }
  setServing(stack: string, serving: ServingConfig): Promise<boolean> {
    return this.inner.setServing(stack, serving);
  }
  async up(stack: string, progress: Progress): Promise<UpSummary> {
    const t0 = Date.now();
    let s: UpSummary;
    try {
      s = await this.inner.up(stack, progress);
    } catch (e) {
      this.ups.push({ stack, ms: Date.now() - t0, result: "failed" });
      throw e;
    }
    this.ups.push({ stack, ms: Date.now() - t0, result: s.result });
    this.applied.set(stack, s.outputs);
    this.appliedLog.push({ stack, outputs: s.outputs });
    this.onApplied?.(stack, s.outputs);
    return s;
  }
  outputs(stack: string): Promise<StackOutputValues> {
    return this.inner.outputs(stack);
  }
}

/** Makes sure .tools/bin holds the engine: the build script is idempotent (0.03 s when built). */
export async function ensureEngine(): Promise<void> {
  try {
    // PULUMI_TOOLS_BIN pinned: the adapter looks for the CLI in <repo>/.tools/bin.
    await run("bash", [path.join(REPO_ROOT, "scripts", "build-pulumi.sh")], {
      cwd: REPO_ROOT,
      maxBuffer: 16 << 20,
      env: { ...process.env, PULUMI_TOOLS_BIN: TOOLS_BIN },
    });
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    const why = (err.stderr ?? err.message ?? String(e)).trim().split("\n").filter(Boolean).pop() ?? "unknown error";
    throw new Error(
      `the Pulumi engine is not in .tools/bin and scripts/build-pulumi.sh could not build it (${why}); ` +
        "fix the build (docs/pulumi-engine.md) or set MLOPS_SKIP_PULUMI_ENGINE=1 to skip this file explicitly",
    );
  }
  for (const b of ["pulumi", "pulumi-language-nodejs"]) {
    if (!existsSync(path.join(TOOLS_BIN, b))) throw new Error(`scripts/build-pulumi.sh succeeded but ${TOOLS_BIN}/${b} is missing`);
  }
}

export interface EngineFixture {
  tmp: string;
  /** the fixture copy the stacks run in (Pulumi.<stack>.yaml are edited here) */
  workDir: string;
  envVars: Record<string, string>;
  pulumiCommand: PulumiCommand;
  azure: FakeAzure;
  updater: TimedUpdater;
  stacks: Record<StackName, Stack>;
  stackFile(stack: StackName): string;
  fileServing(stack: StackName): { model: string; deployments: Record<string, { version: unknown; weight: number }> };
  outputsOf(stack: StackName): Promise<Record<string, unknown>>;
  upsOf(stack: string): number;
  /** stops the fake, removes the temp dir (unless MLOPS_E2E_KEEP) and prints the `up` timings under `label` */
  stop(label: string): Promise<void>;
}

/** The engine, the temp dir, FakeAzure and both stacks after their set-up `up` (see the header). */
export async function startEngineFixture(): Promise<EngineFixture> {
  const t0 = Date.now();
  await ensureEngine();

  // A copy of the fixture laid out like the repository (its program imports ../../../components/trafficPlan.js).
  const tmp = mkdtempSync(path.join(tmpdir(), "mlops-pulumi-e2e-"));
  const repo = path.join(tmp, "repo");
  const workDir = path.join(repo, "test", "fixtures", "pulumi-serving");
  mkdirSync(path.join(repo, "components"), { recursive: true });
  mkdirSync(workDir, { recursive: true });
  for (const f of ["Pulumi.yaml", "Pulumi.int.yaml", "Pulumi.prod.yaml", "index.ts", "package.json"]) cpSync(path.join(FIXTURE, f), path.join(workDir, f));
  symlinkSync(path.join(REPO_ROOT, "components", "trafficPlan.ts"), path.join(repo, "components", "trafficPlan.ts"));
  symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(repo, "node_modules"));
  symlinkSync(path.join(REPO_ROOT, ".tools"), path.join(workDir, ".tools")); // pulumiCommand(repoRoot) finds .tools/bin/pulumi
  mkdirSync(path.join(tmp, "state"));
  const envVars = {
    PATH: `${TOOLS_BIN}:${path.join(REPO_ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    PULUMI_BACKEND_URL: `file://${path.join(tmp, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "engine-e2e",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_HOME: path.join(tmp, "pulumi-home"),
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };

  const azure = await new FakeAzure().start();
  azure.endpointKeys.set("int", "int-key").set("prod", "prod-key");

  // The user's set-up step (docs/azure-target.md): create both stacks, point them at their endpoint, `pulumi up`.
  const pulumiCommand = await PulumiCommand.get({ root: path.join(REPO_ROOT, ".tools") });
  const stacks = {} as Record<StackName, Stack>;
  for (const stackName of ["int", "prod"] as const) {
    stacks[stackName] = await LocalWorkspace.createStack({ stackName, workDir }, { envVars, pulumiCommand });
    await stacks[stackName].setConfig("mlops:scoringBaseUrl", { value: azure.url });
  }
  // One after the other: on a file backend, prod's StackReference read of int while int's update writes its
  // checkpoint can fail with "failed to load checkpoint: EOF" (seen here; docs/pulumi-engine.md).
  for (const s of ["int", "prod"] as const) await stacks[s].up({ color: "never" });
  const updater = new TimedUpdater(new AutomationStackUpdater({ repoRoot: workDir, envVars }));

  const stackFile = (stack: StackName): string => readFileSync(path.join(workDir, `Pulumi.${stack}.yaml`), "utf8");
  return {
    tmp,
    workDir,
    envVars,
    pulumiCommand,
    azure,
    updater,
    stacks,
    stackFile,
    fileServing: (stack) =>
      (parse(stackFile(stack)) as { config: Record<string, { model: string; deployments: Record<string, { version: unknown; weight: number }> }> }).config[
        "mlops:serving"
      ]!,
    outputsOf: async (stack) => Object.fromEntries(Object.entries(await stacks[stack].outputs()).map(([k, v]) => [k, v.value as unknown])),
    upsOf: (stack) => updater.ups.filter((u) => u.stack === stack).length,
    stop: async (label) => {
      await azure.stop();
      if (!process.env.MLOPS_E2E_KEEP) rmSync(tmp, { recursive: true, force: true });
      if (updater.ups.length) {
        const ok = updater.ups.filter((u) => u.result === "succeeded").map((u) => u.ms);
        const s = (ms: number) => (ms / 1000).toFixed(1);
        process.stderr.write(
          `    ${label}: ${updater.ups.length} pulumi up through the adapter (${ok.length} succeeded: mean ${s(ok.reduce((a, b) => a + b, 0) / ok.length)} s, ` +
            `min ${s(Math.min(...ok))} s, max ${s(Math.max(...ok))} s); file total ${s(Date.now() - t0)} s${process.env.MLOPS_E2E_KEEP ? `; kept ${tmp}` : ""}\n`,
        );
      }
    },
  };
}

/** What the INT workspace holds for a registered version: its artifact and its model asset (tags). */
export function seedIntWorkspace(azure: FakeAzure, model: RegisteredModel, bytes: Buffer): void {
  const ws = "mlops-int-ws";
  azure.putBlob(accountOf(ws), `${jobOutputPath(model.runId)}${MODEL_SUBDIR}/${MODEL_FILE}`, bytes);
  azure.putBlob(accountOf(ws), `${jobOutputPath(model.runId)}${MODEL_SUBDIR}/MLmodel`, Buffer.from("flavors: {}\n"));
  azure.assets.set(`${ws}/models/${model.name}/versions/${model.version}`, {
    id: `${ws}/models/${model.name}/versions/${model.version}`,
    name: model.version,
    properties: { modelType: "mlflow_model", tags: { ...model.tags, "mlops.model_sha256": model.digest, "mlops.run_id": model.runId } },
  });
}

/**
 * The release target over the engine: the azure environments port (with `rollout`: PROD takes a new version in
 * stages, probes against the loopback endpoint) and the fakes of `fake` for everything else.
 */
export function engineTarget(f: EngineFixture, fake: FakeTarget, config: ReleaseConfig, rollout?: RolloutConfig): Target {
  const { azure, updater } = f;
  // Fake training whose artifact is real bytes in the INT datastore, so the PROD copy can verify its sha256.
  const training: TrainingPort = {
    findReusable: (fp) => fake.training.findReusable(fp),
    train: async (fp, p) => {
      const r = await fake.training.train(fp);
      const bytes = Buffer.from(`model trained by ${r.runId}`);
      fake.runs[fake.runs.length - 1]!.modelSha256 = sha256Hex(bytes);
      azure.putBlob(accountOf("mlops-int-ws"), `${jobOutputPath(r.runId)}${MODEL_SUBDIR}/${MODEL_FILE}`, bytes);
      p.info(`fake training ${r.runId}: ${bytes.length} bytes`);
      return { ...r, modelSha256: sha256Hex(bytes) };
    },
  };
  // Fake registry that also gives the INT workspace the model asset the environments port looks up.
  const registry: RegistryPort = {
    ...fake.registry,
    register: async (name, t, tags) => {
      const m = await fake.registry.register(name, t, tags);
      const blob = azure.blob(accountOf("mlops-int-ws"), `${jobOutputPath(t.runId)}${MODEL_SUBDIR}/${MODEL_FILE}`);
      seedIntWorkspace(azure, m, blob!.data);
      return m;
    },
  };
  const credential = new FakeCredential();
  const settings = { ...readAzureSettings({}), armEndpoint: azure.url };
  const clients = new Map<StackName, Promise<WorkspaceClients>>();
  const environments = new AzureEnvironments({
    repoRoot: REPO_ROOT, // ml/smoke.json
    smokeRequest: config.smoke.request,
    updater,
    credential,
    ...(rollout ? { rollout } : {}),
    // The workspace coordinates come from the real stack outputs, as in the azure target.
    workspace: (stack) => {
      let c = clients.get(stack);
      if (!c) {
        c = updater
          .outputs(stack)
          .then((out) => new WorkspaceClients(workspaceFromOutputs(stack, out), { credential, settings, blobUrlFor: (account) => `${azure.url}/${account}` }));
        clients.set(stack, c);
      }
      return c;
    },
  });
  return {
    name: "azure-engine-e2e",
    source: fake.source,
    tests: fake.tests,
    training,
    registry,
    environments,
    approvals: fake.approvals,
    store: fake.store,
    close: async () => {},
  };
}
