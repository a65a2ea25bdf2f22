/**
 * The request credential of a stack's online endpoint, per its auth mode: Key (`listKeys` primary key),
 * AMLToken (`getToken`), AADToken (an Azure ML token of the driver's own identity). Sent as a bearer header;
 * never logged: `redact` takes it out of any text that might reach progress or an error.
 */
import type { TokenCredential } from "@azure/core-auth";
import { DeploymentError } from "../../core/errors.js";
import type { StackName } from "../../core/release.js";
import { AML_SCOPE } from "./azureSettings.js";
import type { WorkspaceClients } from "./workspaceClients.js";

export interface EndpointAuth {
  headers: Record<string, string>;
  /** Replaces the credential in `text` (one line for progress or an error). */
  redact(text: string): string;
}

export async function endpointAuth(stack: StackName, ws: WorkspaceClients, credential: TokenCredential): Promise<EndpointAuth> {
  const endpoint = ws.ref.endpointName;
  if (!endpoint) throw new DeploymentError(`stack '${stack}' has no endpointName output; run 'pulumi up --stack ${stack}'`);
  const e = await ws.ml.onlineEndpoints.get(ws.ref.resourceGroup, ws.ref.workspace, endpoint);
  const mode = e.properties.authMode;
  let token: string | undefined;
  if (mode === "Key") token = (await ws.ml.onlineEndpoints.listKeys(ws.ref.resourceGroup, ws.ref.workspace, endpoint)).primaryKey;
  else if (mode === "AMLToken") token = (await ws.ml.onlineEndpoints.getToken(ws.ref.resourceGroup, ws.ref.workspace, endpoint)).accessToken;
  else token = (await credential.getToken(AML_SCOPE))?.token;
  if (!token) throw new DeploymentError(`endpoint ${endpoint} (${mode}) gave no credential to call it with; check your role on the workspace`);
  const secret = token;
  return {
    headers: { authorization: `Bearer ${secret}` },
    redact: (text) => text.split(secret).join("***"),
  };
}
