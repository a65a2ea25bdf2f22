/**
 * Builds a stack under Pulumi runtime mocks, from the real Pulumi.<stack>.yaml (plus overrides),
 * and records every resource registered so tests can assert on types, parents and inputs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { buildStack, type BuildStackOptions, type BuiltStack } from "../../../program.js";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001";
export const TENANT_ID = "00000000-0000-0000-0000-0000000000aa";

export interface RecordedResource {
  type: string;
  name: string;
  inputs: any;
  /** Filled in after the build: the URN, whose type part names the parent chain. */
  urn?: string;
  /** The resource option retainOnDelete as the program registered it (the mocks' API does not pass options). */
  retainOnDelete?: boolean;
}

export interface BuiltForTest {
  stack: BuiltStack;
  resources: RecordedResource[];
  ofType(type: string): RecordedResource[];
  one(type: string): RecordedResource;
}

/** The azure-native type tokens the infra tests look resources up by. */
export const AZ = {
  rg: "azure-native:resources:ResourceGroup",
  logs: "azure-native:operationalinsights:Workspace",
  appi: "azure-native:applicationinsights:Component",
  storage: "azure-native:storage:StorageAccount",
  container: "azure-native:storage:BlobContainer",
  blob: "azure-native:storage:Blob",
  kv: "azure-native:keyvault:Vault",
  acr: "azure-native:containerregistry:Registry",
  mlw: "azure-native:machinelearningservices:Workspace",
  compute: "azure-native:machinelearningservices:Compute",
  code: "azure-native:machinelearningservices:CodeVersion",
  env: "azure-native:machinelearningservices:EnvironmentVersion",
  endpoint: "azure-native:machinelearningservices:OnlineEndpoint",
  deployment: "azure-native:machinelearningservices:OnlineDeployment",
  batchEndpoint: "azure-native:machinelearningservices:BatchEndpoint",
  aks: "azure-native:containerservice:ManagedCluster",
  ext: "azure-native:kubernetesconfiguration:Extension",
  role: "azure-native:authorization:RoleAssignment",
  vnet: "azure-native:network:VirtualNetwork",
  subnet: "azure-native:network:Subnet",
  pe: "azure-native:network:PrivateEndpoint",
  zoneGroup: "azure-native:network:PrivateDnsZoneGroup",
  zone: "azure-native:privatedns:PrivateZone",
  link: "azure-native:privatedns:VirtualNetworkLink",
} as const;

/** Resolves an Output outside `apply`, so assertion failures are reported, not turned into timeouts. */
export function unwrap<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise<T>((resolve) => pulumi.output(output).apply((value) => resolve(value as T)));
}

