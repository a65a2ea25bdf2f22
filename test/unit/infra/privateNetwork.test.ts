import { expect } from "chai";
import { AZ as T, buildForTest, parentTypeOf, SUBSCRIPTION_ID, unwrap, type BuiltForTest } from "./harness.js";
import { packFindings } from "./policyHarness.js";
import { BUILT_IN_ROLES } from "../../../components/roles.js";

const NETWORK_TYPES = [T.vnet, T.subnet, T.pe, T.zoneGroup, T.zone, T.link];

for (const stackName of ["int", "prod"] as const) {
  describe(`stack '${stackName}': mlops:network is off by default`, function () {
    let built: BuiltForTest;
    before(async function () {
      built = await buildForTest(stackName);
    });

    it("creates no VNet, subnet, private endpoint or private DNS zone", function () {
      for (const type of NETWORK_TYPES) expect(built.ofType(type), type).to.have.length(0);
      expect(built.stack.components.network).to.equal(undefined);
    });

    it("leaves public network access, the Basic registry, AKS networking and the public router as they were", function () {
      // Unset, or Enabled where the SDK fills in the API's default (the registry).
      const access = (value: string | undefined) => (value ?? "enabled").toLowerCase();
      for (const type of [T.storage, T.acr, T.mlw]) expect(access(built.one(type).inputs.publicNetworkAccess), type).to.equal("enabled");
      expect(access(built.one(T.kv).inputs.properties.publicNetworkAccess)).to.equal("enabled");
      expect(built.one(T.acr).inputs.sku).to.deep.equal({ name: "Basic" });
      expect(built.one(T.mlw).inputs).not.to.have.property("imageBuildCompute");
      const aks = built.one(T.aks).inputs;
      expect(aks).not.to.have.property("networkProfile");
      expect(aks.agentPoolProfiles[0]).not.to.have.property("vnetSubnetID");
      expect(built.one(T.ext).inputs.configurationSettings).not.to.have.property("internalLoadBalancerProvider");
      const training = built.ofType(T.compute).find((c) => c.inputs.properties.computeType === "AmlCompute")!;
      expect(training.inputs.properties.properties).not.to.have.property("subnet");
      expect(built.one(T.storage).inputs.tags).not.to.have.property("network");
    });
  });
}

