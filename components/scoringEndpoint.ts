/**
 * ScoringEndpoint: a Kubernetes online endpoint on the AKS compute, the code asset (ml/score.py)
 * and environment (ml/conda.yml on a base image) it runs, and one OnlineDeployment per configured
 * deployment (blue/green), each serving one registered model version.
 *
 * Versioning: the code asset's version is a content hash of score.py and the environment's version a
 * hash of image + conda file, so editing either file declares a new asset version. Assets are pinned
 * per deployment (colour): a deployment whose model version does not change in this update keeps the
 * code and environment it runs (recorded in the `servingState` output), so an edit reaches only the
 * deployment being (re)deployed, never the weight-0 rollback colour. Azure ML archives asset versions
 * instead of deleting them, so asset versions and their blobs are kept on delete (retainOnDelete).
 *
 * Resources: deployments carry their own requests/limits (`containerResourceRequirements`) and no
 * `instanceType`, so Azure ML validates them against the cluster's `defaultinstancetype`, which
 * exists once the cluster is attached (MS Learn, "Create and manage instance types").
 *
 * Traffic: see trafficPlan.ts. The endpoint is updated before its deployments, so traffic only
 * names deployments that were live, with their configured model version, when the previous update
 * finished.
 */
import { sha256Hex } from "../config/sha256.js";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as machinelearningservices from "@pulumi/azure-native/machinelearningservices/index.js";
import * as storage from "@pulumi/azure-native/storage/index.js";
import { declareCodeAsset } from "./codeAsset.js";
import { secondsToIsoDuration } from "../config/quantities.js";
import type { DeploymentConfig, ScaleConfig } from "../config/stackConfig.js";
import { liveDeployment, planTraffic, type LiveDeployment, type ServingState } from "./trafficPlan.js";
import { dataCollectorOf, type DataCollectionArgs } from "./dataCollection.js";

export const DEFAULT_BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04";

export interface ScoringEndpointArgs {
  resourceGroupName: pulumi.Input<string>;
  workspaceName: pulumi.Input<string>;
  /** ARM id of the workspace; model asset ids are `<workspaceId>/models/<name>/versions/<version>`. */
  workspaceId: pulumi.Input<string>;
  location: pulumi.Input<string>;
  endpointName: pulumi.Input<string>;
  /** ARM id of the workspace's Kubernetes compute. */
  computeId: pulumi.Input<string>;
  authMode: pulumi.Input<string>;
  model: pulumi.Input<string>;
  /** Deployment name -> model version and weight; may be empty (endpoint without deployments). */
  deployments: Readonly<Record<string, DeploymentConfig>>;
  /** Container requests/limits of every deployment (validated by Azure against defaultinstancetype). */
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  scale: ScaleConfig;
  requestSettings: pulumi.Input<{ requestTimeoutMs: number; maxConcurrentRequestsPerInstance: number; maxQueueWaitMs: number }>;
  probes: pulumi.Input<{ initialDelaySeconds: number; periodSeconds: number; timeoutSeconds: number; failureThreshold: number }>;
  /** Local path of the scoring script (ml/score.py). */
  scoringScriptPath: string;
  /** Local path of the conda environment file (ml/conda.yml). */
  condaFilePath: string;
  baseImage?: pulumi.Input<string>;
  /** Asset names, e.g. `<prefix>-score` / `<prefix>-inference-env`. */
  codeName: pulumi.Input<string>;
  environmentName: pulumi.Input<string>;
  /** Workspace storage account that receives the code asset blob. */
  storageAccountName: pulumi.Input<string>;
  /** Blob service endpoint of that account, e.g. the account's primaryEndpoints.blob. */
  blobEndpoint: pulumi.Input<string>;
  /** State recorded by the previous update (undefined on the first). */
  previousState: pulumi.Input<ServingState | undefined>;
  /** Data collection of every deployment (what score.py logs, see dataCollection.ts); undefined: none. */
  dataCollection?: DataCollectionArgs;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export function contentHash(content: string | Buffer, length = 12): string {
  return sha256Hex(content).slice(0, length);
}

export function modelAssetId(workspaceId: string, model: string, version: string): string {
  return `${workspaceId}/models/${model}/versions/${version}`;
}

type ScaleSettings =
  | { scaleType: "Default" }
  | { scaleType: "TargetUtilization"; minInstances: number; maxInstances: number; targetUtilizationPercentage: number; pollingInterval: string };

function scaleSettings(scale: ScaleConfig): ScaleSettings {
  return scale.type === "Default"
    ? { scaleType: "Default" }
    : {
        scaleType: "TargetUtilization",
        minInstances: scale.minInstances,
        maxInstances: scale.maxInstances,
        targetUtilizationPercentage: scale.targetUtilizationPercentage,
        pollingInterval: secondsToIsoDuration(scale.pollingIntervalSeconds),
      };
}

export class ScoringEndpoint extends pulumi.ComponentResource {
  readonly codeContainer: storage.BlobContainer;
  readonly codeBlob: storage.Blob;
  readonly codeVersion: machinelearningservices.CodeVersion;
  readonly environmentVersion: machinelearningservices.EnvironmentVersion;
  readonly endpoint: machinelearningservices.OnlineEndpoint;
  readonly deployments: Record<string, machinelearningservices.OnlineDeployment>;
  readonly endpointName: pulumi.Output<string>;
  readonly scoringUri: pulumi.Output<string>;
  /** Traffic given to the endpoint in this update. */
  readonly traffic: pulumi.Output<Record<string, number>>;
  /** False when the configured traffic needs one more `pulumi up` (a new deployment was created). */
  readonly trafficConverged: pulumi.Output<boolean>;
  readonly servingState: pulumi.Output<ServingState>;
  readonly codeVersionName: string;
  readonly environmentVersionName: string;

