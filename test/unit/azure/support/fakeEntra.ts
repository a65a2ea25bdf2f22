/**
 * A loopback HTTPS fake of the two services a federated login in Azure Pipelines talks to, as @azure/identity
 * calls them:
 * - Azure DevOps' OIDC endpoint (System.OidcRequestUri): POST `<uri>?api-version=7.1&serviceConnectionId=<id>`
 *   with `Authorization: Bearer <System.AccessToken>`, answering `{"oidcToken": "<assertion>"}`
 *   (@azure/identity dist/esm/credentials/azurePipelinesCredential.js, requestOidcToken/handleOidcResponse);
 * - Microsoft Entra ID: the tenant's OpenID metadata and its v2.0 token endpoint (client credentials grant with
 *   `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, MS Learn "Microsoft identity
 *   platform and the OAuth 2.0 client credentials flow", third case: certificate/federated assertion).
 * Each assertion lives `assertionLifetimeMs` (Azure DevOps' lives ~10 minutes: Azure/azure-cli#28708); the token
 * endpoint refuses an expired or unknown assertion with AADSTS700024, as Entra does.
 */
import https from "node:https";
import type { AddressInfo } from "node:net";
import { loopbackCert } from "./loopbackTls.js";

export interface OidcCall {
  serviceConnectionId: string | null;
  apiVersion: string | null;
  authorization: string | undefined;
  redirectHeader: string | undefined;
}

export class FakeEntra {
  url = "";
  readonly oidcCalls: OidcCall[] = [];
  readonly tokenRequests: { assertion: string; scope: string; clientId: string; accepted: boolean }[] = [];
  assertionLifetimeMs = 1000;
  tokenLifetimeSeconds = 3600;
  private readonly issued = new Map<string, number>();
  private server?: https.Server;

  constructor(
    readonly tenantId: string,
    readonly systemAccessToken: string,
  ) {}

  get oidcRequestUri(): string {
    return `${this.url}/org/project-id/_apis/distributedtask/hubs/build/plans/plan-id/jobs/job-id/oidctoken`;
  }

  /** Mints an assertion directly (what AzureCLI@2 hands a script as $idToken). */
  mintAssertion(): string {
    const a = `assertion-${this.issued.size + 1}`;
    this.issued.set(a, Date.now());
    return a;
  }

  async start(): Promise<this> {
    const { key, cert } = loopbackCert();
    this.server = https.createServer({ key, cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, Buffer.concat(chunks).toString("utf8"), res));
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  private json(res: import("node:http").ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private handle(req: import("node:http").IncomingMessage, body: string, res: import("node:http").ServerResponse): void {
    const u = new URL(req.url ?? "/", this.url);
    const t = this.tenantId;
    if (req.method === "POST" && u.pathname.endsWith("/oidctoken")) {
      this.oidcCalls.push({
        serviceConnectionId: u.searchParams.get("serviceConnectionId"),
        apiVersion: u.searchParams.get("api-version"),
        authorization: req.headers.authorization,
        redirectHeader: req.headers["x-tfs-fedauthredirect"] as string | undefined,
      });
      if (req.headers.authorization !== `Bearer ${this.systemAccessToken}`) return this.json(res, 401, { message: "TF400813: not authorized" });
      return this.json(res, 200, { oidcToken: this.mintAssertion() });
    }
    if (req.method === "GET" && u.pathname === `/${t}/v2.0/.well-known/openid-configuration`) {
      return this.json(res, 200, {
        issuer: `${this.url}/${t}/v2.0`,
        authorization_endpoint: `${this.url}/${t}/oauth2/v2.0/authorize`,
        token_endpoint: `${this.url}/${t}/oauth2/v2.0/token`,
        end_session_endpoint: `${this.url}/${t}/oauth2/v2.0/logout`,
        jwks_uri: `${this.url}/${t}/discovery/v2.0/keys`,
        response_types_supported: ["code", "id_token", "token"],
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      });
    }
    if (req.method === "POST" && u.pathname === `/${t}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(body);
      const assertion = form.get("client_assertion") ?? "";
      const at = this.issued.get(assertion);
      const accepted =
        form.get("grant_type") === "client_credentials" &&
        form.get("client_assertion_type") === "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" &&
        at !== undefined &&
        Date.now() - at <= this.assertionLifetimeMs;
      this.tokenRequests.push({ assertion, scope: form.get("scope") ?? "", clientId: form.get("client_id") ?? "", accepted });
      if (!accepted) {
        return this.json(res, 400, {
          error: "invalid_client",
          error_description: "AADSTS700024: Client assertion is not within its valid time range.",
          error_codes: [700024],
        });
      }
      return this.json(res, 200, {
        token_type: "Bearer",
        expires_in: this.tokenLifetimeSeconds,
        ext_expires_in: this.tokenLifetimeSeconds,
        access_token: `access-for-${assertion}`,
      });
    }
    this.json(res, 404, { error: `fake Entra: no route for ${req.method} ${u.pathname}` });
  }
}