describe("stack 'prod' with mlops:network.private: true", function () {
  let built: BuiltForTest;
  const subnetIds: Record<string, string> = {};
  before(async function () {
    built = await buildForTest("prod", { configOverrides: { "mlops:network": { private: true } } });
    const network = built.stack.components.network!;
    subnetIds["aks"] = await unwrap(network.aksSubnet.id);
    subnetIds["training"] = await unwrap(network.trainingSubnet.id);
    subnetIds["endpoints"] = await unwrap(network.endpointSubnet.id);
  });

  it("creates one VNet with the default address space and three subnets under the network component", function () {
    const vnet = built.one(T.vnet);
    expect(vnet.inputs.addressSpace).to.deep.equal({ addressPrefixes: ["10.40.0.0/16"] });
    expect(parentTypeOf(vnet)).to.equal("mlops:network:PrivateNetwork");
    const subnets = Object.fromEntries(built.ofType(T.subnet).map((s) => [s.inputs.subnetName, s.inputs.addressPrefix]));
    expect(subnets).to.deep.equal({ "aks-nodes": "10.40.0.0/22", training: "10.40.4.0/24", "private-endpoints": "10.40.5.0/24" });
  });

  it("gives the workspace, blob, file, vault and registry a private endpoint in the endpoint subnet with its group id and target", async function () {
    const workspace = built.stack.components.workspace;
    const expected: Record<string, string> = {
      amlworkspace: await unwrap(workspace.workspaceId),
      blob: await unwrap(workspace.storageAccount.id),
      file: await unwrap(workspace.storageAccount.id),
      vault: await unwrap(workspace.keyVault.id),
      registry: await unwrap(workspace.containerRegistry.id),
    };
    const endpoints = built.ofType(T.pe);
    expect(endpoints).to.have.length(5);
    const seen: Record<string, string> = {};
    for (const pe of endpoints) {
      expect(pe.inputs.subnet.id).to.equal(subnetIds["endpoints"]);
      expect(pe.inputs.privateLinkServiceConnections).to.have.length(1);
      const connection = pe.inputs.privateLinkServiceConnections[0];
      expect(connection.groupIds).to.have.length(1);
      seen[connection.groupIds[0]] = connection.privateLinkServiceId;
    }
    expect(seen).to.deep.equal(expected);
  });

  it("registers each endpoint in its private DNS zone group (MS Learn zone names), every zone linked to the VNet", async function () {
    const zoneIdByName: Record<string, string> = {};
    for (const zone of built.stack.components.network!.zones) zoneIdByName[await unwrap(zone.name)] = await unwrap(zone.id);
    const zonesOf = (groupId: string) => {
      const pe = built.ofType(T.pe).find((e) => e.inputs.privateLinkServiceConnections[0].groupIds[0] === groupId)!;
      const group = built.ofType(T.zoneGroup).find((g) => g.inputs.privateEndpointName === pe.inputs.privateEndpointName)!;
      return group.inputs.privateDnsZoneConfigs.map((c: { privateDnsZoneId: string }) => c.privateDnsZoneId);
    };
    const id = (zone: string) => zoneIdByName[zone];
    expect(zonesOf("amlworkspace")).to.deep.equal([id("privatelink.api.azureml.ms"), id("privatelink.notebooks.azure.net")]);
    expect(zonesOf("blob")).to.deep.equal([id("privatelink.blob.core.windows.net")]);
    expect(zonesOf("file")).to.deep.equal([id("privatelink.file.core.windows.net")]);
    expect(zonesOf("vault")).to.deep.equal([id("privatelink.vaultcore.azure.net")]);
    expect(zonesOf("registry")).to.deep.equal([id("privatelink.azurecr.io")]);
    expect(Object.values(zoneIdByName).every((v) => typeof v === "string" && v.length > 0)).to.equal(true);
    expect(built.ofType(T.zone)).to.have.length(6);
    for (const zone of built.ofType(T.zone)) expect(zone.inputs.location).to.equal("global");
    const vnetId = await unwrap(built.stack.components.network!.virtualNetwork.id);
    const links = built.ofType(T.link);
    expect(links.map((l) => l.inputs.privateZoneName).sort()).to.deep.equal(Object.keys(zoneIdByName).sort());
    for (const link of links)
      expect(link.inputs)
        .to.include({ registrationEnabled: false })
        .and.to.deep.include({ virtualNetwork: { id: vnetId } });
  });

  it("turns public network access off on the workspace, storage, Key Vault and registry; the registry is Premium", function () {
    for (const type of [T.storage, T.acr, T.mlw]) expect(built.one(type).inputs.publicNetworkAccess, type).to.equal("Disabled");
    expect(built.one(T.kv).inputs.properties.publicNetworkAccess).to.equal("Disabled");
    expect(built.one(T.acr).inputs.sku).to.deep.equal({ name: "Premium" });
  });

  it("builds images on the training cluster, which joins the training subnet", function () {
    const training = built.ofType(T.compute).find((c) => c.inputs.properties.computeType === "AmlCompute")!;
    expect(built.one(T.mlw).inputs.imageBuildCompute).to.equal(training.inputs.computeName);
    expect(training.inputs.properties.properties.subnet).to.deep.equal({ id: subnetIds["training"] });
  });

  it("puts the AKS nodes in the AKS subnet (Azure CNI Overlay) and the router on an internal load balancer", function () {
    const aks = built.one(T.aks).inputs;
    expect(aks.agentPoolProfiles[0].vnetSubnetID).to.equal(subnetIds["aks"]);
    expect(aks.networkProfile).to.include({
      networkPlugin: "azure",
      networkPluginMode: "overlay",
      podCidr: "10.244.0.0/16",
      serviceCidr: "10.0.0.0/16",
      dnsServiceIP: "10.0.0.10",
      loadBalancerSku: "standard",
    });
    const settings = built.one(T.ext).inputs.configurationSettings;
    expect(settings).to.include({ inferenceRouterServiceType: "LoadBalancer", internalLoadBalancerProvider: "azure" });
  });

  it("gives the AKS cluster identity Network Contributor on its subnet (for the internal load balancer)", function () {
    const aksPrincipal = `${built.one(T.aks).inputs.resourceName}-principal-id`;
    const role = `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLES.NetworkContributor}`;
    const assignment = built.ofType(T.role).filter((r) => r.inputs.roleDefinitionId === role);
    expect(assignment.map((r) => ({ principalId: r.inputs.principalId, scope: r.inputs.scope }))).to.deep.equal([
      { principalId: aksPrincipal, scope: subnetIds["aks"] },
    ]);
  });

  it("tags every resource network: private and passes every policy of the pack", async function () {
    for (const type of [T.storage, T.kv, T.acr, T.mlw, T.vnet, T.pe]) {
      for (const r of built.ofType(type)) expect(r.inputs.tags, type).to.include({ network: "private", environment: "prod" });
    }
    expect(await packFindings(built.resources)).to.deep.equal([]);
  });
});
