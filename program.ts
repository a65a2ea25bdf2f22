/**
 * The Pulumi program as a function, so one process can build several stacks (the unit tests build
 * int and prod with Pulumi mocks). index.ts calls buildStack() and exports its outputs.
 *
 * Flow: config (validated once into StackConfig) -> names -> components -> outputs.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization/index.js";
import { resourceNames, INFERENCE_COMPUTE_NAME, TRAINING_COMPUTE_NAME } from "./config/naming.js";
import {
  CONFIG_NAMESPACE,
  parseStackConfig,
  rawConfigFromPulumiConfig,
  TLS_SECRET_KEYS,
  type DeploymentConfig,
  type StackConfig,
} from "./config/stackConfig.js";
import { AksInference, type RouterTlsArgs } from "./components/aksInference.js";
import { BatchScoring, batchEndpointName, primaryServedVersion } from "./components/batchEndpoint.js";
import { MlWorkspace } from "./components/mlWorkspace.js";
import { PrivateNetwork } from "./components/privateNetwork.js";
import { AKS_NETWORK } from "./config/networkConfig.js";
import { ScoringEndpoint } from "./components/scoringEndpoint.js";
import { dataCollectionFromMlopsYaml, type DataCollectionArgs } from "./components/dataCollection.js";
import { TrainingCluster } from "./components/trainingCluster.js";
import { toServingState, type ServingState } from "./components/trafficPlan.js";

export const REPO_ROOT = dirname(fileURLToPath(import.meta.url));

export interface BuildStackOptions {
  /** Defaults to pulumi.getStack(). */
  stackName?: string;
  /** Already-parsed config; defaults to the `mlops:` keys of the running stack's config. */
  config?: StackConfig;
  /** Defaults to <repo>/ml/score.py and <repo>/ml/conda.yml. */
  scoringScriptPath?: string;
  condaFilePath?: string;
  /**
   * Where the previous update's serving state comes from. Default: the stack's own last outputs,
   * read through a StackReference to itself. Pass a value (or `null` for "none") to override.
   */
  previousState?: pulumi.Input<ServingState | undefined> | null;
  /** Data collection of the online deployments; default: mlops.yaml monitor.collection (null: none). */
  dataCollection?: DataCollectionArgs | null;
}

export interface StackOutputs {
  resourceGroupName: pulumi.Output<string>;
  workspaceName: pulumi.Output<string>;
  workspaceId: pulumi.Output<string>;
  mlflowTrackingUri: pulumi.Output<string>;
  trainingComputeName: pulumi.Output<string>;
  inferenceComputeName: pulumi.Output<string>;
  aksClusterName: pulumi.Output<string>;
  endpointName: pulumi.Output<string>;
  scoringUri: pulumi.Output<string>;
  /** The batch endpoint and the model version its deployment serves ("" before the first release). */
  batchEndpointName: pulumi.Output<string>;
  batchModelVersion: string;
  /** The registered model name and, per deployment, the version served and its configured weight. */
  servedModel: { name: string; deployments: Record<string, DeploymentConfig> };
  /** Traffic applied to the endpoint by this update. */
  traffic: pulumi.Output<Record<string, number>>;
  /** False when another `pulumi up` is needed to apply the configured traffic (new deployment). */
  trafficConverged: pulumi.Output<boolean>;
  /** Read back by the next update; see components/trafficPlan.ts. */
  servingState: pulumi.Output<ServingState>;
  codeVersion: string;
}

/**
 * Whether the engine handed `mlops:<key>` over as a secret. The SDK keeps this check internal
 * (runtime/config.js isConfigSecret, from PULUMI_CONFIG_SECRET_KEYS); without it every key counts as
 * plain, so a private key is refused rather than trusted.
 */
function isSecretConfigKey(key: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return typeof runtime.isConfigSecret === "function" && runtime.isConfigSecret(`${CONFIG_NAMESPACE}:${key}`);
}

/** The running stack's `mlops:` config, validated (throws StackConfigError). */
export function readPulumiStackConfig(stackName: string): StackConfig {
  const raw = rawConfigFromPulumiConfig(pulumi.runtime.allConfig());
  return parseStackConfig(stackName, raw, { secretKeys: Object.keys(raw).filter(isSecretConfigKey), requireCertificate: true });
}

