/**
 * What the azure checks share: the stacks checked, their validated config (config/stackConfig.ts, so keys other
 * helpers add flow through), the credential and the ARM clients, and what earlier checks found (who the caller is,
 * the subscription, the role assignments, each stack's outputs). Every outside thing is a dependency a test can
 * replace; the defaults are the real ones (see azureDoctor.ts).
 */
import type { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";
import type { TokenCredential } from "@azure/core-auth";
import type { StackConfig } from "../../../config/stackConfig.js";
import type { StackName } from "../../core/release.js";
import type { StackOutputValues } from "../../pulumi/stackUpdater.js";
import type { AzureSettings } from "../../targets/azure/azureSettings.js";
import type { ArmRest } from "../../targets/azure/armRest.js";
import type { TokenIdentity } from "./tokenClaims.js";

export interface AzureDoctorDeps {
  credential: TokenCredential;
  settings: AzureSettings;
  env: NodeJS.ProcessEnv;
  /** `pulumi stack output` of a stack (the Automation API adapter by default) */
  stackOutputs(stack: StackName): Promise<StackOutputValues>;
  /** the pulumi CLI found and its version; throws EnvironmentError with the fix (driver/pulumi/pulumiCli.ts) */
  pulumiCliVersion(): Promise<string>;
  /** the Azure CLI's default subscription id (`az account show`), undefined when az is missing or logged out */
  azDefaultSubscription(): Promise<string | undefined>;
  /** https URL of a storage account's blob service (tests point it at a loopback server) */
  blobServiceUrl(account: string): string;
  /** ARM clients for a subscription (the SDK client; ArmRest over its pipeline) */
  armClients(subscriptionId: string): { ml: AzureMachineLearningWorkspaces; arm: ArmRest };
  now(): Date;
}

export interface DeployedStack {
  outputs: StackOutputValues;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
}

export interface AzureDoctorContext {
  repoRoot: string;
  stacks: readonly StackName[];
  deps: AzureDoctorDeps;
  /** per stack: the validated config, or the problems that keep it from validating */
  configs: Map<StackName, StackConfig>;
  identity?: TokenIdentity;
  subscriptionId?: string;
  /** where subscriptionId came from, for the report */
  subscriptionSource?: string;
  /** role assignments of the caller (incl. groups), filled by the roles check */
  roleAssignments?: RoleAssignmentView[];
  /** stacks with a workspace (after the first `up`) */
  deployed: Map<StackName, DeployedStack>;
  /** stacks whose outputs could not be read (not created yet, no backend), with the reason */
  notDeployed: Map<StackName, string>;
}

export interface RoleAssignmentView {
  scope: string;
  roleDefinitionGuid: string;
}

export const stackCheck = (name: string, stack: StackName): string => `${name}[${stack}]`;

export const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() ? v.trim() : undefined);

export function armClientsOf(ctx: AzureDoctorContext): { ml: AzureMachineLearningWorkspaces; arm: ArmRest } | undefined {
  return ctx.subscriptionId ? ctx.deps.armClients(ctx.subscriptionId) : undefined;
}
