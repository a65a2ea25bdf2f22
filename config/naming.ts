/**
 * Azure resource names for one stack.
 *
 * Names that are global in Azure (storage account, Key Vault, container registry) and the online
 * endpoint (unique per region) carry a stable suffix: the first 8 hex digits of
 * sha256(subscriptionId/stack/prefix). The same subscription, stack and prefix always give the same
 * names (storage and Key Vault of a workspace cannot change after creation); another subscription
 * or stack gets different ones, which avoids StorageAccountAlreadyTaken-style collisions.
 *
 * Rules enforced (and unit tested):
 *   storage account   3-24, lowercase letters and digits
 *   Key Vault         3-24, letters, digits, hyphens; starts with a letter; no "--"; ends alnum
 *   container registry 5-50, letters and digits
 *   ML workspace      3-33, letters, digits, hyphens, underscores; starts alnum
 *   online endpoint   3-32, letters, digits, hyphens; starts with a letter; ends alnum
 *   compute names     2-16, letters, digits, hyphens; starts with a letter
 */
import { sha256Hex } from "./sha256.js";

export interface NamingInput {
  readonly subscriptionId: string;
  readonly stack: string;
  readonly prefix: string;
}

export interface ResourceNames {
  readonly suffix: string;
  readonly resourceGroup: string;
  readonly logAnalytics: string;
  readonly appInsights: string;
  readonly storageAccount: string;
  readonly keyVault: string;
  readonly containerRegistry: string;
  readonly workspace: string;
  readonly aksCluster: string;
  readonly endpoint: string;
}

/** Compute names: workspace-scoped, 2-16 characters. */
export const TRAINING_COMPUTE_NAME = "train-cluster";
export const INFERENCE_COMPUTE_NAME = "aks-inference";

export function stableSuffix(input: NamingInput): string {
  return sha256Hex(`${input.subscriptionId.toLowerCase()}/${input.stack}/${input.prefix}`).slice(0, 8);
}

function alnumLower(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9]/g, "");
}

function hyphenated(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
}

/** `head` shortened so that `head + tail` fits `max`, never cutting the (unique) tail. */
function fit(head: string, tail: string, max: number): string {
  return `${head.slice(0, Math.max(0, max - tail.length))}${tail}`;
}

/** Joins hyphenated parts within `max`, trimming the base so the suffix survives; no trailing "-". */
function fitHyphenated(base: string, suffix: string, max: number): string {
  const tail = `-${suffix}`;
  const head = base.slice(0, Math.max(1, max - tail.length)).replace(/-+$/, "");
  return `${head}${tail}`;
}

export function resourceNames(input: NamingInput): ResourceNames {
  const suffix = stableSuffix(input);
  const stack = hyphenated(input.stack) || "stack";
  const prefix = hyphenated(input.prefix) || "mlops";
  const base = `${prefix}-${stack}`;
  const compact = alnumLower(`${input.prefix}${input.stack}`);
  return {
    suffix,
    resourceGroup: `rg-${base}`.slice(0, 90),
    logAnalytics: `log-${base}`.slice(0, 63),
    appInsights: `appi-${base}`.slice(0, 255),
    storageAccount: fit(compact, `st${suffix}`, 24),
    keyVault: fitHyphenated(`kv-${base}`, suffix, 24),
    containerRegistry: fit(compact, `acr${suffix}`, 50),
    workspace: `mlw-${base}`.slice(0, 33).replace(/-+$/, ""),
    aksCluster: `aks-${base}`.slice(0, 63).replace(/-+$/, ""),
    endpoint: fitHyphenated(`ep-${base}`, suffix, 32),
  };
}