/** TLS for azureml-fe: the certificate and key come from secret config, read as Pulumi secrets. */
function routerTls(tls: NonNullable<StackConfig["aks"]["tls"]>): RouterTlsArgs {
  if (tls.certificateFrom === "kubernetesSecret") return { cname: tls.cname, ...(tls.secretName ? { secretName: tls.secretName } : {}) };
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  return {
    cname: tls.cname,
    certificatePem: config.requireSecret(TLS_SECRET_KEYS.certificate),
    privateKeyPem: config.requireSecret(TLS_SECRET_KEYS.privateKey),
  };
}

function previousServingState(stackName: string): pulumi.Output<ServingState | undefined> {
  const self = new pulumi.StackReference("self", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${stackName}`,
  });
  // servedModel gives the versions to state written before servingState recorded them.
  return pulumi.all([self.getOutput("servingState"), self.getOutput("servedModel")]).apply(([state, served]) => toServingState(state, served));
}

export interface StackComponents {
  workspace: MlWorkspace;
  training: TrainingCluster;
  inference: AksInference;
  serving: ScoringEndpoint;
  batch: BatchScoring;
  /** Only with mlops:network.private. */
  network?: PrivateNetwork;
}

export interface BuiltStack {
  config: StackConfig;
  outputs: StackOutputs;
  components: StackComponents;
}

export function buildStack(options: BuildStackOptions = {}): BuiltStack {
  const stackName = options.stackName ?? pulumi.getStack();
  const config = options.config ?? readPulumiStackConfig(stackName);

  const client = authorization.getClientConfigOutput();
  const names = client.subscriptionId.apply((subscriptionId) => resourceNames({ subscriptionId, stack: stackName, prefix: config.namePrefix }));
  const tags = { ...config.tags };

  const workspace = new MlWorkspace(`${config.namePrefix}-${stackName}`, {
    location: config.location,
    tenantId: client.tenantId,
    names,
    tags,
    purgeProtection: config.keyVault.purgeProtection,
    softDeleteRetentionDays: config.keyVault.softDeleteRetentionDays,
    ...(config.network.private ? { private: { imageBuildCompute: TRAINING_COMPUTE_NAME } } : {}),
  });

  const network = config.network.private
    ? new PrivateNetwork(`${config.namePrefix}-${stackName}-network`, {
        resourceGroupName: workspace.resourceGroupName,
        location: config.location,
        namePrefix: `${config.namePrefix}-${stackName}`,
        network: config.network,
        targets: {
          workspace: workspace.workspaceId,
          blob: workspace.storageAccount.id,
          file: workspace.storageAccount.id,
          vault: workspace.keyVault.id,
          registry: workspace.containerRegistry.id,
        },
        tags,
      })
    : undefined;

  const training = new TrainingCluster(`${config.namePrefix}-${stackName}-training`, {
    resourceGroupName: workspace.resourceGroupName,
    workspaceName: workspace.workspaceName,
    location: config.location,
    computeName: TRAINING_COMPUTE_NAME,
    vmSize: config.training.vmSize,
    vmPriority: config.training.vmPriority,
    minNodes: config.training.minNodes,
    maxNodes: config.training.maxNodes,
    idleScaleDown: config.training.idleScaleDown,
    ...(network ? { subnetId: network.trainingSubnet.id } : {}),
    tags,
  });

  const inference = new AksInference(`${config.namePrefix}-${stackName}-inference`, {
    resourceGroupName: workspace.resourceGroupName,
    location: config.location,
    subscriptionId: client.subscriptionId,
    clusterName: names.aksCluster,
    vmSize: config.aks.vmSize,
    nodeCount: config.aks.nodeCount,
    ...(config.aks.kubernetesVersion !== undefined ? { kubernetesVersion: config.aks.kubernetesVersion } : {}),
    workspaceName: workspace.workspaceName,
    computeName: INFERENCE_COMPUTE_NAME,
    inferenceRouterServiceType: config.aks.inferenceRouterServiceType,
    inferenceRouterHA: config.aks.inferenceRouterHA,
    clusterPurpose: config.aks.clusterPurpose,
    allowInsecureConnections: config.aks.allowInsecureConnections,
    ...(config.aks.tls ? { tls: routerTls(config.aks.tls) } : {}),
    containerRegistryId: workspace.containerRegistry.id,
    storageAccountId: workspace.storageAccount.id,
    ...(network ? { privateNetwork: { subnetId: network.aksSubnet.id, ...AKS_NETWORK } } : {}),
    tags,
  });

  const previousState =
    options.previousState === null ? undefined : options.previousState !== undefined ? options.previousState : previousServingState(stackName);

  const deployments: Record<string, DeploymentConfig> = {};
  for (const [name, d] of Object.entries(config.serving.deployments)) {
    deployments[name] = { version: d.version, weight: d.weight };
  }

  const serving = new ScoringEndpoint(`${config.namePrefix}-${stackName}-serving`, {
    resourceGroupName: workspace.resourceGroupName,
    workspaceName: workspace.workspaceName,
    workspaceId: workspace.workspaceId,
    location: config.location,
    endpointName: names.endpoint,
    computeId: inference.computeId,
    authMode: config.serving.authMode,
    model: config.serving.model,
    deployments,
    resources: { requests: { ...config.serving.instanceType.requests }, limits: { ...config.serving.instanceType.limits } },
    scale: config.serving.scale,
    requestSettings: config.serving.requestSettings,
    probes: config.serving.probes,
    scoringScriptPath: options.scoringScriptPath ?? join(REPO_ROOT, "ml", "score.py"),
    condaFilePath: options.condaFilePath ?? join(REPO_ROOT, "ml", "conda.yml"),
    codeName: `${config.namePrefix}-score`,
    environmentName: `${config.namePrefix}-inference-env`,
    storageAccountName: workspace.storageAccount.name,
    blobEndpoint: workspace.storageAccount.primaryEndpoints.blob,
    previousState,
    ...collectionArg(options.dataCollection),
    tags,
  });

  const batchVersion = primaryServedVersion(deployments);
  const batch = new BatchScoring(`${config.namePrefix}-${stackName}-batch`, {
    resourceGroupName: workspace.resourceGroupName,
    workspaceName: workspace.workspaceName,
    workspaceId: workspace.workspaceId,
    location: config.location,
    endpointName: names.endpoint.apply(batchEndpointName),
    computeId: training.compute.id,
    model: config.serving.model,
    ...(batchVersion ? { modelVersion: batchVersion } : {}),
    scriptPaths: [join(REPO_ROOT, "ml", "batch_score.py"), options.scoringScriptPath ?? join(REPO_ROOT, "ml", "score.py")],
    entryScript: "batch_score.py",
    environmentId: serving.environmentVersion.id,
    codeName: `${config.namePrefix}-batch-score`,
    codeContainerName: serving.codeContainer.name,
    storageAccountName: workspace.storageAccount.name,
    blobEndpoint: workspace.storageAccount.primaryEndpoints.blob,
    settings: config.batch,
    tags,
  });

  const outputs: StackOutputs = {
    resourceGroupName: workspace.resourceGroupName,
    workspaceName: workspace.workspaceName,
    workspaceId: workspace.workspaceId,
    mlflowTrackingUri: workspace.mlflowTrackingUri,
    trainingComputeName: training.computeName,
    inferenceComputeName: inference.computeName,
    aksClusterName: inference.clusterName,
    endpointName: serving.endpointName,
    scoringUri: serving.scoringUri,
    batchEndpointName: batch.endpointName,
    batchModelVersion: batch.modelVersion ?? "",
    servedModel: { name: config.serving.model, deployments },
    traffic: serving.traffic,
    trafficConverged: serving.trafficConverged,
    servingState: serving.servingState,
    codeVersion: serving.codeVersionName,
  };
  return { config, outputs, components: { workspace, training, inference, serving, batch, ...(network ? { network } : {}) } };
}

function collectionArg(o: DataCollectionArgs | null | undefined): { dataCollection?: DataCollectionArgs } {
  const c = o === undefined ? dataCollectionFromMlopsYaml(REPO_ROOT) : (o ?? undefined);
  return c ? { dataCollection: c } : {};
}
