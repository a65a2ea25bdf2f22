/**
 * Contract tests of the credential the azure target builds in a GitHub Actions job, against a loopback fake of
 * GitHub's Actions OIDC provider (../github/support/fakeGitHub.ts) and of Microsoft Entra's token endpoint
 * (support/fakeEntra.ts), driven through @azure/identity's own ClientAssertionCredential and MSAL: the credential
 * must get a NEW GitHub OIDC token whenever it needs a new Entra token, because a GitHub OIDC token lives about
 * 5 minutes (GitHub docs, "OpenID Connect reference": the example token's iat -> exp) and the one azure/login
 * hands `az login --federated-token` is never renewed, while a release runs for hours.
 * Sources: @azure/identity 4.14 dist/esm/credentials/clientAssertionCredential.js (getAssertion passed to
 * msalClient.getTokenByClientAssertion on every getToken); GitHub docs "Methods for requesting the OIDC token"
 * (`curl -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=
 * api://AzureADTokenExchange"`); @actions/core src/oidc-utils.ts (answer `{"value": ...}`).
 */
import { expect } from "chai";
import { ClientAssertionCredential } from "@azure/identity";
import { ConfigError } from "../../../driver/core/errors.js";
import { defaultCredential, githubOidcLogin, probeCredential } from "../../../driver/targets/azure/credential.js";
import { FakeGitHub } from "../github/support/fakeGitHub.js";
import { FakeEntra } from "./support/fakeEntra.js";

