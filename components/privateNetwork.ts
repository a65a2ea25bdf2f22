/**
 * PrivateNetwork: the VNet of a stack with `mlops:network.private: true`, its three subnets (AKS nodes,
 * training cluster, private endpoints), one private endpoint per workspace dependency with its private
 * DNS zone group, and the private DNS zones linked to the VNet.
 *
 * Group ids and zone names: MS Learn "Azure Private Endpoint private DNS zone values"
 * (https://learn.microsoft.com/azure/private-link/private-endpoint-dns):
 *   Microsoft.MachineLearningServices/workspaces / amlworkspace: privatelink.api.azureml.ms + privatelink.notebooks.azure.net
 *   Microsoft.Storage/storageAccounts / blob: privatelink.blob.core.windows.net; file: privatelink.file.core.windows.net
 *   Microsoft.KeyVault/vaults / vault: privatelink.vaultcore.azure.net
 *   Microsoft.ContainerRegistry/registries / registry: privatelink.azurecr.io
 * Public network access on the targets is turned off by their owners (components/mlWorkspace.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network/index.js";
import * as privatedns from "@pulumi/azure-native/privatedns/index.js";
import type { NetworkConfig } from "../config/networkConfig.js";

/** A private link sub-resource: the group id and the DNS zones its endpoint registers in. */
export interface PrivateLinkTarget {
  groupId: string;
  zones: readonly string[];
}

/** Sub-resources this program reaches privately, per the MS Learn table above. */
export const PRIVATE_LINK = {
  workspace: { groupId: "amlworkspace", zones: ["privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"] },
  blob: { groupId: "blob", zones: ["privatelink.blob.core.windows.net"] },
  file: { groupId: "file", zones: ["privatelink.file.core.windows.net"] },
  vault: { groupId: "vault", zones: ["privatelink.vaultcore.azure.net"] },
  registry: { groupId: "registry", zones: ["privatelink.azurecr.io"] },
} as const satisfies Record<string, PrivateLinkTarget>;

export type PrivateLinkKey = keyof typeof PRIVATE_LINK;

export interface PrivateNetworkArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  /** Prefix of the physical names, `<prefix>-<stack>`. */
  namePrefix: string;
  network: NetworkConfig;
  /** The resource id behind each private endpoint. */
  targets: Record<PrivateLinkKey, pulumi.Input<string>>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class PrivateNetwork extends pulumi.ComponentResource {
  readonly virtualNetwork: network.VirtualNetwork;
  readonly aksSubnet: network.Subnet;
  readonly trainingSubnet: network.Subnet;
  readonly endpointSubnet: network.Subnet;
  readonly zones: privatedns.PrivateZone[];
  readonly zoneLinks: privatedns.VirtualNetworkLink[];
  readonly endpoints: network.PrivateEndpoint[];
  readonly zoneGroups: network.PrivateDnsZoneGroup[];

  constructor(name: string, args: PrivateNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:network:PrivateNetwork", name, {}, opts);
    const child = { parent: this };
    const { resourceGroupName, tags } = args;

    this.virtualNetwork = new network.VirtualNetwork(
      `${name}-vnet`,
      {
        resourceGroupName,
        virtualNetworkName: `${args.namePrefix}-vnet`,
        location: args.location,
        addressSpace: { addressPrefixes: [args.network.addressSpace] },
        tags,
      },
      // The subnets are their own resources below: the VNet never declares (or diffs) them inline.
      { ...child, ignoreChanges: ["subnets"] },
    );
    const subnet = (suffix: string, prefix: string, previous?: network.Subnet) =>
      new network.Subnet(
        `${name}-${suffix}`,
        {
          resourceGroupName,
          virtualNetworkName: this.virtualNetwork.name,
          subnetName: suffix,
          addressPrefix: prefix,
          // Network policies (NSG/UDR) do not apply to private endpoints unless enabled; keep the documented default.
          ...(suffix === "private-endpoints" ? { privateEndpointNetworkPolicies: network.VirtualNetworkPrivateEndpointNetworkPolicies.Disabled } : {}),
        },
        // Azure updates a VNet's subnets one at a time.
        previous ? { parent: this, dependsOn: [previous] } : child,
      );
    this.aksSubnet = subnet("aks-nodes", args.network.subnets.aks);
    this.trainingSubnet = subnet("training", args.network.subnets.training, this.aksSubnet);
    this.endpointSubnet = subnet("private-endpoints", args.network.subnets.privateEndpoints, this.trainingSubnet);

    const zoneNames = [...new Set(Object.values(PRIVATE_LINK).flatMap((t) => t.zones))];
    this.zones = [];
    this.zoneLinks = [];
    const zoneIds = new Map<string, pulumi.Output<string>>();
    for (const zoneName of zoneNames) {
      const logical = `${name}-dns-${zoneName.replace(/^privatelink\./, "").replace(/\./g, "-")}`;
      const zone = new privatedns.PrivateZone(logical, { resourceGroupName, privateZoneName: zoneName, location: "global", tags }, child);
      this.zones.push(zone);
      zoneIds.set(zoneName, zone.id);
      this.zoneLinks.push(
        new privatedns.VirtualNetworkLink(
          `${logical}-link`,
          {
            resourceGroupName,
            privateZoneName: zone.name,
            virtualNetworkLinkName: `${args.namePrefix}-vnet`,
            location: "global",
            virtualNetwork: { id: this.virtualNetwork.id },
            registrationEnabled: false,
            tags,
          },
          child,
        ),
      );
    }

    this.endpoints = [];
    this.zoneGroups = [];
    for (const [key, target] of Object.entries(PRIVATE_LINK) as Array<[PrivateLinkKey, PrivateLinkTarget]>) {
      const endpointName = `${args.namePrefix}-pe-${key}`;
      const endpoint = new network.PrivateEndpoint(
        `${name}-pe-${key}`,
        {
          resourceGroupName,
          privateEndpointName: endpointName,
          location: args.location,
          subnet: { id: this.endpointSubnet.id },
          privateLinkServiceConnections: [{ name: endpointName, privateLinkServiceId: args.targets[key], groupIds: [target.groupId] }],
          tags,
        },
        child,
      );
      this.endpoints.push(endpoint);
      this.zoneGroups.push(
        new network.PrivateDnsZoneGroup(
          `${name}-pe-${key}-dns`,
          {
            resourceGroupName,
            privateEndpointName: endpoint.name,
            privateDnsZoneGroupName: "default",
            privateDnsZoneConfigs: target.zones.map((zone) => ({ name: zone.replace(/\./g, "-"), privateDnsZoneId: zoneIds.get(zone)! })),
          },
          child,
        ),
      );
    }

    this.registerOutputs({ virtualNetworkId: this.virtualNetwork.id });
  }
}
