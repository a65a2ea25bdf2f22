/**
 * MlWorkspace: the resource group and the Azure ML workspace with everything it is wired to:
 * Log Analytics + workspace-based Application Insights, a locked-down storage account, an
 * RBAC-mode Key Vault and a container registry without the admin user.
 */
import * as pulumi from "@pulumi/pulumi";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights/index.js";
import * as containerregistry from "@pulumi/azure-native/containerregistry/index.js";
import * as keyvault from "@pulumi/azure-native/keyvault/index.js";
import * as machinelearningservices from "@pulumi/azure-native/machinelearningservices/index.js";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights/index.js";
import * as resources from "@pulumi/azure-native/resources/index.js";
import * as storage from "@pulumi/azure-native/storage/index.js";

export interface MlWorkspaceNames {
  resourceGroup: string;
  logAnalytics: string;
  appInsights: string;
  storageAccount: string;
  keyVault: string;
  containerRegistry: string;
  workspace: string;
}

export interface MlWorkspaceArgs {
  location: pulumi.Input<string>;
  tenantId: pulumi.Input<string>;
  /** Physical Azure names (see config/naming.ts). */
  names: pulumi.Input<MlWorkspaceNames>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Key Vault purge protection (irreversible once on; required in prod). */
  purgeProtection: pulumi.Input<boolean>;
  softDeleteRetentionDays: pulumi.Input<number>;
  /**
   * mlops:network.private: public network access off on the workspace, storage, Key Vault and registry
   * (reached through components/privateNetwork.ts), the registry on Premium (the only tier with private
   * link) and images built on `imageBuildCompute` (Azure ML cannot build on a registry behind a VNet).
   */
  private?: { imageBuildCompute: string };
}

export class MlWorkspace extends pulumi.ComponentResource {
  readonly resourceGroup: resources.ResourceGroup;
  readonly logAnalytics: operationalinsights.Workspace;
  readonly appInsights: applicationinsights.Component;
  readonly storageAccount: storage.StorageAccount;
  readonly keyVault: keyvault.Vault;
  readonly containerRegistry: containerregistry.Registry;
  readonly workspace: machinelearningservices.Workspace;
  readonly resourceGroupName: pulumi.Output<string>;
  readonly workspaceName: pulumi.Output<string>;
  readonly workspaceId: pulumi.Output<string>;
  readonly workspacePrincipalId: pulumi.Output<string | undefined>;
  readonly mlflowTrackingUri: pulumi.Output<string>;

  constructor(name: string, args: MlWorkspaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:workspace:MlWorkspace", name, {}, opts);
    const child = { parent: this };
    const names = pulumi.output(args.names);
    const location = args.location;
    const tags = args.tags;
    const isPrivate = args.private !== undefined;
    const publicAccessOff = isPrivate ? { publicNetworkAccess: "Disabled" } : {};

    this.resourceGroup = new resources.ResourceGroup(`${name}-rg`, { resourceGroupName: names.resourceGroup, location, tags }, child);
    const resourceGroupName = this.resourceGroup.name;

    this.logAnalytics = new operationalinsights.Workspace(
      `${name}-logs`,
      {
        resourceGroupName,
        workspaceName: names.logAnalytics,
        location,
        sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
        retentionInDays: 30,
        tags,
      },
      child,
    );

    this.appInsights = new applicationinsights.Component(
      `${name}-appi`,
      {
        resourceGroupName,
        resourceName: names.appInsights,
        location,
        kind: "web",
        applicationType: applicationinsights.ApplicationType.Web,
        ingestionMode: applicationinsights.IngestionMode.LogAnalytics,
        workspaceResourceId: this.logAnalytics.id,
        tags,
      },
      child,
    );

    this.storageAccount = new storage.StorageAccount(
      `${name}-storage`,
      {
        resourceGroupName,
        accountName: names.storageAccount,
        location,
        kind: storage.Kind.StorageV2,
        sku: { name: storage.SkuName.Standard_LRS },
        enableHttpsTrafficOnly: true,
        minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
        allowBlobPublicAccess: false,
        ...publicAccessOff,
        tags,
      },
      child,
    );

    this.keyVault = new keyvault.Vault(
      `${name}-kv`,
      {
        resourceGroupName,
        vaultName: names.keyVault,
        location,
        properties: {
          tenantId: args.tenantId,
          sku: { family: keyvault.SkuFamily.A, name: keyvault.SkuName.Standard },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: args.softDeleteRetentionDays,
          // Azure rejects enablePurgeProtection: false; leave it unset unless it is turned on.
          enablePurgeProtection: pulumi.output(args.purgeProtection).apply((on) => (on ? true : undefined)),
          ...publicAccessOff,
        },
        tags,
      },
      child,
    );

    this.containerRegistry = new containerregistry.Registry(
      `${name}-acr`,
      {
        resourceGroupName,
        registryName: names.containerRegistry,
        location,
        sku: { name: isPrivate ? containerregistry.SkuName.Premium : containerregistry.SkuName.Basic },
        adminUserEnabled: false,
        ...publicAccessOff,
        tags,
      },
      child,
    );

    this.workspace = new machinelearningservices.Workspace(
      `${name}-mlw`,
      {
        resourceGroupName,
        workspaceName: names.workspace,
        location,
        identity: { type: machinelearningservices.ManagedServiceIdentityType.SystemAssigned },
        storageAccount: this.storageAccount.id,
        keyVault: this.keyVault.id,
        applicationInsights: this.appInsights.id,
        containerRegistry: this.containerRegistry.id,
        sku: { name: "Basic", tier: machinelearningservices.SkuTier.Basic },
        friendlyName: names.workspace,
        ...publicAccessOff,
        ...(args.private ? { imageBuildCompute: args.private.imageBuildCompute } : {}),
        tags,
      },
      child,
    );

    this.resourceGroupName = resourceGroupName;
    this.workspaceName = this.workspace.name;
    this.workspaceId = this.workspace.id;
    this.workspacePrincipalId = this.workspace.identity.apply((identity) => identity?.principalId);
    this.mlflowTrackingUri = this.workspace.mlFlowTrackingUri;

    this.registerOutputs({
      resourceGroupName: this.resourceGroupName,
      workspaceName: this.workspaceName,
      workspaceId: this.workspaceId,
      mlflowTrackingUri: this.mlflowTrackingUri,
    });
  }
}
