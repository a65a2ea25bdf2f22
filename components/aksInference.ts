/**
 * AksInference: an AKS cluster for online inference, the Azure ML Kubernetes extension on it, and
 * its attachment to the workspace as `Kubernetes` compute (not the legacy `AKS` attach, which v2
 * online endpoints reject).
 *
 * Requirements of the Azure ML extension honoured here: a managed identity on the cluster (not a
 * service principal), local accounts enabled, same subscription as the workspace, >= 4 vCPU and
 * 14 GB in total (checked by config/stackConfig.ts before anything is created).
 *
 * Role assignments (ACR admin user is disabled, so image pulls need an identity):
 *   - Kubernetes compute's system identity: AcrPull on the workspace registry and Storage Blob Data
 *     Reader on the workspace storage account: the identity Azure ML uses on the cluster to pull
 *     the deployment image and download code/model assets.
 *   - AKS kubelet identity: AcrPull on the workspace registry, the usual AKS image-pull path.
 */
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as containerservice from "@pulumi/azure-native/containerservice/index.js";
import * as kubernetesconfiguration from "@pulumi/azure-native/kubernetesconfiguration/index.js";
import * as machinelearningservices from "@pulumi/azure-native/machinelearningservices/index.js";
import { roleDefinitionId } from "./roles.js";

export interface InstanceTypeArgs {
  name: string;
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface AksInferenceArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  clusterName: pulumi.Input<string>;
  vmSize: pulumi.Input<string>;
  nodeCount: pulumi.Input<number>;
  kubernetesVersion?: pulumi.Input<string>;
  workspaceName: pulumi.Input<string>;
  /** Compute name inside the workspace, 2-16 characters. */
  computeName: pulumi.Input<string>;
  instanceType: pulumi.Input<InstanceTypeArgs>;
  inferenceRouterServiceType: pulumi.Input<string>;
  allowInsecureConnections: pulumi.Input<boolean>;
  containerRegistryId: pulumi.Input<string>;
  storageAccountId: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Kubernetes namespace the Azure ML workloads run in (exists on every cluster). */
export const INFERENCE_NAMESPACE = "default";
/** Namespace the extension's own components are installed in. */
export const EXTENSION_NAMESPACE = "azureml";

/** The extension's configuration settings (all values are strings in the extension API). */
export function extensionSettings(args: {
  nodeCount: number;
  inferenceRouterServiceType: string;
  allowInsecureConnections: boolean;
}): Record<string, string> {
  return {
    enableInference: "True",
    enableTraining: "False",
    inferenceRouterServiceType: args.inferenceRouterServiceType,
    allowInsecureConnections: args.allowInsecureConnections ? "True" : "False",
    // The HA router runs 3 replicas spread over nodes; small clusters need it off.
    inferenceRouterHA: args.nodeCount >= 3 ? "True" : "False",
  };
}

export class AksInference extends pulumi.ComponentResource {
  readonly cluster: containerservice.ManagedCluster;
  readonly extension: kubernetesconfiguration.Extension;
  readonly compute: machinelearningservices.Compute;
  readonly roleAssignments: authorization.RoleAssignment[];
  readonly computeId: pulumi.Output<string>;
  readonly computeName: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;

  constructor(name: string, args: AksInferenceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:inference:AksInference", name, {}, opts);
    const child = { parent: this };

    this.cluster = new containerservice.ManagedCluster(
      `${name}-aks`,
      {
        resourceGroupName: args.resourceGroupName,
        resourceName: args.clusterName,
        location: args.location,
        dnsPrefix: args.clusterName,
        identity: { type: containerservice.ResourceIdentityType.SystemAssigned },
        disableLocalAccounts: false,
        enableRBAC: true,
        ...(args.kubernetesVersion !== undefined ? { kubernetesVersion: args.kubernetesVersion } : {}),
        sku: { name: containerservice.ManagedClusterSKUName.Base, tier: containerservice.ManagedClusterSKUTier.Free },
        agentPoolProfiles: [
          {
            name: "system",
            mode: containerservice.AgentPoolMode.System,
            type: containerservice.AgentPoolType.VirtualMachineScaleSets,
            osType: containerservice.OSType.Linux,
            vmSize: args.vmSize,
            count: args.nodeCount,
          },
        ],
        tags: args.tags,
      },
      child,
    );

    this.extension = new kubernetesconfiguration.Extension(
      `${name}-azureml-ext`,
      {
        resourceGroupName: args.resourceGroupName,
        clusterRp: "Microsoft.ContainerService",
        clusterResourceName: "managedClusters",
        clusterName: this.cluster.name,
        extensionName: "azureml",
        extensionType: "Microsoft.AzureML.Kubernetes",
        releaseTrain: "stable",
        autoUpgradeMinorVersion: true,
        identity: { type: kubernetesconfiguration.ResourceIdentityType.SystemAssigned },
        scope: { cluster: { releaseNamespace: EXTENSION_NAMESPACE } },
        configurationSettings: pulumi
          .all([args.nodeCount, args.inferenceRouterServiceType, args.allowInsecureConnections])
          .apply(([nodeCount, inferenceRouterServiceType, allowInsecureConnections]) =>
            extensionSettings({ nodeCount, inferenceRouterServiceType, allowInsecureConnections }),
          ),
      },
      child,
    );

    const instanceType = pulumi.output(args.instanceType);
    this.compute = new machinelearningservices.Compute(
      `${name}-k8s-compute`,
      {
        resourceGroupName: args.resourceGroupName,
        workspaceName: args.workspaceName,
        computeName: args.computeName,
        location: args.location,
        identity: { type: machinelearningservices.ManagedServiceIdentityType.SystemAssigned },
        properties: {
          computeType: "Kubernetes",
          description: "AKS inference cluster with the Azure ML extension (managed by Pulumi)",
          resourceId: this.cluster.id,
          properties: {
            namespace: INFERENCE_NAMESPACE,
            defaultInstanceType: instanceType.name,
            instanceTypes: instanceType.apply((it) => ({
              [it.name]: { resources: { requests: { ...it.requests }, limits: { ...it.limits } } },
            })),
          },
        },
        tags: args.tags,
      },
      // The compute can only attach once the extension is installed and healthy.
      { parent: this, dependsOn: [this.extension] },
    );

    const computePrincipalId = this.compute.identity.apply((identity) => identity?.principalId ?? "");
    const kubeletObjectId = this.cluster.identityProfile.apply(
      (profile) => profile?.["kubeletidentity"]?.objectId ?? "",
    );
    const assign = (suffix: string, principalId: pulumi.Input<string>, role: "AcrPull" | "StorageBlobDataReader", scope: pulumi.Input<string>) =>
      new authorization.RoleAssignment(
        `${name}-${suffix}`,
        {
          principalId,
          principalType: authorization.PrincipalType.ServicePrincipal,
          roleDefinitionId: pulumi.output(args.subscriptionId).apply((sub) => roleDefinitionId(sub, role)),
          scope,
        },
        child,
      );
    this.roleAssignments = [
      assign("compute-acrpull", computePrincipalId, "AcrPull", args.containerRegistryId),
      assign("compute-blobreader", computePrincipalId, "StorageBlobDataReader", args.storageAccountId),
      assign("kubelet-acrpull", kubeletObjectId, "AcrPull", args.containerRegistryId),
    ];

    this.computeId = this.compute.id;
    this.computeName = this.compute.name;
    this.clusterName = this.cluster.name;
    this.registerOutputs({ computeId: this.computeId, computeName: this.computeName, clusterName: this.clusterName });
  }
}
