import { expect } from "chai";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import * as p from "../../../policy/policies.js";
import { stackViolations, violations } from "./policyHarness.js";

const TAGS = { environment: "int", project: "mlops-azure", owner: "ml-platform" };

const goodStorage = { enableHttpsTrafficOnly: true, minimumTlsVersion: "TLS1_2", allowBlobPublicAccess: false, tags: TAGS };
const goodVault = (environment: string, purge?: boolean) => ({
  tags: { ...TAGS, environment },
  properties: { enableRbacAuthorization: true, enableSoftDelete: true, ...(purge !== undefined ? { enablePurgeProtection: purge } : {}) },
});

const cases: Array<{ policy: ResourceValidationPolicy; type: string; pass: Record<string, unknown>; fail: Record<string, unknown>; message: RegExp }> = [
  {
    policy: p.storageSecureTransport,
    type: p.TYPES.storageAccount,
    pass: goodStorage,
    fail: { ...goodStorage, enableHttpsTrafficOnly: false },
    message: /enableHttpsTrafficOnly/,
  },
  {
    policy: p.storageMinimumTls,
    type: p.TYPES.storageAccount,
    pass: goodStorage,
    fail: { ...goodStorage, minimumTlsVersion: "TLS1_0" },
    message: /TLS1_2 or newer, not TLS1_0/,
  },
  {
    policy: p.storageNoPublicBlobAccess,
    type: p.TYPES.storageAccount,
    pass: goodStorage,
    fail: { ...goodStorage, allowBlobPublicAccess: true },
    message: /allowBlobPublicAccess: false/,
  },
  {
    policy: p.storageNoPublicBlobAccess,
    type: p.TYPES.blobContainer,
    pass: { publicAccess: "None" },
    fail: { publicAccess: "Blob" },
    message: /publicAccess must be None/,
  },
  {
    policy: p.keyVaultRbacAuthorization,
    type: p.TYPES.keyVault,
    pass: goodVault("int"),
    fail: { ...goodVault("int"), properties: { enableRbacAuthorization: false } },
    message: /enableRbacAuthorization/,
  },
  {
    policy: p.keyVaultPurgeProtectionInProd,
    type: p.TYPES.keyVault,
    pass: goodVault("prod", true),
    fail: goodVault("prod"),
    message: /environment=prod must set properties\.enablePurgeProtection/,
  },
  {
    policy: p.acrAdminUserDisabled,
    type: p.TYPES.containerRegistry,
    pass: { adminUserEnabled: false, tags: TAGS },
    fail: { adminUserEnabled: true, tags: TAGS },
    message: /adminUserEnabled: false/,
  },
  {
    policy: p.aksManagedIdentity,
    type: p.TYPES.managedCluster,
    pass: { identity: { type: "SystemAssigned" }, tags: TAGS },
    fail: { servicePrincipalProfile: { clientId: "app-id", secret: "s" }, tags: TAGS },
    message: /identity\.type must be SystemAssigned or UserAssigned/,
  },
  {
    policy: p.mlComputeKubernetesNotAks,
    type: p.TYPES.mlCompute,
    pass: { properties: { computeType: "Kubernetes" }, tags: TAGS },
    fail: { properties: { computeType: "AKS" }, tags: TAGS },
    message: /Kubernetes, not the legacy AKS/,
  },
  {
    policy: p.kubernetesEndpointAuth,
    type: p.TYPES.onlineEndpoint,
    pass: { properties: { authMode: "Key", compute: "/subscriptions/s/.../computes/aks-inference" }, tags: TAGS },
    fail: { properties: { authMode: "AADToken", compute: "/subscriptions/s/.../computes/aks-inference" }, tags: TAGS },
    message: /^Online endpoint on Kubernetes compute must use authMode Key or AMLToken, not AADToken: set mlops:serving\.authMode to Key or AMLToken\.$/,
  },
  {
    policy: p.requiredTags,
    type: p.TYPES.mlWorkspace,
    pass: { tags: TAGS },
    fail: { tags: { environment: "int" } },
    message: /missing required tag\(s\): project, owner/,
  },
];