/** `Pulumi.<stack>.yaml`'s config map with values as strings, the way the CLI hands them to a program. */
export function stackFileConfig(stack: string): Record<string, unknown> {
  const document = parseYaml(readFileSync(join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  return document.config;
}

function asConfigStrings(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    out[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

/** The physical Azure name a resource of `type` gets from its inputs. */
function nameOf(type: string, inputs: Record<string, any>, logical: string): string {
  const byType: Record<string, string> = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:operationalinsights:Workspace": "workspaceName",
    "azure-native:applicationinsights:Component": "resourceName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:machinelearningservices:Workspace": "workspaceName",
    "azure-native:machinelearningservices:Compute": "computeName",
    "azure-native:containerservice:ManagedCluster": "resourceName",
    "azure-native:kubernetesconfiguration:Extension": "extensionName",
    "azure-native:machinelearningservices:OnlineEndpoint": "endpointName",
    "azure-native:machinelearningservices:OnlineDeployment": "deploymentName",
    "azure-native:storage:BlobContainer": "containerName",
    "azure-native:storage:Blob": "blobName",
    "azure-native:machinelearningservices:CodeVersion": "version",
    "azure-native:machinelearningservices:EnvironmentVersion": "version",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:Subnet": "subnetName",
    "azure-native:network:PrivateEndpoint": "privateEndpointName",
    "azure-native:privatedns:PrivateZone": "privateZoneName",
  };
  const key = byType[type];
  const value = key ? inputs[key] : undefined;
  return typeof value === "string" ? value : logical;
}

function idOf(type: string, inputs: Record<string, any>, name: string): string {
  const rg = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${inputs.resourceGroupName ?? name}`;
  switch (type) {
    case "azure-native:resources:ResourceGroup":
      return rg;
    case "azure-native:machinelearningservices:Workspace":
      return `${rg}/providers/Microsoft.MachineLearningServices/workspaces/${name}`;
    case "azure-native:machinelearningservices:Compute":
      return `${rg}/providers/Microsoft.MachineLearningServices/workspaces/${inputs.workspaceName}/computes/${name}`;
    case "azure-native:machinelearningservices:CodeVersion":
      return `${rg}/providers/Microsoft.MachineLearningServices/workspaces/${inputs.workspaceName}/codes/${inputs.name}/versions/${inputs.version}`;
    case "azure-native:machinelearningservices:EnvironmentVersion":
      return `${rg}/providers/Microsoft.MachineLearningServices/workspaces/${inputs.workspaceName}/environments/${inputs.name}/versions/${inputs.version}`;
    default:
      return `${rg}/providers/${type.replace(/^azure-native:/, "")}/${name}`;
  }
}

/**
 * Test-only PEM stand-ins for the TLS secret config (`pulumi config set --secret`): the markers
 * config validation checks, no key material.
 */
export const TEST_TLS = {
  certificate: "-----BEGIN CERTIFICATE-----\ntest-only-certificate-body\n-----END CERTIFICATE-----\n",
  privateKey: "-----BEGIN PRIVATE KEY-----\ntest-only-private-key-body\n-----END PRIVATE KEY-----\n",
} as const;

/** The secret config a stack file expects an operator to have set (prod: the TLS certificate and key). */
export function defaultSecretConfig(stack: string): Record<string, string> {
  const aks = stackFileConfig(stack)["mlops:aks"] as { tls?: { secretName?: string } } | undefined;
  return aks?.tls && !aks.tls.secretName ? { "mlops:tlsCertificate": TEST_TLS.certificate, "mlops:tlsPrivateKey": TEST_TLS.privateKey } : {};
}

export interface BuildForTestOptions extends Omit<BuildStackOptions, "stackName" | "config"> {
  /** Top-level config keys to replace, e.g. `{ "mlops:serving": {...} }`. */
  configOverrides?: Record<string, unknown>;
  /** Config handed over as secrets (full keys); default: defaultSecretConfig(stack). */
  secretConfig?: Record<string, string>;
  /** The previous update's stack outputs, as the self StackReference returns them. */
  previousOutputs?: Record<string, unknown>;
}

/** Installs the mocks and the stack config; returns the list that records every registered resource. */
export async function prepareMocks(stackName: string, options: BuildForTestOptions = {}): Promise<RecordedResource[]> {
  const resources: RecordedResource[] = [];
  const retainOnDelete = new Map<string, boolean>();
  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      const inputs = args.inputs as Record<string, any>;
      const name = nameOf(args.type, inputs, args.name);
      const retain = retainOnDelete.get(`${args.type}::${args.name}`);
      resources.push({ type: args.type, name: args.name, inputs, ...(retain !== undefined ? { retainOnDelete: retain } : {}) });
      if (args.type === "pulumi:pulumi:StackReference") {
        return { id: `${args.inputs.name}`, state: { ...inputs, outputs: options.previousOutputs ?? {} } };
      }
      const state: Record<string, any> = { ...inputs, name };
      if (inputs.identity) state.identity = { ...inputs.identity, principalId: `${name}-principal-id`, tenantId: TENANT_ID };
      switch (args.type) {
        case "azure-native:storage:StorageAccount":
          state.primaryEndpoints = { blob: `https://${name}.blob.storage.example/` };
          break;
        case "azure-native:machinelearningservices:Workspace":
          state.mlFlowTrackingUri = `azureml://mlflow.example/${name}`;
          break;
        case "azure-native:containerservice:ManagedCluster":
          state.identityProfile = { kubeletidentity: { objectId: "kubelet-object-id", clientId: "kubelet-client-id" } };
          break;
        case "azure-native:machinelearningservices:OnlineEndpoint":
          state.properties = { ...inputs.properties, scoringUri: `http://10.0.0.4/api/v1/endpoint/${name}/score` };
          break;
      }
      return { id: args.custom === false ? undefined : idOf(args.type, inputs, name), state };
    },
    call(args) {
      if (args.token === "azure-native:authorization:getClientConfig") {
        return { subscriptionId: SUBSCRIPTION_ID, tenantId: TENANT_ID, objectId: "runner-object-id", clientId: "runner-client-id" };
      }
      throw new Error(`unexpected invoke ${args.token}`);
    },
  };

  await pulumi.runtime.setMocks(mocks, "mlops", stackName, false, "organization");
  // Record retainOnDelete from the register request the mock monitor receives.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: { getType(): string; getName(): string; getRetainondelete(): boolean }, callback: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const result = register(req, callback);
    const recorded = resources.find((r) => r.type === req.getType() && r.name === req.getName());
    retainOnDelete.set(`${req.getType()}::${req.getName()}`, req.getRetainondelete());
    if (recorded) recorded.retainOnDelete = req.getRetainondelete();
    return result;
  };
  const secrets = options.secretConfig ?? defaultSecretConfig(stackName);
  pulumi.runtime.setAllConfig(asConfigStrings({ ...stackFileConfig(stackName), ...(options.configOverrides ?? {}), ...secrets }), Object.keys(secrets));
  return resources;
}

