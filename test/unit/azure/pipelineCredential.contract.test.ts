/**
 * Contract tests of the CI credential against a loopback fake of Azure DevOps' OIDC endpoint and Microsoft Entra's
 * token endpoint (support/fakeEntra.ts), driven through @azure/identity's own code: the credential the azure target
 * builds in an AzureCLI@2 task must get a NEW federated assertion from Azure DevOps whenever it needs a new token,
 * because the assertion lives ~10 minutes and cannot be refreshed (Azure/azure-cli#28708), while a release runs
 * for hours. Sources: @azure/identity 4.14 AzurePipelinesCredential (dist/esm/credentials/azurePipelinesCredential.js);
 * the variables AzureCLI@2 exports: microsoft/azure-pipelines-tasks Tasks/AzureCLIV2/azureclitask.ts (loginAzureRM).
 */
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { WorkloadIdentityCredential } from "@azure/identity";
import { ConfigError } from "../../../driver/core/errors.js";
import { defaultCredential, pipelineServiceConnection } from "../../../driver/targets/azure/credential.js";
import { FakeEntra } from "./support/fakeEntra.js";
import { tempDir } from "../../support/tempDirs.js";

const TENANT = "11111111-1111-1111-1111-111111111111";
const CLIENT = "22222222-2222-2222-2222-222222222222";
const CONNECTION = "33333333-3333-3333-3333-333333333333";
const SYSTEM_TOKEN = "job-access-token";
const ARM = "https://management.azure.com/.default";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("contract: the CI credential against fake Azure DevOps OIDC + Entra endpoints", function () {
  this.timeout(20_000);
  let entra: FakeEntra;
  beforeEach(async () => {
    entra = await new FakeEntra(TENANT, SYSTEM_TOKEN).start();
  });
  afterEach(() => entra.stop());

  const taskEnv = (): NodeJS.ProcessEnv => ({
    AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: CONNECTION,
    AZURESUBSCRIPTION_CLIENT_ID: CLIENT,
    AZURESUBSCRIPTION_TENANT_ID: TENANT,
    SYSTEM_ACCESSTOKEN: SYSTEM_TOKEN,
    SYSTEM_OIDCREQUESTURI: entra.oidcRequestUri,
  });
  const loopback = () => ({ authorityHost: entra.url, disableInstanceDiscovery: true });

  it("in an AzureCLI@2 task, a token is obtained again after the first expires, with a fresh assertion requested from Azure DevOps (not read from a file)", async () => {
    // MSAL renews a token 300 s before it expires (whole seconds): a 302 s token is usable for 1-2 s, the assertion for 1 s
    entra.tokenLifetimeSeconds = 302;
    entra.assertionLifetimeMs = 1000;
    const credential = await defaultCredential(taskEnv(), loopback());
    expect(credential.constructor.name).to.equal("AzurePipelinesCredential");

    const first = await credential.getToken(ARM);
    const cached = await credential.getToken(ARM);
    expect(cached?.token).to.equal(first?.token); // still valid: served from the cache
    expect(entra.tokenRequests).to.have.length(1);
    const oidcBefore = entra.oidcCalls.length;

    await sleep(3200); // the first token and every assertion issued so far have expired
    const second = await credential.getToken(ARM);
    expect(second?.token).to.be.a("string").and.not.equal(first?.token);
    expect(entra.oidcCalls.length).to.be.above(oidcBefore);
    for (const call of entra.oidcCalls) {
      expect(call).to.deep.equal({ serviceConnectionId: CONNECTION, apiVersion: "7.1", authorization: `Bearer ${SYSTEM_TOKEN}`, redirectHeader: "Suppress" });
    }
    expect(entra.tokenRequests).to.have.length(2);
    const [r1, r2] = entra.tokenRequests;
    expect([r1!.clientId, r1!.scope.split(" ")[0], r1!.accepted]).to.deep.equal([CLIENT, ARM, true]);
    expect([r2!.clientId, r2!.scope.split(" ")[0], r2!.accepted]).to.deep.equal([CLIENT, ARM, true]);
    expect(r2!.assertion, "the second token was bought with a new assertion").to.not.equal(r1!.assertion);
  });

  it("what the pipeline did before (the task's $idToken written to AZURE_FEDERATED_TOKEN_FILE) works once and is refused once that assertion expired", async () => {
    entra.tokenLifetimeSeconds = 302;
    entra.assertionLifetimeMs = 1000;
    const file = path.join(tempDir("mlops-wif-"), "federated-token");
    writeFileSync(file, entra.mintAssertion());
    const old = new WorkloadIdentityCredential({ tenantId: TENANT, clientId: CLIENT, tokenFilePath: file, ...loopback() });
    expect((await old.getToken(ARM))?.token).to.equal("access-for-assertion-1");
    await sleep(3200);
    const err = await old.getToken(ARM).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.match(/AADSTS700024/);
    expect(entra.oidcCalls).to.have.length(0);
  });

  it("outside Azure Pipelines the credential is DefaultAzureCredential", async () => {
    const credential = await defaultCredential({}, loopback());
    expect(credential.constructor.name).to.equal("DefaultAzureCredential");
    expect(pipelineServiceConnection({ AZURE_CLIENT_ID: CLIENT })).to.equal(undefined);
  });

  it("a task that exports the service connection but not SYSTEM_ACCESSTOKEN is a one-line ConfigError naming the variable and the fix", () => {
    const env = { ...taskEnv(), SYSTEM_ACCESSTOKEN: "" };
    let err: unknown;
    try {
      pipelineServiceConnection(env);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg.split("\n")).to.have.length(1);
    expect(msg).to.contain("SYSTEM_ACCESSTOKEN not set").and.contain("$(System.AccessToken)").and.not.contain(SYSTEM_TOKEN);
  });
});
