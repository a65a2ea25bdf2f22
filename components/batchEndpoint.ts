/**
 * BatchScoring: an Azure ML batch endpoint and one model deployment on the training cluster (AmlCompute), running
 * ml/batch_score.py, which scores with ml/score.py's own init()/run(). The deployment serves the model version the
 * stack's online endpoint serves with the most traffic (the release driver edits mlops:serving.deployments; the
 * batch deployment follows), so `mlops score-batch --stack <s>` scores with what <s> serves. Without a served
 * version (a stack before its first release) only the endpoint exists.
 *
 * Auth: Microsoft Entra tokens (AADToken, the default azure-ai-ml creates batch endpoints with: entities/_endpoint/batch_endpoint.py).
 * Output: append_row into predictions.csv, one line "file,row,prediction,error" per input row (batch_score.run()).
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as machinelearningservices from "@pulumi/azure-native/machinelearningservices/index.js";
import type * as storage from "@pulumi/azure-native/storage/index.js";
import { sha256Hex } from "../config/sha256.js";
import type { DeploymentConfig } from "../config/stackConfig.js";
import { declareCodeAsset } from "./codeAsset.js";
import { modelAssetId } from "./scoringEndpoint.js";

export interface BatchScoringArgs {
  resourceGroupName: pulumi.Input<string>;
  workspaceName: pulumi.Input<string>;
  workspaceId: pulumi.Input<string>;
  location: pulumi.Input<string>;
  /** Batch endpoint name, unique in the region (3-32 characters). */
  endpointName: pulumi.Input<string>;
  /** ARM id of the training cluster (AmlCompute) the deployment runs on. */
  computeId: pulumi.Input<string>;
  model: pulumi.Input<string>;
  /** The model version to serve; undefined before the stack's first release (no deployment then). */
  modelVersion?: string;
  /** ml/batch_score.py and the modules it imports (ml/score.py), uploaded together as the code asset. */
  scriptPaths: string[];
  entryScript: string;
  /** The environment of the online deployments (ml/conda.yml): the same Python packages, so the same predictions. */
  environmentId: pulumi.Input<string>;
  codeName: string;
  codeContainerName: pulumi.Input<string>;
  storageAccountName: pulumi.Input<string>;
  blobEndpoint: pulumi.Input<string>;
  settings: {
    instanceCount: number;
    miniBatchSize: number;
    maxConcurrencyPerInstance: number;
    errorThreshold: number;
    maxRetries: number;
    retryTimeout: string;
  };
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export const BATCH_DEPLOYMENT_NAME = "main";
export const BATCH_OUTPUT_FILE = "predictions.csv";

/** The files' content hash: sha256 over each file's sha256, in order. */
const hashOf = (parts: Buffer[], length = 16): string => sha256Hex(...parts.map((p) => Buffer.from(sha256Hex(p), "hex"))).slice(0, length);

export class BatchScoring extends pulumi.ComponentResource {
  readonly endpoint: machinelearningservices.BatchEndpoint;
  readonly deployment?: machinelearningservices.BatchDeployment;
  readonly codeVersion: machinelearningservices.CodeVersion;
  readonly codeBlobs: storage.Blob[];
  readonly endpointName: pulumi.Output<string>;
  readonly scoringUri: pulumi.Output<string>;
  /** The model version the batch deployment serves, or undefined when there is no deployment. */
  readonly modelVersion?: string;

  constructor(name: string, args: BatchScoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:batch:BatchScoring", name, {}, opts);
    const files = args.scriptPaths.map((p) => ({ path: p, name: basename(p), content: readFileSync(p) }));
    const codeHash = hashOf(files.map((f) => f.content));
    const folder = `batch-code/${codeHash}`;
    const asset = declareCodeAsset(this, {
      resourceGroupName: args.resourceGroupName,
      workspaceName: args.workspaceName,
      storageAccountName: args.storageAccountName,
      containerName: args.codeContainerName,
      blobEndpoint: args.blobEndpoint,
      codeName: args.codeName,
      version: codeHash,
      folder,
      files,
      blobResourceName: (f) => `${name}-code-${f.name.replace(/[^a-z0-9]/gi, "-")}`,
      codeResourceName: `${name}-code`,
    });
    this.codeBlobs = asset.blobs;
    this.codeVersion = asset.codeVersion;

    this.endpoint = new machinelearningservices.BatchEndpoint(
      `${name}-endpoint`,
      {
        resourceGroupName: args.resourceGroupName,
        workspaceName: args.workspaceName,
        endpointName: args.endpointName,
        location: args.location,
        properties: {
          authMode: "AADToken",
          // no `defaults`: the deployment does not exist yet when the endpoint is created; the driver names it per job
          description: "Batch scoring with ml/batch_score.py (managed by Pulumi; the model version follows mlops:serving)",
        },
        tags: args.tags,
      },
      { parent: this },
    );

    if (args.modelVersion !== undefined) {
      const version = args.modelVersion;
      const s = args.settings;
      this.modelVersion = version;
      this.deployment = new machinelearningservices.BatchDeployment(
        `${name}-${BATCH_DEPLOYMENT_NAME}`,
        {
          resourceGroupName: args.resourceGroupName,
          workspaceName: args.workspaceName,
          endpointName: this.endpoint.name,
          deploymentName: BATCH_DEPLOYMENT_NAME,
          location: args.location,
          properties: {
            description: pulumi.interpolate`${args.model} version ${version}`,
            compute: args.computeId,
            model: { referenceType: "Id", assetId: pulumi.all([args.workspaceId, args.model]).apply(([id, m]) => modelAssetId(id, m, version)) },
            codeConfiguration: { codeId: this.codeVersion.id, scoringScript: args.entryScript },
            environmentId: args.environmentId,
            resources: { instanceCount: s.instanceCount },
            miniBatchSize: s.miniBatchSize,
            maxConcurrencyPerInstance: s.maxConcurrencyPerInstance,
            errorThreshold: s.errorThreshold,
            retrySettings: { maxRetries: s.maxRetries, timeout: s.retryTimeout },
            outputAction: machinelearningservices.BatchOutputAction.AppendRow,
            outputFileName: BATCH_OUTPUT_FILE,
            loggingLevel: machinelearningservices.BatchLoggingLevel.Info,
          },
          tags: args.tags,
        },
        { parent: this, dependsOn: [this.codeVersion] },
      );
    }

    this.endpointName = this.endpoint.name;
    this.scoringUri = this.endpoint.properties.scoringUri;
    this.registerOutputs({ endpointName: this.endpointName, scoringUri: this.scoringUri });
  }
}

/** The version with the most traffic among the stack's online deployments (ties: the lower deployment name). */
export function primaryServedVersion(deployments: Readonly<Record<string, DeploymentConfig>>): string | undefined {
  const entries = Object.entries(deployments).sort(([a, x], [b, y]) => y.weight - x.weight || a.localeCompare(b));
  return entries[0]?.[1].version;
}

/** The batch endpoint's name from the online endpoint's (`ep-<prefix>-<stack>-<suffix>` -> `bep-...`), within 32 characters. */
export function batchEndpointName(onlineEndpointName: string): string {
  const cut = onlineEndpointName.lastIndexOf("-");
  const tail = cut > 0 ? onlineEndpointName.slice(cut) : "";
  const head = `b${cut > 0 ? onlineEndpointName.slice(0, cut) : onlineEndpointName}`;
  return `${head.slice(0, 32 - tail.length).replace(/-+$/, "")}${tail}`;
}
