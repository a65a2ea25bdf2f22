/**
 * The bearer-header provider of the plain HTTP clients (MLflow REST) reuses a token until 5 minutes before it
 * expires: with AzurePipelinesCredential every getToken costs a request to Azure DevOps' OIDC endpoint (MSAL asks
 * for the assertion even on a cache hit; see pipelineCredential.contract.test.ts).
 */
import { expect } from "chai";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { bearerHeaders } from "../../../driver/targets/azure/credential.js";

class CountingCredential implements TokenCredential {
  calls = 0;
  constructor(
    private readonly lifetimeMs: number,
    private readonly clock: () => number,
  ) {}
  async getToken(): Promise<AccessToken> {
    this.calls += 1;
    return { token: `t${this.calls}`, expiresOnTimestamp: this.clock() + this.lifetimeMs };
  }
}

describe("bearerHeaders: token reuse", () => {
  it("reuses a token until 5 minutes before it expires, then asks for a new one", async () => {
    let t = 1_000_000;
    const clock = () => t;
    const cred = new CountingCredential(60 * 60_000, clock);
    const headers = bearerHeaders(cred, "https://management.azure.com/.default", clock);
    expect(await headers()).to.deep.equal({ authorization: "Bearer t1" });
    t += 54 * 60_000;
    expect(await headers()).to.deep.equal({ authorization: "Bearer t1" });
    expect(cred.calls).to.equal(1);
    t += 60_001; // 55 min after issue: within 5 minutes of expiry
    expect(await headers()).to.deep.equal({ authorization: "Bearer t2" });
    expect(cred.calls).to.equal(2);
  });
});
