import { expect } from "chai";
import * as p from "../../../policy/policies.js";
import { stackViolations, violations } from "./policyHarness.js";

const TAGS = { environment: "prod", project: "mlops-azure", owner: "ml-platform" };
const PRIVATE = { ...TAGS, network: "private" };

describe("policy pack: stacks tagged network=private", function () {
  describe("private-network-public-access-off", function () {
    const cases = [
      {
        type: p.TYPES.mlWorkspace,
        on: { publicNetworkAccess: "Disabled" },
        off: { publicNetworkAccess: "Enabled" },
        message: /Azure ML workspace .*publicNetworkAccess Enabled/,
      },
      { type: p.TYPES.storageAccount, on: { publicNetworkAccess: "Disabled" }, off: {}, message: /Storage account .*publicNetworkAccess unset \(Enabled\)/ },
      {
        type: p.TYPES.containerRegistry,
        on: { publicNetworkAccess: "Disabled", sku: { name: "Premium" } },
        off: { publicNetworkAccess: "Enabled", sku: { name: "Premium" } },
        message: /Container registry .*publicNetworkAccess Enabled/,
      },
      {
        type: p.TYPES.keyVault,
        on: { properties: { publicNetworkAccess: "disabled" } },
        off: { properties: { publicNetworkAccess: "enabled" } },
        message: /Key Vault .*properties\.publicNetworkAccess enabled/,
      },
    ];
    for (const c of cases) {
      it(`${c.type}: passes with public access Disabled, flags it on, one line saying what to set`, async function () {
        expect(await violations(p.privateNetworkPublicAccessOff, c.type, { ...c.on, tags: PRIVATE })).to.deep.equal([]);
        const found = await violations(p.privateNetworkPublicAccessOff, c.type, { ...c.off, tags: PRIVATE });
        expect(found).to.have.length(1);
        expect(found[0])
          .to.match(c.message)
          .and.to.match(/set it Disabled/);
      });
      it(`${c.type}: leaves a resource without the network=private tag alone`, async function () {
        expect(await violations(p.privateNetworkPublicAccessOff, c.type, { ...c.off, tags: TAGS })).to.deep.equal([]);
      });
    }

    it("flags a registry below Premium, the tier with private endpoints", async function () {
      const found = await violations(p.privateNetworkPublicAccessOff, p.TYPES.containerRegistry, {
        publicNetworkAccess: "Disabled",
        sku: { name: "Basic" },
        tags: PRIVATE,
      });
      expect(found).to.deep.equal(["Container registry tagged network=private is Basic: private endpoints need the Premium tier."]);
    });
  });

  describe("private-network-endpoints-and-internal-router", function () {
    const rg = { type: p.TYPES.resourceGroup, name: "rg", props: { tags: PRIVATE } };
    const pe = (groupId: string) => ({
      type: p.TYPES.privateEndpoint,
      name: `pe-${groupId}`,
      props: { tags: PRIVATE, privateLinkServiceConnections: [{ groupIds: [groupId] }] },
    });
    const allEndpoints = p.PRIVATE_ENDPOINT_GROUP_IDS.map(pe);
    const ext = (settings: Record<string, string>) => ({
      type: p.TYPES.k8sExtension,
      name: "azureml",
      props: {
        extensionType: "Microsoft.AzureML.Kubernetes",
        configurationSettings: { enableInference: "True", inferenceRouterServiceType: "LoadBalancer", ...settings },
      },
    });

    it("passes with all five endpoints and the router on the internal load balancer", async function () {
      expect(
        await stackViolations(p.privateNetworkEndpointsAndInternalRouter, [rg, ...allEndpoints, ext({ internalLoadBalancerProvider: "azure" })]),
      ).to.deep.equal([]);
    });

    it("names the missing private endpoints", async function () {
      const found = await stackViolations(p.privateNetworkEndpointsAndInternalRouter, [
        rg,
        pe("amlworkspace"),
        pe("blob"),
        ext({ internalLoadBalancerProvider: "azure" }),
      ]);
      expect(found).to.deep.equal([
        "Stack tagged network=private has no private endpoint for file, vault, registry: set mlops:network.private true (the program creates them).",
      ]);
    });

    it("flags the router on a public load balancer", async function () {
      const found = await stackViolations(p.privateNetworkEndpointsAndInternalRouter, [rg, ...allEndpoints, ext({})]);
      expect(found).to.have.length(1);
      expect(found[0]).to.match(/public load balancer .*set internalLoadBalancerProvider azure/);
    });

    it("leaves a stack without the network=private tag alone", async function () {
      expect(await stackViolations(p.privateNetworkEndpointsAndInternalRouter, [{ ...rg, props: { tags: TAGS } }, ext({})])).to.deep.equal([]);
    });
  });
});