export async function buildForTest(stackName: string, options: BuildForTestOptions = {}): Promise<BuiltForTest> {
  const resources = await prepareMocks(stackName, options);
  const { configOverrides: _overrides, previousOutputs: _previous, secretConfig: _secrets, ...buildOptions } = options;
  void _overrides;
  void _previous;
  void _secrets;
  const stack = buildStack({ stackName, ...buildOptions });

  // Wait for every component child to be registered: resolve each child's URN.
  const children: pulumi.Resource[] = [];
  const collect = (value: unknown, depth: number): void => {
    if (depth > 2 || value === null || typeof value !== "object") return;
    if (pulumi.Resource.isInstance(value)) {
      if (!children.includes(value)) children.push(value);
      if (depth > 0) return;
    }
    for (const field of Object.values(value as Record<string, unknown>)) collect(field, depth + 1);
  };
  for (const component of Object.values(stack.components)) collect(component, 0);
  const urns = await Promise.all(children.map((child) => unwrap(child.urn)));
  await unwrap(pulumi.all(stack.outputs as unknown as Record<string, pulumi.Input<unknown>>));

  // URN type part: "<parentType>$<type>"; match recorded resources by (type, logical name).
  for (const urn of urns) {
    const [, , qualifiedType = "", name] = urn.split("::");
    const type = qualifiedType.split("$").pop();
    const recorded = resources.find((r) => r.type === type && r.name === name);
    if (recorded) recorded.urn = urn;
  }

  return {
    stack,
    resources,
    ofType: (type) => resources.filter((r) => r.type === type),
    one: (type) => {
      const found = resources.filter((r) => r.type === type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0]!;
    },
  };
}

/** The type of the direct parent encoded in a URN (`...::mlops:workspace:MlWorkspace$azure-native:...::name`). */
export function parentTypeOf(resource: RecordedResource): string | undefined {
  if (!resource.urn) return undefined;
  const chain = (resource.urn.split("::")[2] ?? "").split("$");
  return chain.length > 1 ? chain[chain.length - 2] : undefined;
}

/** The `mlops:` values of a real stack file, namespace stripped, as plain objects to mutate. */
export function rawOf(stack: "int" | "prod"): Record<string, any> {
  const raw: Record<string, any> = {};
  for (const [key, value] of Object.entries(stackFileConfig(stack))) {
    if (key.startsWith("mlops:")) raw[key.slice("mlops:".length)] = structuredClone(value);
  }
  return raw;
}
