/**
 * An Azure ML code asset as both endpoints declare it: each file uploaded as a blob under `<folder>/` of the code
 * container, and a CodeVersion whose codeUri is that folder. Blobs and version are kept on delete: Azure ML archives
 * asset versions instead of deleting them (Azure/azure-cli#21957), and a deployment pinned to an older version
 * still runs it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as machinelearningservices from "@pulumi/azure-native/machinelearningservices/index.js";
import * as storage from "@pulumi/azure-native/storage/index.js";
import { sha256Hex } from "../config/sha256.js";

export interface CodeFile {
  path: string;
  /** the blob's file name under the folder */
  name: string;
  content: Buffer;
}

export interface CodeAssetArgs {
  resourceGroupName: pulumi.Input<string>;
  workspaceName: pulumi.Input<string>;
  storageAccountName: pulumi.Input<string>;
  containerName: pulumi.Input<string>;
  blobEndpoint: pulumi.Input<string>;
  /** the code asset's name in the workspace, and its version (a content hash) */
  codeName: pulumi.Input<string>;
  version: string;
  /** folder in the container, e.g. code/<hash> */
  folder: string;
  files: CodeFile[];
  /** Pulumi resource names: of each file's blob, and of the CodeVersion */
  blobResourceName: (f: CodeFile) => string;
  codeResourceName: string;
}

export function declareCodeAsset(parent: pulumi.Resource, a: CodeAssetArgs): { blobs: storage.Blob[]; codeVersion: machinelearningservices.CodeVersion } {
  const blobs = a.files.map(
    (f) =>
      new storage.Blob(
        a.blobResourceName(f),
        {
          resourceGroupName: a.resourceGroupName,
          accountName: a.storageAccountName,
          containerName: a.containerName,
          blobName: `${a.folder}/${f.name}`,
          type: storage.BlobType.Block,
          contentType: "text/x-python",
          source: new pulumi.asset.FileAsset(f.path),
        },
        { parent, retainOnDelete: true },
      ),
  );
  const codeVersion = new machinelearningservices.CodeVersion(
    a.codeResourceName,
    {
      resourceGroupName: a.resourceGroupName,
      workspaceName: a.workspaceName,
      name: a.codeName,
      version: a.version,
      properties: {
        codeUri: pulumi.interpolate`${pulumi.output(a.blobEndpoint).apply((e) => e.replace(/\/?$/, "/"))}${a.containerName}/${a.folder}`,
        description: a.files.map((f) => `${f.name} sha256:${sha256Hex(f.content)}`).join(" "),
      },
    },
    { parent, dependsOn: blobs, retainOnDelete: true },
  );
  return { blobs, codeVersion };
}