describe("policy pack: each policy passes a compliant resource and flags a non-compliant one", function () {
  for (const { policy, type, pass, fail, message } of cases) {
    it(`${policy.name}: accepts a compliant ${type.split(":").pop()}`, async function () {
      expect(await violations(policy, type, pass)).to.deep.equal([]);
    });
    it(`${policy.name}: reports a non-compliant ${type.split(":").pop()}`, async function () {
      const found = await violations(policy, type, fail);
      expect(found).to.have.length.greaterThan(0);
      expect(found.join("\n")).to.match(message);
    });
  }

  it("keyvault-purge-protection-in-prod: leaves non-prod vaults without purge protection alone", async function () {
    expect(await violations(p.keyVaultPurgeProtectionInProd, p.TYPES.keyVault, goodVault("int"))).to.deep.equal([]);
  });

  it("aks-managed-identity: also rejects a service principal profile next to a managed identity", async function () {
    const found = await violations(p.aksManagedIdentity, p.TYPES.managedCluster, {
      identity: { type: "SystemAssigned" },
      servicePrincipalProfile: { clientId: "app-id" },
    });
    expect(found).to.deep.equal(["AKS cluster must not set servicePrincipalProfile (use the managed identity)."]);
  });

  it("ml-kubernetes-endpoint-auth: leaves a managed endpoint (no compute) with AADToken alone", async function () {
    expect(await violations(p.kubernetesEndpointAuth, p.TYPES.onlineEndpoint, { properties: { authMode: "AADToken" }, tags: TAGS })).to.deep.equal([]);
  });

  describe("prod-inference-over-tls (a stack policy over every resource)", function () {
    const prodRg = { type: p.TYPES.resourceGroup, name: "rg", props: { tags: { ...TAGS, environment: "prod" } } };
    const ext = (settings: Record<string, string>, extra: Record<string, unknown> = {}) => ({
      type: p.TYPES.k8sExtension,
      name: "mlops-prod-inference-azureml-ext",
      props: { extensionType: "Microsoft.AzureML.Kubernetes", configurationSettings: { enableInference: "True", ...settings }, ...extra },
    });

    it("reports plain HTTP in a stack tagged environment=prod in one line naming the fix", async function () {
      expect(await stackViolations(p.prodInferenceOverTls, [prodRg, ext({ allowInsecureConnections: "True" })])).to.deep.equal([
        "Stack tagged environment=prod serves inference over plain HTTP (Azure ML extension mlops-prod-inference-azureml-ext: allowInsecureConnections True): set mlops:aks.allowInsecureConnections false with mlops:aks.tls (cname + certificate).",
      ]);
    });

    it("reports protected settings without both scoringFe.sslCert and scoringFe.sslKey (an empty map is no certificate)", async function () {
      for (const protectedSettings of [{}, { "scoringFe.sslCert": "Y2VydA==" }, { "scoringFe.sslCert": "", "scoringFe.sslKey": "" }]) {
        const found = await stackViolations(p.prodInferenceOverTls, [
          prodRg,
          ext({ allowInsecureConnections: "False", sslCname: "scoring.example.com" }, { configurationProtectedSettings: protectedSettings }),
        ]);
        expect(found, JSON.stringify(protectedSettings)).to.have.length(1);
        expect(found[0]).to.match(/no TLS certificate on the Azure ML extension/);
      }
      const both = { "scoringFe.sslCert": "Y2VydA==", "scoringFe.sslKey": "a2V5" };
      expect(
        await stackViolations(p.prodInferenceOverTls, [
          prodRg,
          ext({ allowInsecureConnections: "False", sslCname: "scoring.example.com" }, { configurationProtectedSettings: both }),
        ]),
      ).to.deep.equal([]);
    });

    it("reports TLS without sslCname or certificate", async function () {
      const found = await stackViolations(p.prodInferenceOverTls, [prodRg, ext({ allowInsecureConnections: "False" })]);
      expect(found).to.have.length(1);
      expect(found[0]).to.match(/no TLS certificate on the Azure ML extension/);
    });

    it("accepts TLS from a Kubernetes secret or from protected settings", async function () {
      const cname = { allowInsecureConnections: "False", sslCname: "scoring.example.com" };
      expect(await stackViolations(p.prodInferenceOverTls, [prodRg, ext({ ...cname, "scoringFe.sslSecret": "tls" })])).to.deep.equal([]);
      expect(
        await stackViolations(p.prodInferenceOverTls, [
          prodRg,
          ext(cname, { configurationProtectedSettings: { "scoringFe.sslCert": "x", "scoringFe.sslKey": "y" } }),
        ]),
      ).to.deep.equal([]);
    });

    it("leaves a stack not tagged prod alone (HTTP is allowed for development or test)", async function () {
      const intRg = { ...prodRg, props: { tags: TAGS } };
      expect(await stackViolations(p.prodInferenceOverTls, [intRg, ext({ allowInsecureConnections: "True" })])).to.deep.equal([]);
    });
  });

  it("required-tags: ignores resources that cannot be tagged", async function () {
    expect(await violations(p.requiredTags, "azure-native:authorization:RoleAssignment", {})).to.deep.equal([]);
  });

  it("policies ignore resource types they are not about", async function () {
    for (const policy of p.policies.filter((x) => x !== p.requiredTags)) {
      if (!("validateStack" in policy)) expect(await violations(policy, "azure-native:resources:ResourceGroup", { tags: TAGS }), policy.name).to.deep.equal([]);
      else
        expect(
          await stackViolations(policy, [{ type: "azure-native:resources:ResourceGroup", name: "rg", props: { tags: { ...TAGS, environment: "prod" } } }]),
          policy.name,
        ).to.deep.equal([]);
    }
  });

  it("exports every policy in the pack list with a unique name and mandatory enforcement", function () {
    const names = p.policies.map((x) => x.name);
    expect(new Set(names).size).to.equal(names.length);
    expect(names).to.have.length(13);
    for (const policy of p.policies) expect(policy.enforcementLevel).to.equal("mandatory");
  });
});
