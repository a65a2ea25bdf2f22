/**
 * The Azure SDK clients of one stack's workspace: the ARM client (@azure/arm-machinelearning, api-version
 * 2022-10-01), the default datastore's blob container (@azure/storage-blob with the same token credential), and
 * the MLflow REST client on the workspace's tracking URI (AAD token for https://ml.azure.com). Created lazily
 * and cached, so a command that needs only the release store never lists datastores.
 */
import { AzureMachineLearningWorkspaces, type AzureBlobDatastore } from "@azure/arm-machinelearning";
import type { TokenCredential } from "@azure/core-auth";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { ConfigError, EnvironmentError } from "../../core/errors.js";
import { MlflowClient } from "../../mlflow/mlflowClient.js";
import { mlflowBaseUrl, mlflowScope, type AzureSettings, type WorkspaceRef } from "./azureSettings.js";
import { failedRunError } from "./runHistory.js";
import { bearerHeaders } from "./credential.js";

export interface DatastoreLocation {
  name: string;
  account: string;
  container: string;
  /** e.g. https://<account>.blob.core.windows.net */
  serviceUrl: string;
}

/** How a blob service URL is formed from a datastore (tests point it at a loopback server). */
export type BlobUrlFor = (account: string, endpointSuffix: string, protocol: string) => string;
export const publicBlobUrl: BlobUrlFor = (account, suffix, protocol) => `${protocol}://${account}.blob.${suffix}`;

export interface ClientDeps {
  credential: TokenCredential;
  settings: AzureSettings;
  blobUrlFor?: BlobUrlFor;
}

export function createMlClient(deps: ClientDeps, subscriptionId: string): AzureMachineLearningWorkspaces {
  const { armEndpoint, armScope } = deps.settings;
  return new AzureMachineLearningWorkspaces(deps.credential, subscriptionId, {
    endpoint: armEndpoint,
    $host: armEndpoint,
    credentialScopes: [armScope],
    userAgentOptions: { userAgentPrefix: "mlops-driver" },
  });
}

export class WorkspaceClients {
  readonly ml: AzureMachineLearningWorkspaces;
  private datastore?: Promise<DatastoreLocation>;
  private mlflowClient?: MlflowClient;

  constructor(
    readonly ref: WorkspaceRef,
    private readonly deps: ClientDeps,
  ) {
    this.ml = createMlClient(deps, ref.subscriptionId);
  }

  get credential(): TokenCredential {
    return this.deps.credential;
  }

  /** The workspace's default datastore (workspaceblobstore): its storage account and container. */
  defaultDatastore(): Promise<DatastoreLocation> {
    this.datastore ??= (async () => {
      const { resourceGroup, workspace, stack } = this.ref;
      let found: { name?: string; properties: AzureBlobDatastore } | undefined;
      for await (const d of this.ml.datastores.list(resourceGroup, workspace, { isDefault: true })) {
        if (d.properties.datastoreType === "AzureBlob") {
          found = d as { name?: string; properties: AzureBlobDatastore };
          break;
        }
      }
      const p = found?.properties;
      if (!found || !p?.accountName || !p.containerName) {
        throw new EnvironmentError(
          `workspace ${workspace} (stack '${stack}') has no default Azure Blob datastore; recreate the workspace with 'pulumi up --stack ${stack}'`,
        );
      }
      const urlFor = this.deps.blobUrlFor ?? publicBlobUrl;
      return {
        name: found.name ?? "workspaceblobstore",
        account: p.accountName,
        container: p.containerName,
        serviceUrl: urlFor(p.accountName, p.endpoint || "core.windows.net", p.protocol || "https"),
      };
    })();
    this.datastore.catch(() => (this.datastore = undefined));
    return this.datastore;
  }

  async container(name?: string): Promise<ContainerClient> {
    const ds = await this.defaultDatastore();
    const service = new BlobServiceClient(ds.serviceUrl, this.deps.credential);
    return service.getContainerClient(name ?? ds.container);
  }

  /** `azureml://subscriptions/.../datastores/<name>/paths/<path>` for a path in the default datastore. */
  async datastoreUri(pathInContainer: string): Promise<string> {
    const ds = await this.defaultDatastore();
    const { subscriptionId, resourceGroup, workspace } = this.ref;
    return `azureml://subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}/workspaces/${workspace}/datastores/${ds.name}/paths/${pathInContainer.replace(/^\/+/, "")}`;
  }

  /** A failed job's error text from Run History (where azure-ai-ml reads it), or undefined. */
  failedRunError(runId: string): Promise<string | undefined> {
    return failedRunError(this.ref, runId, bearerHeaders(this.deps.credential, mlflowScope(this.deps.settings)));
  }

  mlflow(): MlflowClient {
    if (!this.mlflowClient) {
      if (!this.ref.mlflowTrackingUri) {
        throw new ConfigError(`stack '${this.ref.stack}' has no mlflowTrackingUri output; run 'pulumi up --stack ${this.ref.stack}' with the current program`);
      }
      this.mlflowClient = new MlflowClient({
        baseUrl: mlflowBaseUrl(this.ref.mlflowTrackingUri),
        authHeaders: bearerHeaders(this.deps.credential, mlflowScope(this.deps.settings)),
        timeoutMs: 60_000,
      });
    }
    return this.mlflowClient;
  }
}
