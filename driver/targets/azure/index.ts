/**
 * The azure target: the release chain on Azure ML and the Pulumi stacks. Training runs on the INT stack's
 * cluster, metrics come from the workspace's MLflow API, models are Azure ML model versions, deployment is a
 * serving edit of Pulumi.<stack>.yaml plus `pulumi up` through the Automation API, PROD receives a verified
 * copy of the INT artifact, and the release records live as blobs in the INT workspace's storage so separate
 * CI runs share them. PROD takes a new version in stages with checks (azureStagedRollout.ts); `profile` loads the
 * stack's endpoint (azureProfiling.ts); `monitor` reads the data collector's blobs (azureMonitorSource.ts). Everything
 * is checked up front (preflight.ts) so a missing login fails in seconds.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { ApproverIdentity, StackName } from "../../core/release.js";
import { readStackConfigFile } from "../../../config/stackConfig.js";
import { AutomationStackUpdater } from "../../pulumi/automationStackUpdater.js";
import { StackFileApprovers } from "../../pulumi/stackApprovers.js";
import type { StackUpdater } from "../../pulumi/stackUpdater.js";
import { FileSourceFingerprinter } from "../../source/fingerprint.js";
import type { CliTarget, TargetOptions } from "../types.js";
import { PytestUnitTests } from "../../host/pytestUnitTests.js";
import { ensurePythonEnv, venvRootFor } from "../../host/pythonEnv.js";
import { TestRunLedger } from "../../host/testRunLedger.js";
import { AzureEnvironments } from "./azureEnvironments.js";
import { AzureProfiling } from "./azureProfiling.js";
import { AzureRegistry } from "./azureRegistry.js";
import { readAzureSettings, workspaceFromOutputs, type AzureSettings } from "./azureSettings.js";
import { AzureTraining } from "./azureTraining.js";
import { BlobReleaseStore } from "./blobReleaseStore.js";
import { defaultCredential } from "./credential.js";
import { entraIdentity } from "./entraIdentity.js";
import { withCapacityCheck } from "./computeCapacity.js";
import { endpointAuth } from "./endpointAuth.js";
import { preflight } from "./preflight.js";
import { WorkspaceClients, type BlobUrlFor } from "./workspaceClients.js";
import { AzureBatchScoring } from "./azureBatchScoring.js";
import { azureMonitorSource } from "./azureMonitorSource.js";

/** Replaceable parts (tests): everything defaults to the real thing. */
export interface AzureTargetDeps {
  credential?: TokenCredential;
  updater?: StackUpdater;
  settings?: AzureSettings;
  blobUrlFor?: BlobUrlFor;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** who runs the command; default: the credential's token claims */
  identity?: () => Promise<ApproverIdentity>;
}

export async function createAzureTarget(opts: TargetOptions, deps: AzureTargetDeps = {}): Promise<CliTarget> {
  const env = deps.env ?? process.env;
  const settings = deps.settings ?? readAzureSettings(env);
  const credential = deps.credential ?? (await defaultCredential(env));
  const baseUpdater = deps.updater ?? new AutomationStackUpdater({ repoRoot: opts.repoRoot });
  const intOutputs = await preflight({ repoRoot: opts.repoRoot, credential, settings, updater: baseUpdater, checkPulumi: !deps.updater, env });

  const clientDeps = { credential, settings, ...(deps.blobUrlFor ? { blobUrlFor: deps.blobUrlFor } : {}) };
  const clients = new Map<StackName, Promise<WorkspaceClients>>();
  clients.set("int", Promise.resolve(new WorkspaceClients(workspaceFromOutputs("int", intOutputs), clientDeps)));
  const workspace = (stack: StackName): Promise<WorkspaceClients> => {
    let c = clients.get(stack);
    if (!c) {
      c = baseUpdater.outputs(stack).then((out) => new WorkspaceClients(workspaceFromOutputs(stack, out), clientDeps));
      c.catch(() => clients.delete(stack));
      clients.set(stack, c);
    }
    return c;
  };
  // every `up` is followed by a read-back of the training cluster (PUT does not update an AmlCompute)
  const updater = withCapacityCheck(baseUpdater, {
    readWanted: (stack) => readStackConfigFile(opts.repoRoot, stack).training,
    workspace: (stack) => workspace(stack as StackName),
  });
  const int = await workspace("int");

  const store = new BlobReleaseStore({ container: () => int.container() });
  const auth = async (stack: StackName) => endpointAuth(stack, await workspace(stack), credential);

  const venvRoot = venvRootFor(opts.repoRoot);
  return {
    name: "azure",
    source: new FileSourceFingerprinter(opts.repoRoot),
    tests: new PytestUnitTests(
      opts.repoRoot,
      () => ensurePythonEnv({ repoRoot: opts.repoRoot, venvRoot, progress: opts.progress }),
      new TestRunLedger(venvRoot, opts.repoRoot),
    ),
    training: new AzureTraining({
      repoRoot: opts.repoRoot,
      experimentName: opts.config.model.experiment,
      ws: int,
      settings,
      ...(deps.now ? { now: deps.now } : {}),
    }),
    registry: new AzureRegistry(int),
    environments: new AzureEnvironments({
      repoRoot: opts.repoRoot,
      smokeRequest: opts.config.smoke.request,
      updater,
      workspace,
      credential,
      rollout: opts.config.rollout,
      ...(deps.now ? { now: deps.now } : {}),
    }),
    approvals: new StackFileApprovers(opts.repoRoot, deps.identity ?? (() => entraIdentity(credential, settings.armScope))),
    profiling: new AzureProfiling({ repoRoot: opts.repoRoot, smokeRequest: opts.config.smoke.request, profile: opts.config.profile, updater, auth }),
    batch: new AzureBatchScoring({ workspace, outputs: (stack) => baseUpdater.outputs(stack), credential }),
    monitorSource: (ctx) => azureMonitorSource({ ...ctx, workspace, outputs: (stack) => baseUpdater.outputs(stack) }),
    store,
    close: async () => undefined,
    down: async () => [],
  };
}