const TENANT = "11111111-1111-1111-1111-111111111111";
const CLIENT = "22222222-2222-2222-2222-222222222222";
const REQUEST_TOKEN = "runner-id-token-request-token";
const ARM = "https://management.azure.com/.default";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("contract: the GitHub Actions credential against fake GitHub OIDC + Entra endpoints", function () {
  this.timeout(30_000);
  let entra: FakeEntra;
  let github: FakeGitHub;
  beforeEach(async () => {
    entra = await new FakeEntra(TENANT, "unused-ado-token").start();
    github = await new FakeGitHub("octo-org/mlops", "42", "job-token", REQUEST_TOKEN, () => entra.mintAssertion()).start();
  });
  afterEach(async () => {
    await github.stop();
    await entra.stop();
  });

  const jobEnv = (): NodeJS.ProcessEnv => ({
    GITHUB_ACTIONS: "true",
    ACTIONS_ID_TOKEN_REQUEST_URL: github.oidcRequestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
    ARM_CLIENT_ID: CLIENT,
    ARM_TENANT_ID: TENANT,
  });
  const loopback = () => ({ authorityHost: entra.url, disableInstanceDiscovery: true });

  it("contract test: in a job with id-token: write, a token is obtained again after the first and its assertion expired, with a fresh GitHub OIDC token each time", async () => {
    // MSAL renews a token 300 s before it expires (whole seconds): a 302 s token is usable for 1-2 s, the assertion for 1 s
    entra.tokenLifetimeSeconds = 302;
    entra.assertionLifetimeMs = 1000;
    const credential = await defaultCredential(jobEnv(), loopback());
    expect(credential.constructor.name).to.equal("ClientAssertionCredential");

    const first = await credential.getToken(ARM);
    const cached = await credential.getToken(ARM);
    expect(cached?.token).to.equal(first?.token); // still valid: served from the cache
    expect(entra.tokenRequests).to.have.length(1);
    const oidcBefore = github.oidcCalls.length;
    expect(oidcBefore).to.be.at.least(1);

    await sleep(3200); // the first token and every assertion issued so far have expired
    const second = await credential.getToken(ARM);
    expect(second?.token).to.be.a("string").and.not.equal(first?.token);
    expect(github.oidcCalls.length).to.be.above(oidcBefore);
    for (const call of github.oidcCalls) {
      // the runner's own query kept, the audience Entra's federated credential expects, the job's request token
      expect(call).to.deep.include({
        method: "GET",
        query: { "api-version": "2.0", audience: "api://AzureADTokenExchange" },
        authorization: `Bearer ${REQUEST_TOKEN}`,
      });
    }
    expect(entra.tokenRequests).to.have.length(2);
    const [r1, r2] = entra.tokenRequests;
    expect([r1!.clientId, r1!.scope.split(" ")[0], r1!.accepted]).to.deep.equal([CLIENT, ARM, true]);
    expect([r2!.clientId, r2!.scope.split(" ")[0], r2!.accepted]).to.deep.equal([CLIENT, ARM, true]);
    expect(r2!.assertion, "the second token was bought with a new GitHub OIDC token").to.not.equal(r1!.assertion);
  });

  it("contract test: what azure/login gives az (one OIDC token at login) works once and is refused once it expired", async () => {
    entra.tokenLifetimeSeconds = 302;
    entra.assertionLifetimeMs = 1000;
    const once = entra.mintAssertion(); // `az login --federated-token <the token azure/login requested>`
    const stale = new ClientAssertionCredential(TENANT, CLIENT, async () => once, loopback());
    expect((await stale.getToken(ARM))?.token).to.equal(`access-for-${once}`);
    await sleep(3200);
    const err = await stale.getToken(ARM).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.match(/AADSTS700024/);
  });

  it("contract test: a transient 503 from GitHub's OIDC endpoint is retried; a refused request token is an error that carries no token", async () => {
    github.oidcFailures = [503];
    const credential = await defaultCredential(jobEnv(), loopback());
    expect((await credential.getToken(ARM))?.token).to.match(/^access-for-assertion-/);
    expect(github.oidcFailures, "the 503 was served").to.deep.equal([]);
    expect(github.oidcCalls.length, "then asked again").to.be.at.least(2);

    const refused = await defaultCredential({ ...jobEnv(), ACTIONS_ID_TOKEN_REQUEST_TOKEN: "revoked" }, loopback());
    const err = await refused.getToken("https://storage.azure.com/.default").then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message)
      .to.contain("GitHub's OIDC endpoint refused the job's request token (HTTP 401)")
      .and.not.contain("revoked")
      .and.not.contain(REQUEST_TOKEN);
    // preflight's probe turns it into one line naming the credential and the GitHub set-up to check
    const probe = await probeCredential(refused, ARM, 5000).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(probe?.message.split("\n")).to.have.length(1);
    expect(probe?.message)
      .to.match(/^an Azure credential was found but getting a token failed \(ClientAssertionCredential: /)
      .and.contain("docs/github-actions.md");
  });

  it("outside GitHub Actions, or in a job without id-token: write, the credential is DefaultAzureCredential", async () => {
    expect((await defaultCredential({}, loopback())).constructor.name).to.equal("DefaultAzureCredential");
    const { ACTIONS_ID_TOKEN_REQUEST_URL: _u, ACTIONS_ID_TOKEN_REQUEST_TOKEN: _t, ...noIdToken } = jobEnv();
    expect(githubOidcLogin(noIdToken)).to.equal(undefined);
    expect(githubOidcLogin({ ...jobEnv(), GITHUB_ACTIONS: undefined })).to.equal(undefined);
  });

  it("a job with id-token: write but without ARM_CLIENT_ID / ARM_TENANT_ID is a one-line ConfigError naming them and the fix", () => {
    let err: unknown;
    try {
      githubOidcLogin({ ...jobEnv(), ARM_CLIENT_ID: "", ARM_TENANT_ID: " " });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg.split("\n")).to.have.length(1);
    expect(msg).to.equal(
      "GitHub Actions OIDC login: ARM_CLIENT_ID, ARM_TENANT_ID not set; map them in the job's env: 'ARM_CLIENT_ID: ${{ vars.AZURE_CLIENT_ID }}', 'ARM_TENANT_ID: ${{ vars.AZURE_TENANT_ID }}' (docs/github-actions.md, \"Azure login\")",
    );
    expect(msg).to.not.contain(REQUEST_TOKEN);
  });
});
