/**
 * The rules every mlops stack must keep, as @pulumi/policy resource policies.
 *
 * Kept apart from index.ts (which only constructs the PolicyPack, and so starts the analyzer
 * server) so tests can call each policy's validateResource directly. Policies match on the
 * resource type token and read plain property bags, so they need no Azure SDK.
 *
 * Stack awareness: a resource-level policy cannot see the stack name, so "prod" is read from the
 * resource's `environment` tag (the program tags every taggable resource from mlops:tags).
 */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";

import { REQUIRED_TAGS } from "../config/requiredTags.js";
import { valueAt } from "../config/valueAt.js";
import { NETWORK_TAG } from "../config/networkTag.js";

export const TYPES = {
  resourceGroup: "azure-native:resources:ResourceGroup",
  logAnalytics: "azure-native:operationalinsights:Workspace",
  appInsights: "azure-native:applicationinsights:Component",
  storageAccount: "azure-native:storage:StorageAccount",
  blobContainer: "azure-native:storage:BlobContainer",
  keyVault: "azure-native:keyvault:Vault",
  containerRegistry: "azure-native:containerregistry:Registry",
  mlWorkspace: "azure-native:machinelearningservices:Workspace",
  mlCompute: "azure-native:machinelearningservices:Compute",
  onlineEndpoint: "azure-native:machinelearningservices:OnlineEndpoint",
  onlineDeployment: "azure-native:machinelearningservices:OnlineDeployment",
  managedCluster: "azure-native:containerservice:ManagedCluster",
  k8sExtension: "azure-native:kubernetesconfiguration:Extension",
  virtualNetwork: "azure-native:network:VirtualNetwork",
  privateEndpoint: "azure-native:network:PrivateEndpoint",
  privateZone: "azure-native:privatedns:PrivateZone",
  privateZoneLink: "azure-native:privatedns:VirtualNetworkLink",
} as const;

/** Types that accept tags and must carry the required ones. */
export const TAGGABLE_TYPES: readonly string[] = [
  TYPES.resourceGroup,
  TYPES.logAnalytics,
  TYPES.appInsights,
  TYPES.storageAccount,
  TYPES.keyVault,
  TYPES.containerRegistry,
  TYPES.mlWorkspace,
  TYPES.mlCompute,
  TYPES.onlineEndpoint,
  TYPES.onlineDeployment,
  TYPES.managedCluster,
  TYPES.virtualNetwork,
  TYPES.privateEndpoint,
  TYPES.privateZone,
  TYPES.privateZoneLink,
];

type Props = Record<string, unknown>;

function on(type: string, check: (props: Props, report: ReportViolation, args: ResourceValidationArgs) => void) {
  return (args: ResourceValidationArgs, report: ReportViolation): void => {
    if (args.type === type) check(args.props, report, args);
  };
}

const field = (value: unknown, ...path: string[]): unknown => valueAt(value, path);

function isProd(props: Props): boolean {
  return field(props, "tags", "environment") === "prod";
}

/** The tag config/networkConfig.ts puts on every resource of a stack with mlops:network.private. */
function isPrivateNetwork(props: Props): boolean {
  return field(props, "tags", NETWORK_TAG.name) === NETWORK_TAG.private;
}

/** A policy of this pack: every one is mandatory (a violation fails the preview). */
function mandatory(name: string, description: string, validateResource: ResourceValidationPolicy["validateResource"]): ResourceValidationPolicy {
  return { name, description, enforcementLevel: "mandatory", validateResource };
}

export const storageSecureTransport = mandatory(
  "storage-secure-transport",
  "Storage accounts accept HTTPS only.",
  on(TYPES.storageAccount, (props, report) => {
    if (props["enableHttpsTrafficOnly"] !== true) report("Storage account must set enableHttpsTrafficOnly: true.");
  }),
);

export const storageMinimumTls = mandatory(
  "storage-minimum-tls-1-2",
  "Storage accounts require TLS 1.2 or newer.",
  on(TYPES.storageAccount, (props, report) => {
    const tls = props["minimumTlsVersion"];
    if (tls !== "TLS1_2" && tls !== "TLS1_3") {
      report(`Storage account minimumTlsVersion must be TLS1_2 or newer, not ${String(tls ?? "unset (TLS1_0)")}.`);
    }
  }),
);

export const storageNoPublicBlobAccess = mandatory("storage-no-public-blob-access", "No anonymous (public) blob access on accounts or containers.", [
  on(TYPES.storageAccount, (props, report) => {
    if (props["allowBlobPublicAccess"] !== false) report("Storage account must set allowBlobPublicAccess: false.");
  }),
  on(TYPES.blobContainer, (props, report) => {
    const access = props["publicAccess"];
    if (access !== undefined && access !== "None") report(`Blob container publicAccess must be None, not ${String(access)}.`);
  }),
]);