  constructor(name: string, args: ScoringEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:serving:ScoringEndpoint", name, {}, opts);
    const child = { parent: this };

    // Code asset: score.py uploaded as a blob under code/<hash>/, the asset points at that folder.
    const script = readFileSync(args.scoringScriptPath);
    const scriptFile = basename(args.scoringScriptPath);
    const codeHash = contentHash(script);
    this.codeVersionName = codeHash;
    this.codeContainer = new storage.BlobContainer(
      `${name}-code-container`,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: args.storageAccountName,
        containerName: "mlops-code",
        publicAccess: storage.PublicAccess.None,
      },
      child,
    );
    const asset = declareCodeAsset(this, {
      resourceGroupName: args.resourceGroupName,
      workspaceName: args.workspaceName,
      storageAccountName: args.storageAccountName,
      containerName: this.codeContainer.name,
      blobEndpoint: args.blobEndpoint,
      codeName: args.codeName,
      version: codeHash,
      folder: `code/${codeHash}`,
      files: [{ path: args.scoringScriptPath, name: scriptFile, content: script }],
      blobResourceName: () => `${name}-code-blob`,
      codeResourceName: `${name}-code`,
    });
    this.codeBlob = asset.blobs[0]!;
    this.codeVersion = asset.codeVersion;

    // Environment asset: conda file inlined on a base image.
    const conda = readFileSync(args.condaFilePath, "utf8");
    const baseImage = pulumi.output(args.baseImage ?? DEFAULT_BASE_IMAGE);
    this.environmentVersionName = contentHash(conda);
    this.environmentVersion = new machinelearningservices.EnvironmentVersion(
      `${name}-env`,
      {
        resourceGroupName: args.resourceGroupName,
        workspaceName: args.workspaceName,
        name: args.environmentName,
        version: baseImage.apply((image) => contentHash(`${image}\n${conda}`)),
        properties: {
          image: baseImage,
          condaFile: conda,
          osType: machinelearningservices.OperatingSystemType.Linux,
          description: "Inference environment from ml/conda.yml",
        },
      },
      { parent: this, retainOnDelete: true },
    );

    // Endpoint with the traffic this update may apply.
    const previousState = pulumi.output(args.previousState);
    const plan = pulumi.all([previousState, args.model]).apply(([previous, model]) => planTraffic({ model, deployments: args.deployments }, previous));
    this.traffic = plan.traffic;
    this.trafficConverged = plan.converged;

    this.endpoint = new machinelearningservices.OnlineEndpoint(
      `${name}-endpoint`,
      {
        resourceGroupName: args.resourceGroupName,
        workspaceName: args.workspaceName,
        endpointName: args.endpointName,
        location: args.location,
        identity: { type: machinelearningservices.ManagedServiceIdentityType.SystemAssigned },
        properties: {
          authMode: args.authMode,
          compute: args.computeId,
          description: "Scoring endpoint (managed by Pulumi; traffic from mlops:serving.deployments)",
          traffic: this.traffic,
        },
        tags: args.tags,
      },
      child,
    );

