/**
 * Audit item 5 under Pulumi mocks: PROD's inference router serves TLS. The certificate and key come
 * from secret config and reach the Azure ML extension's configurationProtectedSettings as base64 PEM
 * (`scoringFe.sslCert` / `scoringFe.sslKey`, as AzureMLKubernetes.py and deployextension.json pass
 * them), and stay a Pulumi secret in the registered inputs.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { buildForTest, stackFileConfig, TEST_TLS } from "./harness.js";

const EXT = "azure-native:kubernetesconfiguration:Extension";
const isRpcSecret = (value: unknown): value is { value: unknown } =>
  value !== null && typeof value === "object" && (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;

describe("PROD serves over TLS (audit item 5)", function () {
  it("sets sslCname and allowInsecureConnections False, and passes the PEM certificate and key as protected settings", async function () {
    const built = await buildForTest("prod");
    const ext = built.one(EXT).inputs;
    expect(ext.configurationSettings).to.include({ allowInsecureConnections: "False", sslCname: "scoring.prod.mlops.example.com" });
    expect(ext.configurationSettings).not.to.have.property("scoringFe.sslSecret");
    expect(isRpcSecret(ext.configurationProtectedSettings), "configurationProtectedSettings is a secret").to.equal(true);
    expect(ext.configurationProtectedSettings.value).to.deep.equal({
      "scoringFe.sslCert": Buffer.from(TEST_TLS.certificate).toString("base64"),
      "scoringFe.sslKey": Buffer.from(TEST_TLS.privateKey).toString("base64"),
    });
  });

  it("never registers the key or certificate in plain text on any resource", async function () {
    const built = await buildForTest("prod");
    const b64Key = Buffer.from(TEST_TLS.privateKey).toString("base64");
    for (const resource of built.resources) {
      const visible = JSON.stringify(resource.inputs, (_k, v: unknown) => (isRpcSecret(v) ? "[secret]" : v));
      for (const needle of ["test-only-private-key-body", "test-only-certificate-body", b64Key]) {
        expect(visible, `${resource.type} ${resource.name}`).not.to.contain(needle);
      }
    }
  });

  it("uses an existing Kubernetes secret when tls.secretName is given (no protected settings)", async function () {
    const aks = stackFileConfig("prod")["mlops:aks"] as Record<string, any>;
    const built = await buildForTest("prod", {
      configOverrides: { "mlops:aks": { ...aks, tls: { ...aks.tls, secretName: "azureml-fe-tls" } } },
      secretConfig: {},
    });
    const ext = built.one(EXT).inputs;
    expect(ext.configurationSettings).to.include({ sslCname: "scoring.prod.mlops.example.com", "scoringFe.sslSecret": "azureml-fe-tls" });
    expect(ext).not.to.have.property("configurationProtectedSettings");
  });

  it("INT (HTTP, for test) has no TLS settings", async function () {
    const ext = (await buildForTest("int")).one(EXT).inputs;
    expect(ext.configurationSettings).to.include({ allowInsecureConnections: "True" });
    expect(ext.configurationSettings).not.to.have.property("sslCname");
    expect(ext).not.to.have.property("configurationProtectedSettings");
  });

  it("refuses to build PROD with a private key in plain (non-secret) config, before any resource", async function () {
    let error: unknown;
    try {
      await buildForTest("prod", {
        configOverrides: { "mlops:tlsCertificate": TEST_TLS.certificate, "mlops:tlsPrivateKey": TEST_TLS.privateKey },
        secretConfig: {},
      });
    } catch (e) {
      error = e;
    }
    expect(String((error as Error)?.message)).to.equal(
      "stack 'prod': mlops:tlsPrivateKey is stored in plain text: remove it and set it with 'pulumi config set --secret mlops:tlsPrivateKey < key.pem' (then rotate the key)",
    );
  });
});