export const keyVaultRbacAuthorization = mandatory(
  "keyvault-rbac-authorization",
  "Key Vaults use Azure RBAC (not access policies) and keep soft delete on.",
  on(TYPES.keyVault, (props, report) => {
    if (field(props, "properties", "enableRbacAuthorization") !== true) {
      report("Key Vault must set properties.enableRbacAuthorization: true.");
    }
    if (field(props, "properties", "enableSoftDelete") === false) report("Key Vault must not turn soft delete off.");
  }),
);

export const keyVaultPurgeProtectionInProd = mandatory(
  "keyvault-purge-protection-in-prod",
  "Key Vaults tagged environment=prod have purge protection on.",
  on(TYPES.keyVault, (props, report) => {
    if (isProd(props) && field(props, "properties", "enablePurgeProtection") !== true) {
      report("Key Vault tagged environment=prod must set properties.enablePurgeProtection: true.");
    }
  }),
);

export const acrAdminUserDisabled = mandatory(
  "acr-admin-user-disabled",
  "Container registries do not enable the shared admin user; pulls use identities (AcrPull).",
  on(TYPES.containerRegistry, (props, report) => {
    if (props["adminUserEnabled"] === true) report("Container registry must set adminUserEnabled: false.");
  }),
);

export const aksManagedIdentity = mandatory(
  "aks-managed-identity",
  "AKS clusters use a managed identity (SystemAssigned or UserAssigned), never a service principal; the Azure ML extension requires it.",
  on(TYPES.managedCluster, (props, report) => {
    const type = field(props, "identity", "type");
    if (type !== "SystemAssigned" && type !== "UserAssigned") {
      report(`AKS cluster identity.type must be SystemAssigned or UserAssigned, not ${String(type ?? "unset")}.`);
    }
    const clientId = field(props, "servicePrincipalProfile", "clientId");
    if (props["servicePrincipalProfile"] !== undefined && clientId !== "msi") {
      report("AKS cluster must not set servicePrincipalProfile (use the managed identity).");
    }
  }),
);

export const mlComputeKubernetesNotAks = mandatory(
  "ml-compute-kubernetes-not-aks",
  "Azure ML attaches AKS as computeType Kubernetes (Azure ML extension); the legacy AKS attach is rejected by v2 online endpoints.",
  on(TYPES.mlCompute, (props, report) => {
    if (field(props, "properties", "computeType") === "AKS") {
      report("Azure ML compute must use computeType Kubernetes, not the legacy AKS.");
    }
  }),
);

export const kubernetesEndpointAuth = mandatory(
  "ml-kubernetes-endpoint-auth",
  "Online endpoints on Kubernetes compute use Key or AMLToken auth; AADToken is for managed online endpoints only (MS Learn, Authenticate clients for online endpoints).",
  on(TYPES.onlineEndpoint, (props, report) => {
    const authMode = field(props, "properties", "authMode");
    if (field(props, "properties", "compute") !== undefined && authMode !== "Key" && authMode !== "AMLToken") {
      report(
        `Online endpoint on Kubernetes compute must use authMode Key or AMLToken, not ${String(authMode)}: set mlops:serving.authMode to Key or AMLToken.`,
      );
    }
  }),
);

const isTrue = (value: unknown): boolean => String(value).toLowerCase() === "true";
/** Protected settings carrying both PEMs the router serves TLS with (policies see secrets unwrapped). */
const hasCertificateAndKey = (value: unknown): boolean => {
  const protectedSettings = (value ?? {}) as Props;
  return Boolean(protectedSettings["scoringFe.sslCert"]) && Boolean(protectedSettings["scoringFe.sslKey"]);
};

/** The stack's Azure ML extensions that serve inference (enableInference True), with their settings. */
function inferenceExtensions(resources: StackValidationArgs["resources"]): Array<{ name: string; settings: Props; protectedSettings: unknown }> {
  return resources.flatMap((r) => {
    if (r.type !== TYPES.k8sExtension || String(r.props["extensionType"]).toLowerCase() !== "microsoft.azureml.kubernetes") return [];
    const settings = (r.props["configurationSettings"] ?? {}) as Props;
    return isTrue(settings["enableInference"]) ? [{ name: r.name, settings, protectedSettings: r.props["configurationProtectedSettings"] }] : [];
  });
}

export const prodInferenceOverTls: StackValidationPolicy = {
  name: "prod-inference-over-tls",
  description:
    "A stack tagged environment=prod serves inference over HTTPS: the Azure ML extension has allowInsecureConnections False, sslCname and a certificate (MS Learn, Deploy Azure Machine Learning extension: HTTP is for development or test).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    if (!args.resources.some((r) => field(r.props, "tags", "environment") === "prod")) return;
    for (const { name, settings, protectedSettings } of inferenceExtensions(args.resources)) {
      const fix = "set mlops:aks.allowInsecureConnections false with mlops:aks.tls (cname + certificate)";
      if (isTrue(settings["allowInsecureConnections"])) {
        report(`Stack tagged environment=prod serves inference over plain HTTP (Azure ML extension ${name}: allowInsecureConnections True): ${fix}.`);
      } else if (!settings["sslCname"] || (!settings["scoringFe.sslSecret"] && !hasCertificateAndKey(protectedSettings))) {
        report(
          `Stack tagged environment=prod has no TLS certificate on the Azure ML extension ${name} (sslCname plus scoringFe.sslSecret or protected scoringFe.sslCert/sslKey): ${fix}.`,
        );
      }
    }
  },
};