    const request = pulumi.output(args.requestSettings);
    const probes = pulumi.output(args.probes);
    const probe = probes.apply((p) => ({
      initialDelay: secondsToIsoDuration(p.initialDelaySeconds),
      period: secondsToIsoDuration(p.periodSeconds),
      timeout: secondsToIsoDuration(p.timeoutSeconds),
      failureThreshold: p.failureThreshold,
      successThreshold: 1,
    }));
    const capacity = args.scale.type === "Default" ? args.scale.instanceCount : args.scale.minInstances;

    // Per deployment: the assets it runs. A live deployment (same model version as after the previous
    // update) keeps the ones recorded then; a new or re-versioned one takes the current files.
    const assetsOf = (deploymentName: string, version: string) =>
      pulumi
        .all([previousState, args.model, this.codeVersion.id, this.environmentVersion.id])
        .apply(([previous, model, currentCodeId, currentEnvironmentId]) => {
          const live = liveDeployment(deploymentName, model, version, previous);
          return {
            codeId: live?.codeId ?? currentCodeId,
            environmentId: live?.environmentId ?? currentEnvironmentId,
          };
        });
    const resourceRequirements = {
      containerResourceRequests: { cpu: args.resources.requests.cpu, memory: args.resources.requests.memory },
      containerResourceLimits: { cpu: args.resources.limits.cpu, memory: args.resources.limits.memory },
    };

    const collector = dataCollectorOf(args.dataCollection);
    this.deployments = {};
    const pinned: Array<pulumi.Output<[string, LiveDeployment]>> = [];
    for (const [deploymentName, d] of Object.entries(args.deployments)) {
      const assets = assetsOf(deploymentName, d.version);
      this.deployments[deploymentName] = new machinelearningservices.OnlineDeployment(
        `${name}-${deploymentName}`,
        {
          resourceGroupName: args.resourceGroupName,
          workspaceName: args.workspaceName,
          endpointName: this.endpoint.name,
          deploymentName,
          location: args.location,
          sku: { name: "Default", capacity },
          properties: {
            endpointComputeType: "Kubernetes",
            description: pulumi.interpolate`${args.model} version ${d.version}`,
            model: pulumi.all([args.workspaceId, args.model]).apply(([id, model]) => modelAssetId(id, model, d.version)),
            codeConfiguration: { codeId: assets.codeId, scoringScript: scriptFile },
            environmentId: assets.environmentId,
            containerResourceRequirements: resourceRequirements,
            scaleSettings: scaleSettings(args.scale),
            requestSettings: {
              requestTimeout: request.apply((r) => secondsToIsoDuration(r.requestTimeoutMs / 1000)),
              maxConcurrentRequestsPerInstance: request.maxConcurrentRequestsPerInstance,
              maxQueueWait: request.apply((r) => secondsToIsoDuration(r.maxQueueWaitMs / 1000)),
            },
            livenessProbe: probe,
            readinessProbe: probe,
            appInsightsEnabled: true,
            ...(collector ? { dataCollector: collector } : {}),
          },
          tags: args.tags,
        },
        { parent: this, dependsOn: [this.endpoint, this.codeVersion, this.environmentVersion] },
      );
      pinned.push(
        pulumi
          .all([assets, this.deployments[deploymentName]!.id])
          .apply(([a]): [string, LiveDeployment] => [deploymentName, { version: d.version, codeId: a.codeId, environmentId: a.environmentId }]),
      );
    }

    // Recorded as a stack output once every deployment has been created or updated; the next update
    // reads it back (see trafficPlan.ts). A failed update leaves the previous record in place.
    this.servingState = pulumi
      .all([this.traffic, args.model, pulumi.all(pinned)])
      .apply(([traffic, model, entries]): ServingState => ({ model, deployments: Object.fromEntries(entries), traffic }));

    this.endpointName = this.endpoint.name;
    this.scoringUri = this.endpoint.properties.scoringUri;
    this.registerOutputs({
      endpointName: this.endpointName,
      scoringUri: this.scoringUri,
      traffic: this.traffic,
      trafficConverged: this.trafficConverged,
      servingState: this.servingState,
    });
  }
}
