/**
 * Who the azure target's credential is, read from its ARM access token's claims (Microsoft identity platform,
 * "Access token claims reference": oid, tid, upn / preferred_username / unique_name, appid / azp), and a release
 * approved on the azure target over the loopback fakes records that identity (contract test).
 */
import { expect } from "chai";
import { UnsecuredJWT } from "jose";
import { approveRelease } from "../../../driver/cli/approveRelease.js";
import { ApprovalError } from "../../../driver/core/errors.js";
import { entraIdentity, identityFromAccessToken } from "../../../driver/targets/azure/entraIdentity.js";
import { azureMachine } from "./support/cliAndTarget.js";
import { FakeCredential, SIGNED_IN } from "./support/fakeCredential.js";
import { FakeStackUpdater, fakeAzureEachTest, RELEASE_KEYS } from "./support/harness.js";

const jwt = (claims: Record<string, unknown>) => new UnsecuredJWT(claims).encode();

describe("azure approver identity from the credential's token claims", () => {
  it("a user's v1 token: the UPN and the object id, with the tenant", () => {
    expect(
      identityFromAccessToken(jwt({ aud: "https://management.azure.com", oid: "o-1", tid: "t-1", upn: "alice@contoso.com", unique_name: "x" })),
    ).to.deep.equal({
      authenticated: true,
      source: "entra-id",
      names: ["alice@contoso.com", "o-1"],
      objectId: "o-1",
      tenantId: "t-1",
    });
  });

  it("a v2 token names the user by preferred_username", () => {
    expect(identityFromAccessToken(jwt({ oid: "o-2", preferred_username: "bob@contoso.com" }))).to.deep.include({ names: ["bob@contoso.com", "o-2"] });
  });

  it("a service principal or managed identity (no UPN): the object id, then the application id (appid or azp)", () => {
    expect(identityFromAccessToken(jwt({ oid: "sp-oid", appid: "app-1", tid: "t" }))).to.deep.include({ names: ["sp-oid", "app-1"] });
    expect(identityFromAccessToken(jwt({ oid: "sp-oid", azp: "app-2" }))).to.deep.include({ names: ["sp-oid", "app-2"] });
  });

  it("a token without an object id, or that is not a JWT, is one ApprovalError line saying what to do", () => {
    expect(() => identityFromAccessToken(jwt({ upn: "alice@contoso.com" }))).to.throw(
      ApprovalError,
      /has no object id \(oid claim\); sign in as a user or service principal/,
    );
    expect(() => identityFromAccessToken("opaque-token")).to.throw(ApprovalError, /is not a JWT, so who is signed in cannot be told; sign in with 'az login'/);
  });

  it("asks the credential for the ARM scope it is given", async () => {
    const cred = new FakeCredential();
    const id = await entraIdentity(cred, "https://management.azure.com/.default");
    expect(cred.scopes).to.deep.equal(["https://management.azure.com/.default"]);
    expect(id).to.include({ authenticated: true, objectId: SIGNED_IN.oid });
  });

  describe("a release approved on the azure target (contract test against the loopback Azure fakes)", function () {
    this.timeout(30_000);
    const az = fakeAzureEachTest({ endpointKeys: RELEASE_KEYS, prodApprovers: ["alice@contoso.com", "carol@contoso.com"] });

    it("contract test: with no --as the signed-in user is recorded, with the token's object id; --as someone else is refused and nothing is recorded", async () => {
      const updater = new FakeStackUpdater(az.repo.root, az.fake);
      const { m, t } = await azureMachine(az.repo.root, az.fake, updater);
      const r = await m.start();
      expect(r.state).to.equal("awaiting-approval");
      const refused = await approveRelease(m, t, r.id, { as: "carol@contoso.com" }).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(ApprovalError);
      expect((refused as Error).message).to.equal(
        `--as 'carol@contoso.com' is not who is signed in (alice@contoso.com (Entra ID token, object id ${SIGNED_IN.oid})); approve as yourself, or sign in as 'carol@contoso.com' and run it again`,
      );
      expect((await t.store.load(r.id)).approval).to.equal(undefined);
      const approved = await approveRelease(m, t, r.id, {});
      expect(approved.approval!.by).to.equal("alice@contoso.com");
      expect(approved.approval!.identity).to.deep.equal({
        authenticated: true,
        source: "entra-id",
        names: ["alice@contoso.com", SIGNED_IN.oid],
        objectId: SIGNED_IN.oid,
        tenantId: SIGNED_IN.tid,
      });
    });
  });
});
