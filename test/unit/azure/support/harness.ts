/**
 * Wiring for the contract tests: a temporary repository (ml/, mlops.yaml, Pulumi.*.yaml copied from this one),
 * the azure target's real adapters pointed at a FakeAzure, and a StackUpdater fake whose `up` applies the
 * program's own traffic rule (components/trafficPlan.ts) to the serving config written in Pulumi.<stack>.yaml.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { tmpdir } from "node:os";
import path from "node:path";
import { planTraffic, type ServingState } from "../../../../components/trafficPlan.js";
import type { Progress } from "../../../../driver/core/ports.js";
import type { ServingConfig } from "../../../../driver/pulumi/servingDecision.js";
import { readServing, writeServing } from "../../../../driver/pulumi/stackConfigEdit.js";
import type { StackOutputValues, StackUpdater, UpSummary } from "../../../../driver/pulumi/stackUpdater.js";
import { readAzureSettings, type AzureSettings } from "../../../../driver/targets/azure/azureSettings.js";
import { WorkspaceClients } from "../../../../driver/targets/azure/workspaceClients.js";
import { workspaceFromOutputs } from "../../../../driver/targets/azure/azureSettings.js";
import { FakeCredential } from "./fakeCredential.js";
import { FakeAzure } from "./fakeAzure.js";

export const REPO = path.resolve(import.meta.dirname, "../../../..");

export function tempRepo(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), "mlops-azure-"));
  for (const f of ["ml", "mlops.yaml", "Pulumi.yaml", "Pulumi.int.yaml", "Pulumi.prod.yaml"]) {
    cpSync(path.join(REPO, f), path.join(root, f), { recursive: true, filter: (s) => !/__pycache__|\.pytest_cache/.test(s) });
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function settingsFor(fake: FakeAzure): AzureSettings {
  return { ...readAzureSettings({}), armEndpoint: fake.url, pollMinMs: 5, pollMaxMs: 20, jobTimeoutMs: 60_000, baseImage: "example.invalid/base:1" };
}

export function outputsFor(fake: FakeAzure, stack: string): StackOutputValues {
  const ws = `ws-${stack}`;
  const rg = `rg-${stack}`;
  return {
    workspaceId: `/subscriptions/sub-${stack}/resourceGroups/${rg}/providers/Microsoft.MachineLearningServices/workspaces/${ws}`,
    resourceGroupName: rg,
    workspaceName: ws,
    mlflowTrackingUri: `${fake.url.replace("https://", "azureml://")}/mlflow/v1.0/subscriptions/sub-${stack}/resourceGroups/${rg}/providers/Microsoft.MachineLearningServices/workspaces/${ws}`,
    trainingComputeName: "train-cluster",
    endpointName: `mlops-${stack}-ep`,
    scoringUri: `${fake.url}/score/${stack}`,
    traffic: {},
    trafficConverged: true,
  };
}

export function clientsFor(fake: FakeAzure, stack: string, credential = new FakeCredential()): WorkspaceClients {
  return new WorkspaceClients(workspaceFromOutputs(stack, outputsFor(fake, stack)), {
    credential,
    settings: settingsFor(fake),
    blobUrlFor: (account) => `${fake.url}/${account}`,
  });
}

export class RecordingProgress implements Progress {
  readonly lines: string[] = [];
  stepStarted(step: string, what: string): void {
    this.lines.push(`start ${step}: ${what}`);
  }
  stepFinished(step: string, ok: boolean, detail: string): void {
    this.lines.push(`${ok ? "done" : "FAILED"} ${step}: ${detail}`);
  }
  info(message: string): void {
    this.lines.push(message);
  }
}

/** StackUpdater fake: real Pulumi.<stack>.yaml edits; `up` computes traffic the way the program does. */
export class FakeStackUpdater implements StackUpdater {
  readonly ups: string[] = [];
  readonly edits: string[] = [];
  private readonly state = new Map<string, ServingState>();
  constructor(
    private readonly repoRoot: string,
    private readonly fake: FakeAzure,
  ) {}
  serving(stack: string): Promise<ServingConfig> {
    return readServing(this.repoRoot, stack);
  }
  async setServing(stack: string, serving: ServingConfig): Promise<boolean> {
    const wrote = await writeServing(this.repoRoot, stack, serving);
    if (wrote)
      this.edits.push(
        `${stack} ${Object.entries(serving.deployments)
          .map(([k, d]) => `${k}=v${d.version}@${d.weight}`)
          .join(" ")}`,
      );
    return wrote;
  }
  async up(stack: string, progress: Progress): Promise<UpSummary> {
    this.ups.push(stack);
    const serving = await readServing(this.repoRoot, stack);
    const plan = planTraffic(serving, this.state.get(stack));
    const deployments = Object.fromEntries(Object.entries(serving.deployments).map(([k, d]) => [k, { version: d.version }]));
    this.state.set(stack, { model: serving.model, deployments, traffic: plan.traffic });
    this.fake.traffic.set(stack, plan.traffic); // the fake endpoint spreads requests by what the update applied
    this.converged.set(stack, plan.converged);
    this.served.set(stack, { name: serving.model, deployments: serving.deployments });
    progress.info(`Updating (${stack}): traffic ${JSON.stringify(plan.traffic)}`);
    return { result: "succeeded", changes: { update: 1, same: 20 }, durationMs: 5, outputs: await this.outputs(stack) };
  }
  private readonly converged = new Map<string, boolean>();
  private readonly served = new Map<string, unknown>();
  async outputs(stack: string): Promise<StackOutputValues> {
    return {
      ...outputsFor(this.fake, stack),
      traffic: this.state.get(stack)?.traffic ?? {},
      trafficConverged: this.converged.get(stack) ?? true,
      ...(this.served.has(stack) ? { servedModel: this.served.get(stack) } : {}),
    };
  }
}

export const RELEASE_KEYS = { int: "int-key", prod: "prod-key" };

export type TempRepo = ReturnType<typeof tempRepo>;

/**
 * Registers, in the calling `describe`, a fresh loopback Azure fake and a temporary repository for each test, both
 * stopped and removed after it. `endpointKeys` gives endpoints their keys, by stack (`RELEASE_KEYS`: what a release needs);
 * `prodApprovers` replaces `mlops:approvers` in the repository's Pulumi.prod.yaml.
 */
export function fakeAzureEachTest(options: { endpointKeys?: Record<string, string>; prodApprovers?: string[] } = {}): {
  readonly fake: FakeAzure;
  readonly repo: TempRepo;
} {
  let fake: FakeAzure | undefined;
  let repo: TempRepo | undefined;
  beforeEach(async () => {
    fake = await new FakeAzure().start();
    for (const [stack, key] of Object.entries(options.endpointKeys ?? {})) fake.endpointKeys.set(stack, key);
    repo = tempRepo();
    if (options.prodApprovers) {
      const file = path.join(repo.root, "Pulumi.prod.yaml");
      const doc = parseDocument(readFileSync(file, "utf8"));
      doc.setIn(["config", "mlops:approvers"], options.prodApprovers);
      writeFileSync(file, doc.toString());
    }
  });
  afterEach(async () => {
    await fake?.stop();
    repo?.cleanup();
    fake = repo = undefined;
  });
  const during = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the ${what} of fakeAzureEachTest exists only while a test runs`);
    return value;
  };
  return {
    get fake() {
      return during(fake, "fake");
    },
    get repo() {
      return during(repo, "repo");
    },
  };
}
