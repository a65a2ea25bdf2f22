/**
 * The parts of ARM (and one Blob container) `mlops doctor --target azure` reads, as routes on the loopback
 * FakeAzure: Subscriptions - Get (2022-12-01), Providers - Get (2021-04-01), Resource SKUs (2021-07-01), Compute
 * Usage - List (2024-07-01), Azure ML usages and VM sizes (2022-10-01), Role Assignments - List For Scope with
 * assignedTo() (2022-04-01), cluster Extensions - List (2023-05-01), and the workspace's compute, online endpoint
 * and deployments (2022-10-01), each answering only its documented api-version, with bodies shaped like the REST
 * spec examples. Tests change the public state to make each check fail. Tokens are unsigned JWTs naming their
 * audience (DoctorCredential), so the routes can check each call asked for the right one.
 */
import type { ServerResponse } from "node:http";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { fileURLToPath } from "node:url";
import { readStackConfigFile } from "../../../../config/stackConfig.js";
import { REQUIRED_PROVIDERS } from "../../../../driver/doctor/azure/providerCheck.js";
import type { FakeAzure, RecordedRequest } from "./fakeAzure.js";

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export const SUB = "00000000-1111-2222-3333-444444444444";
export const TENANT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
export const OID = "99999999-8888-7777-6666-555555555555";
export const LOCATION = "westeurope";
export const STATE_ACCOUNT = "stateacct";
export const STATE_CONTAINER = "pulumi-state";
export const ROLE = {
  Owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  Contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  Rbac: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
  DataScientist: "f6c7c914-8db3-469d-8ca1-694a8f32e121",
  BlobContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  Reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
};

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
export function jwt(claims: Record<string, unknown>): string {
  return `${b64url({ typ: "JWT", alg: "none" })}.${b64url(claims)}.sig`;
}
function claimsOf(auth: string | undefined): Record<string, unknown> | undefined {
  const m = /^Bearer ([^.]+)\.([^.]+)\./.exec(auth ?? "");
  if (!m) return undefined;
  try {
    return JSON.parse(Buffer.from(m[2]!, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A credential handing out JWT-shaped tokens with the claims a real Entra ID access token carries. */
export class DoctorCredential implements TokenCredential {
  readonly scopes: string[] = [];
  constructor(public claims: Record<string, unknown> = { tid: TENANT, oid: OID, upn: "alice@contoso.example", idtyp: "user" }) {}
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes[0]! : scopes;
    this.scopes.push(scope);
    const exp = Math.floor(Date.now() / 1000) + 3600;
    return { token: jwt({ ...this.claims, aud: scope.replace(/\/\.default$/, ""), exp }), expiresOnTimestamp: exp * 1000 };
  }
}

export interface UsageLine {
  name: { value: string; localizedValue: string };
  currentValue: number;
  limit: number;
  unit?: string;
}
const usage = (value: string, currentValue: number, limit: number): UsageLine => ({
  name: { value, localizedValue: value },
  currentValue,
  limit,
  unit: "Count",
});

export const wsIdOf = (stack: string): string =>
  `/subscriptions/${SUB}/resourceGroups/rg-mlops-${stack}/providers/Microsoft.MachineLearningServices/workspaces/mlw-mlops-${stack}`;
export const clusterIdOf = (stack: string): string =>
  `/subscriptions/${SUB}/resourceGroups/rg-mlops-${stack}/providers/Microsoft.ContainerService/managedClusters/aks-mlops-${stack}`;

export class FakeArmDoctor {
  subscriptions = new Map<string, { displayName: string; state: string; tenantId: string }>([
    [SUB, { displayName: "MLOps trial", state: "Enabled", tenantId: TENANT }],
  ]);
  providers = new Map<string, string>(
    // a subscription where every provider the stacks need is registered; tests unregister one
    REQUIRED_PROVIDERS.map((n) => [n.toLowerCase(), "Registered"]),
  );
  skus: Record<string, unknown>[] = [
    {
      resourceType: "virtualMachines",
      name: "Standard_D4s_v3",
      family: "standardDSv3Family",
      locations: [LOCATION],
      capabilities: [{ name: "vCPUs", value: "4" }],
      restrictions: [],
    },
    {
      resourceType: "virtualMachines",
      name: "Standard_D2s_v3",
      family: "standardDSv3Family",
      locations: [LOCATION],
      capabilities: [{ name: "vCPUs", value: "2" }],
      restrictions: [],
    },
    { resourceType: "disks", name: "Premium_LRS", locations: [LOCATION] },
  ];
  computeUsages: UsageLine[] = [usage("cores", 0, 100), usage("standardDSv3Family", 0, 100), usage("standardDv2Family", 0, 100)];
  mlVmSizes: Record<string, unknown>[] = [{ name: "Standard_D3_v2", family: "standardDv2Family", vCPUs: 4, memoryGB: 14 }];
  mlUsages: UsageLine[] = [
    usage("Total Cluster Dedicated Regional vCPUs", 0, 100),
    usage("Standard Dv2 Family Cluster Dedicated vCPUs", 0, 100),
    usage("Total Cluster LowPriority Regional vCPUs", 0, 100),
  ];
  roleAssignments: { scope: string; role: string }[] = [
    { scope: `/subscriptions/${SUB}`, role: ROLE.Owner },
    { scope: `/subscriptions/${SUB}`, role: ROLE.BlobContributor },
  ];
  /** role definition ids that are custom roles */
  customRoles = new Set<string>();
  extensions = new Map<string, Record<string, unknown>[]>();
  computes = new Map<string, Record<string, unknown>>();
  endpoints = new Map<string, Record<string, unknown>>();
  deployments = new Map<string, Record<string, unknown>[]>();
  /** state container: absent = 404; "deny" = 403 for Azure AD callers */
  stateContainer: "present" | "absent" | "deny" = "present";
  /** what the state container saw: "bearer", "sharedkey", "sas" */
  readonly stateAuth: string[] = [];

  constructor(private readonly fake: FakeAzure) {
    fake.routes.push((rec, res) => this.route(rec, res));
  }

  /** A deployed stack (after `up`): workspace, a healthy extension, compute, endpoint and one deployment. */
  deploy(stack: string, scoringUri: string): Record<string, unknown> {
    const ws = wsIdOf(stack);
    this.extensions.set(clusterIdOf(stack).toLowerCase(), [
      {
        id: `${clusterIdOf(stack)}/providers/Microsoft.KubernetesConfiguration/extensions/azureml`,
        name: "azureml",
        type: "Microsoft.KubernetesConfiguration/extensions",
        properties: { extensionType: "Microsoft.AzureML.Kubernetes", provisioningState: "Succeeded", currentVersion: "1.1.64", statuses: [] },
      },
    ]);
    this.computes.set(`${ws}/computes/aks-inference`.toLowerCase(), {
      id: `${ws}/computes/aks-inference`,
      name: "aks-inference",
      type: "Microsoft.MachineLearningServices/workspaces/computes",
      location: LOCATION,
      properties: {
        computeType: "Kubernetes",
        provisioningState: "Succeeded",
        isAttachedCompute: true,
        resourceId: clusterIdOf(stack),
        properties: { namespace: "default" }, // what the program attaches (as `az ml compute attach`): no instance types of its own
      },
    });
    // the training cluster as the stack file declares it (the program's TrainingCluster: AmlCompute)
    const training = readStackConfigFile(REPO_ROOT, stack).training;
    this.computes.set(`${ws}/computes/cpu-cluster`.toLowerCase(), {
      id: `${ws}/computes/cpu-cluster`,
      name: "cpu-cluster",
      type: "Microsoft.MachineLearningServices/workspaces/computes",
      location: LOCATION,
      properties: {
        computeType: "AmlCompute",
        provisioningState: "Succeeded",
        properties: {
          vmSize: training.vmSize,
          vmPriority: training.vmPriority,
          scaleSettings: { minNodeCount: training.minNodes, maxNodeCount: training.maxNodes, nodeIdleTimeBeforeScaleDown: training.idleScaleDown },
        },
      },
    });
    const endpoint = `ep-mlops-${stack}-1234abcd`;
    this.endpoints.set(`${ws}/onlineEndpoints/${endpoint}`.toLowerCase(), {
      id: `${ws}/onlineEndpoints/${endpoint}`,
      name: endpoint,
      location: LOCATION,
      properties: { authMode: "Key", provisioningState: "Succeeded", compute: `${ws}/computes/aks-inference`, scoringUri },
    });
    this.deployments.set(`${ws}/onlineEndpoints/${endpoint}`.toLowerCase(), [
      {
        id: `${ws}/onlineEndpoints/${endpoint}/deployments/blue`,
        name: "blue",
        location: LOCATION,
        properties: {
          endpointComputeType: "Kubernetes",
          provisioningState: "Succeeded",
          containerResourceRequirements: { containerResourceRequests: { cpu: "500m", memory: "1Gi" }, containerResourceLimits: { cpu: "1", memory: "1536Mi" } },
        },
      },
    ]);
    return {
      workspaceId: ws,
      resourceGroupName: `rg-mlops-${stack}`,
      workspaceName: `mlw-mlops-${stack}`,
      aksClusterName: `aks-mlops-${stack}`,
      inferenceComputeName: "aks-inference",
      trainingComputeName: "cpu-cluster",
      endpointName: endpoint,
      scoringUri,
    };
  }

  endpointOf(stack: string): Record<string, unknown> {
    return [...this.endpoints.entries()].find(([k]) => k.startsWith(wsIdOf(stack).toLowerCase()))![1];
  }

  private route(rec: RecordedRequest, res: ServerResponse): boolean {
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}): true => {
      res.writeHead(status, { "content-type": "application/json", "x-ms-request-id": "req-1", ...headers }).end(body === undefined ? "" : JSON.stringify(body));
      return true;
    };
    const armError = (status: number, code: string, message: string): true => send(status, { error: { code, message } });
    const p = rec.path;
    if (p.startsWith(`/${STATE_ACCOUNT}/`)) return this.stateRoute(rec, res);
    if (!p.startsWith("/subscriptions/") || rec.method !== "GET") return false;
    const api = rec.query["api-version"];
    const want = (v: string): boolean => api === v;
    const ml = p.includes("/Microsoft.MachineLearningServices/");
    const routes: [RegExp, string, () => true][] = [
      [
        /^\/subscriptions\/([^/]+)$/,
        "2022-12-01",
        () => {
          const id = /^\/subscriptions\/([^/]+)$/.exec(p)![1]!;
          const s = this.subscriptions.get(id);
          return s
            ? send(200, { id: `/subscriptions/${id}`, subscriptionId: id, ...s })
            : armError(404, "SubscriptionNotFound", `The subscription '${id}' could not be found.`);
        },
      ],
      [
        /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Compute\/skus$/,
        "2021-07-01",
        () => {
          const loc = /location eq '([^']+)'/.exec(rec.query.$filter ?? "")?.[1];
          return send(200, { value: this.skus.filter((s) => !loc || ((s.locations as string[]) ?? []).includes(loc)) });
        },
      ],
      [/^\/subscriptions\/[^/]+\/providers\/Microsoft\.Compute\/locations\/[^/]+\/usages$/, "2024-07-01", () => send(200, { value: this.computeUsages })],
      [
        /^\/subscriptions\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/locations\/[^/]+\/usages$/,
        "2022-10-01",
        () =>
          send(200, {
            value: this.mlUsages.map((u) => ({ id: `/subscriptions/${SUB}/usages`, type: "Microsoft.MachineLearningServices/vmFamily/usages", ...u })),
          }),
      ],
      [
        /^\/subscriptions\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/locations\/[^/]+\/vmSizes$/,
        "2022-10-01",
        () => send(200, { value: this.mlVmSizes }),
      ],
      [
        /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/roleAssignments$/,
        "2022-04-01",
        () => {
          const m = /^assignedTo\('([^']+)'\)$/.exec(rec.query.$filter ?? "");
          if (!m) return armError(400, "BadRequest", `unsupported $filter ${rec.query.$filter}`);
          return send(200, {
            value:
              m[1] === OID
                ? this.roleAssignments.map((a, i) => ({
                    id: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments/${i}`,
                    properties: {
                      scope: a.scope,
                      principalId: OID,
                      roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${a.role}`,
                    },
                  }))
                : [],
          });
        },
      ],
      [
        /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/roleDefinitions\/[^/]+$/,
        "2022-04-01",
        () => {
          const guid = p.split("/").pop()!;
          const builtIn = Object.values(ROLE).includes(guid);
          return builtIn || this.customRoles.has(guid)
            ? send(200, { id: p, name: guid, properties: { roleType: builtIn ? "BuiltInRole" : "CustomRole" } })
            : armError(404, "RoleDefinitionDoesNotExist", "no such role");
        },
      ],
      [
        /^\/subscriptions\/[^/]+\/providers\/([^/]+)$/,
        "2021-04-01",
        () => {
          const ns = /\/providers\/([^/]+)$/.exec(p)![1]!;
          return send(200, {
            id: `/subscriptions/${SUB}/providers/${ns}`,
            namespace: ns,
            registrationState: this.providers.get(ns.toLowerCase()) ?? "NotRegistered",
          });
        },
      ],
      [
        /\/providers\/Microsoft\.ContainerService\/managedClusters\/[^/]+\/providers\/Microsoft\.KubernetesConfiguration\/extensions$/,
        "2023-05-01",
        () => {
          const cluster = p.replace(/\/providers\/Microsoft\.KubernetesConfiguration\/extensions$/, "").toLowerCase();
          return send(200, { value: this.extensions.get(cluster) ?? [] });
        },
      ],
      [
        /\/workspaces\/[^/]+\/computes\/[^/]+$/,
        "2022-10-01",
        () => {
          const c = this.computes.get(p.toLowerCase());
          return c ? send(200, c) : armError(404, "ResourceNotFound", "compute not found");
        },
      ],
      [
        /\/workspaces\/[^/]+\/onlineEndpoints\/[^/]+\/deployments$/,
        "2022-10-01",
        () => send(200, { value: this.deployments.get(p.replace(/\/deployments$/, "").toLowerCase()) ?? [] }),
      ],
      [
        /\/workspaces\/[^/]+\/onlineEndpoints\/[^/]+$/,
        "2022-10-01",
        () => {
          const e = this.endpoints.get(p.toLowerCase());
          return e ? send(200, e) : armError(404, "ResourceNotFound", "endpoint not found");
        },
      ],
    ];
    for (const [re, version, answer] of routes) {
      if (!re.test(p)) continue;
      if (ml && /onlineEndpoints\/[^/]+$/.test(p) && !this.endpoints.has(p.toLowerCase())) return false; // the release fakes' own endpoints
      if (!want(version)) return armError(400, "InvalidApiVersionParameter", `api-version '${api}' is not the one this fake serves (${version})`);
      const aud = claimsOf(rec.headers.authorization)?.aud;
      if (aud !== "https://management.azure.com") return armError(401, "InvalidAuthenticationToken", `token audience ${String(aud)}`);
      return answer();
    }
    return false;
  }

  private stateRoute(rec: RecordedRequest, res: ServerResponse): true {
    const auth = rec.headers.authorization ?? "";
    const kind = /^SharedKey stateacct:/.test(auth)
      ? "sharedkey"
      : rec.query.sig
        ? "sas"
        : claimsOf(auth)?.aud === "https://storage.azure.com"
          ? "bearer"
          : "none";
    this.stateAuth.push(kind);
    const base = { "x-ms-request-id": "req-2", "x-ms-version": "2025-01-05", date: new Date().toUTCString() };
    const xmlError = (status: number, code: string): true => {
      res
        .writeHead(status, { ...base, "content-type": "application/xml", "x-ms-error-code": code })
        .end(`<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
      return true;
    };
    if (kind === "none") return xmlError(401, "NoAuthenticationInformation");
    if (rec.path !== `/${STATE_ACCOUNT}/${STATE_CONTAINER}` || rec.query.restype !== "container") return xmlError(400, "UnsupportedByFake");
    if (this.stateContainer === "absent") return xmlError(404, "ContainerNotFound");
    if (this.stateContainer === "deny" && kind === "bearer") return xmlError(403, "AuthorizationPermissionMismatch");
    res
      .writeHead(200, { ...base, etag: '"0x1"', "last-modified": new Date().toUTCString(), "x-ms-lease-state": "available", "x-ms-lease-status": "unlocked" })
      .end();
    return true;
  }
}