const PRIVATE_FIX = "set it Disabled (the program does so when mlops:network.private is true) or remove the network: private tag";

/**
 * Where a stack says its network is private (tag network: private), the workspace and its storage, Key Vault and
 * registry accept no public traffic (publicNetworkAccess Disabled; Key Vault's is properties.publicNetworkAccess),
 * and the registry is Premium, the only tier with private endpoints (MS Learn, "Azure Container Registry service tiers").
 */
export const privateNetworkPublicAccessOff = mandatory(
  "private-network-public-access-off",
  "Resources tagged network=private (mlops:network.private) have public network access Disabled: workspace, storage, Key Vault, container registry (Premium, the tier with private link).",
  [
    ...(
      [
        [TYPES.mlWorkspace, "Azure ML workspace"],
        [TYPES.storageAccount, "Storage account"],
        [TYPES.containerRegistry, "Container registry"],
      ] as const
    ).map(([type, what]) =>
      on(type, (props, report) => {
        if (!isPrivateNetwork(props)) return;
        const access = props["publicNetworkAccess"];
        if (access !== "Disabled") report(`${what} tagged network=private has publicNetworkAccess ${String(access ?? "unset (Enabled)")}: ${PRIVATE_FIX}.`);
      }),
    ),
    on(TYPES.keyVault, (props, report) => {
      if (!isPrivateNetwork(props)) return;
      const access = field(props, "properties", "publicNetworkAccess");
      if (String(access).toLowerCase() !== "disabled") {
        report(`Key Vault tagged network=private has properties.publicNetworkAccess ${String(access ?? "unset (Enabled)")}: ${PRIVATE_FIX}.`);
      }
    }),
    on(TYPES.containerRegistry, (props, report) => {
      const sku = field(props, "sku", "name");
      if (isPrivateNetwork(props) && sku !== "Premium") {
        report(`Container registry tagged network=private is ${String(sku)}: private endpoints need the Premium tier.`);
      }
    }),
  ],
);

/** Private link group ids a private stack reaches its dependencies by (components/privateNetwork.ts). */
export const PRIVATE_ENDPOINT_GROUP_IDS = ["amlworkspace", "blob", "file", "vault", "registry"] as const;

export const privateNetworkEndpointsAndInternalRouter: StackValidationPolicy = {
  name: "private-network-endpoints-and-internal-router",
  description:
    "A stack tagged network=private has a private endpoint per dependency (amlworkspace, blob, file, vault, registry) and its Azure ML inference router on an internal load balancer (internalLoadBalancerProvider azure).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    if (!args.resources.some((r) => isPrivateNetwork(r.props))) return;
    const groupIds = new Set(
      args.resources
        .filter((r) => r.type === TYPES.privateEndpoint)
        .flatMap((r) => ((r.props["privateLinkServiceConnections"] ?? []) as Props[]).flatMap((c) => (c["groupIds"] ?? []) as string[])),
    );
    const missing = PRIVATE_ENDPOINT_GROUP_IDS.filter((id) => !groupIds.has(id));
    if (missing.length > 0)
      report(`Stack tagged network=private has no private endpoint for ${missing.join(", ")}: set mlops:network.private true (the program creates them).`);
    for (const { name, settings } of inferenceExtensions(args.resources)) {
      if (String(settings["inferenceRouterServiceType"]).toLowerCase() !== "loadbalancer") continue;
      if (String(settings["internalLoadBalancerProvider"]).toLowerCase() !== "azure") {
        report(
          `Stack tagged network=private exposes the inference router on a public load balancer (Azure ML extension ${name}): set internalLoadBalancerProvider azure.`,
        );
      }
    }
  },
};

export const requiredTags = mandatory("required-tags", `Taggable resources carry the tags ${REQUIRED_TAGS.join(", ")}.`, (args, report) => {
  if (!TAGGABLE_TYPES.includes(args.type)) return;
  const tags = (args.props["tags"] ?? {}) as Record<string, unknown>;
  const missing = REQUIRED_TAGS.filter((tag) => typeof tags[tag] !== "string" || tags[tag] === "");
  if (missing.length > 0) report(`Resource ${args.type} is missing required tag(s): ${missing.join(", ")}.`);
});

export const policies: Array<ResourceValidationPolicy | StackValidationPolicy> = [
  storageSecureTransport,
  storageMinimumTls,
  storageNoPublicBlobAccess,
  keyVaultRbacAuthorization,
  keyVaultPurgeProtectionInProd,
  acrAdminUserDisabled,
  aksManagedIdentity,
  mlComputeKubernetesNotAks,
  kubernetesEndpointAuth,
  prodInferenceOverTls,
  privateNetworkPublicAccessOff,
  privateNetworkEndpointsAndInternalRouter,
  requiredTags,
];
