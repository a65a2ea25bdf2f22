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
import { roleDefinitionId, type BuiltInRole } from "./roles.js";

/** TLS on the extension's inference router (azureml-fe). */
export interface RouterTlsArgs {
  /** DNS name clients call the endpoint by (`sslCname`). */
  cname: string;
  /** An existing Kubernetes secret in the azureml namespace holding cert.pem and key.pem. */
  secretName?: string;
  /** PEM certificate and private key (Pulumi secrets) when no secretName is given. */
  certificatePem?: pulumi.Output<string>;
  privateKeyPem?: pulumi.Output<string>;
}

export interface AksInferenceArgs {
  resourceGroupName: pulumi.Input<string>;
  /** Azure region (lowercase, as in mlops:location); the extension's location settings use it. */
  location: string;
  subscriptionId: pulumi.Input<string>;
  clusterName: pulumi.Input<string>;
  vmSize: pulumi.Input<string>;
  nodeCount: number;
  kubernetesVersion?: pulumi.Input<string>;
  workspaceName: pulumi.Input<string>;
  /** Compute name inside the workspace, 2-16 characters. */
  computeName: pulumi.Input<string>;
  inferenceRouterServiceType: "LoadBalancer" | "NodePort" | "ClusterIP";
  /** Three azureml-fe replicas; needs >= 3 nodes (checked by config/stackConfig.ts). */
  inferenceRouterHA: boolean;
  clusterPurpose: "FastProd" | "DevTest";
  allowInsecureConnections: boolean;
  /** Required unless allowInsecureConnections. */
  tls?: RouterTlsArgs;
  containerRegistryId: pulumi.Input<string>;
  storageAccountId: pulumi.Input<string>;
  /**
   * mlops:network.private: the nodes join this subnet (Azure CNI Overlay with the given pod/service
   * ranges), the cluster identity gets Network Contributor on it (to place the internal load balancer)
   * and the router is exposed on an internal load balancer.
   */
  privateNetwork?: { subnetId: pulumi.Input<string>; podCidr: string; serviceCidr: string; dnsServiceIP: string };
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Kubernetes namespace the Azure ML workloads run in (exists on every cluster). */
export const INFERENCE_NAMESPACE = "default";
/** Namespace the extension's own components are installed in. */
export const EXTENSION_NAMESPACE = "azureml";

const flag = (value: boolean): string => (value ? "True" : "False");

/**
 * The extension's configuration settings (all values are strings in the extension API), as
 * Microsoft's two installers set them for an inference install on AKS: the ARM template
 * Azure/AML-Kubernetes files/deployextension.json (`baseSettings`, `inferenceBase`, `sslSetting`)
 * and azure-cli-extensions src/k8s-extension/.../partner_extensions/AzureMLKubernetes.py (`Create()`).
 * Where they differ: `domain` follows the CLI (`<location>.cloudapp.azure.com`; the template puts
 * the bare location there); `clusterPurpose` follows the CLI (DevTest below three nodes, else the
 * template's FastProd); `internalLoadBalancerProvider: azure` only on request (the CLI's way; the
 * template sets it by default): a private stack asks for it, which puts azureml-fe's load balancer on
 * a private address in the AKS subnet (MS Learn, "Deploy Azure Machine Learning extension on AKS or
 * Arc Kubernetes cluster": "Set to azure to allow the inference router using internal load balancer").
 */
export function extensionSettings(args: {
  clusterId: pulumi.Input<string>;
  clusterName: pulumi.Input<string>;
  location: string;
  inferenceRouterServiceType: "LoadBalancer" | "NodePort" | "ClusterIP";
  inferenceRouterHA: boolean;
  clusterPurpose: "FastProd" | "DevTest";
  allowInsecureConnections: boolean;
  tls?: { cname: string; secretName?: string };
  internalLoadBalancer?: boolean;
}): Record<string, pulumi.Input<string>> {
  const settings: Record<string, pulumi.Input<string>> = {
    enableTraining: "False",
    enableInference: "True",
    clusterPurpose: args.clusterPurpose,
    cluster_name: args.clusterId,
    clusterId: args.clusterId,
    "prometheus.prometheusSpec.externalLabels.cluster_name": args.clusterId,
    domain: `${args.location}.cloudapp.azure.com`,
    location: args.location,
    jobSchedulerLocation: args.location,
    cluster_name_friendly: args.clusterName,
    "servicebus.enabled": "false",
    "relayserver.enabled": "false",
    "nginxIngress.enabled": "true",
    installNvidiaDevicePlugin: "False",
    installPromOp: "True",
    installVolcano: "True",
    installDcgmExporter: "False",
    inferenceRouterServiceType: args.inferenceRouterServiceType,
    inferenceRouterHA: flag(args.inferenceRouterHA),
    allowInsecureConnections: flag(args.allowInsecureConnections),
  };
  if (args.inferenceRouterServiceType === "NodePort") settings["scoringFe.serviceType.nodePort"] = "True";
  if (args.internalLoadBalancer && args.inferenceRouterServiceType === "LoadBalancer") settings["internalLoadBalancerProvider"] = "azure";
  if (!args.allowInsecureConnections && args.tls) {
    settings["sslCname"] = args.tls.cname;
    if (args.tls.secretName) settings["scoringFe.sslSecret"] = args.tls.secretName;
  }
  return settings;
}

/**
 * The extension's protected settings for TLS from PEM text: `scoringFe.sslCert` / `scoringFe.sslKey`,
 * each the base64 of the PEM file's text, as AzureMLKubernetes.py (`__set_inference_ssl_from_file`)
 * and deployextension.json (`sslCertificate` / `sslKey`: "base64 encoded ... content") pass them.
 * Built inside the secret Outputs, so the result stays a Pulumi secret.
 */
export function protectedTlsSettings(certificatePem: pulumi.Output<string>, privateKeyPem: pulumi.Output<string>): pulumi.Output<Record<string, string>> {
  return pulumi.secret(
    pulumi.all([certificatePem, privateKeyPem]).apply(([cert, key]): Record<string, string> => ({
      "scoringFe.sslCert": Buffer.from(cert, "ascii").toString("base64"),
      "scoringFe.sslKey": Buffer.from(key, "ascii").toString("base64"),
    })),
  );
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
    const tls = args.allowInsecureConnections ? undefined : args.tls;
    const tlsFromPem = tls && !tls.secretName && tls.certificatePem && tls.privateKeyPem ? { cert: tls.certificatePem, key: tls.privateKeyPem } : undefined;

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
            ...(args.privateNetwork ? { vnetSubnetID: args.privateNetwork.subnetId } : {}),
          },
        ],
        ...(args.privateNetwork
          ? {
              networkProfile: {
                networkPlugin: containerservice.NetworkPlugin.Azure,
                networkPluginMode: containerservice.NetworkPluginMode.Overlay,
                podCidr: args.privateNetwork.podCidr,
                serviceCidr: args.privateNetwork.serviceCidr,
                dnsServiceIP: args.privateNetwork.dnsServiceIP,
                loadBalancerSku: containerservice.LoadBalancerSku.Standard,
              },
            }
          : {}),
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
        // Per-key inputs: only the cluster id/name wait for the cluster, so the TLS settings are
        // known at preview, where the policy pack checks them.
        configurationSettings: extensionSettings({
          clusterId: this.cluster.id,
          clusterName: this.cluster.name,
          location: args.location,
          inferenceRouterServiceType: args.inferenceRouterServiceType,
          inferenceRouterHA: args.inferenceRouterHA,
          clusterPurpose: args.clusterPurpose,
          allowInsecureConnections: args.allowInsecureConnections,
          ...(tls ? { tls: { cname: tls.cname, ...(tls.secretName ? { secretName: tls.secretName } : {}) } } : {}),
          internalLoadBalancer: args.privateNetwork !== undefined,
        }),
        ...(tlsFromPem ? { configurationProtectedSettings: protectedTlsSettings(tlsFromPem.cert, tlsFromPem.key) } : {}),
      },
      child,
    );

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
          // Only the namespace, as `az ml compute attach --type Kubernetes` sends it (azure-ai-ml
          // KubernetesCompute._to_rest_object): instance types live in the cluster as custom
          // resources, and the deployments use defaultinstancetype (see scoringEndpoint.ts).
          properties: { namespace: INFERENCE_NAMESPACE },
        },
        tags: args.tags,
      },
      // The compute can only attach once the extension is installed and healthy.
      { parent: this, dependsOn: [this.extension] },
    );

    const computePrincipalId = this.compute.identity.apply((identity) => identity?.principalId ?? "");
    const kubeletObjectId = this.cluster.identityProfile.apply((profile) => profile?.["kubeletidentity"]?.objectId ?? "");
    const assign = (suffix: string, principalId: pulumi.Input<string>, role: BuiltInRole, scope: pulumi.Input<string>) =>
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
    if (args.privateNetwork) {
      // MS Learn, "Use an internal load balancer with AKS" (Before you begin): in an existing subnet the cluster identity needs
      // permission to manage network resources; Network Contributor on the subnet is the built-in role for it.
      const clusterPrincipalId = this.cluster.identity.apply((identity) => identity?.principalId ?? "");
      this.roleAssignments.push(assign("cluster-subnet-network", clusterPrincipalId, "NetworkContributor", args.privateNetwork.subnetId));
    }

    this.computeId = this.compute.id;
    this.computeName = this.compute.name;
    this.clusterName = this.cluster.name;
    this.registerOutputs({ computeId: this.computeId, computeName: this.computeName, clusterName: this.clusterName });
  }
}
