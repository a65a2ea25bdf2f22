/**
 * Runs a policy the way the analyzer would, with hand-built validation args
 * (the pattern of pulumi-policy-aws src/tests/util.ts), collecting reported violations.
 */
import type { ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import { policies } from "../../../policy/policies.js";

/**
 * Secrets as the analyzer hands them to a policy: unpacked to plain values (@pulumi/policy deserialize.js,
 * deserializeProperty: "secrets must be fully unpacked into plain-old-JSON"). Mock-recorded inputs hold them
 * as RPC secret wrappers, which a policy would otherwise see instead of the value.
 */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return unwrapSecrets(record["value"]);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}

export function argsFor(type: string, props: Record<string, unknown>): ResourceValidationArgs {
  return {
    type,
    props: unwrapSecrets(props) as Record<string, unknown>,
    urn: `urn:pulumi:test::mlops::${type}::test`,
    name: "test",
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new Error(`not applicable: ${reason}`);
    },
  } as ResourceValidationArgs;
}

export async function violations(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>): Promise<string[]> {
  const found: string[] = [];
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  for (const validate of validations) await validate?.(argsFor(type, props), (message) => found.push(message));
  return found;
}

/** Runs a stack policy over hand-built (or mock-recorded) resources, collecting reported violations. */
export async function stackViolations(
  policy: StackValidationPolicy,
  resources: ReadonlyArray<{ type: string; name: string; inputs?: Record<string, unknown>; props?: Record<string, unknown> }>,
): Promise<string[]> {
  const found: string[] = [];
  const args = {
    resources: resources.map((r) => ({ ...argsFor(r.type, r.props ?? r.inputs ?? {}), name: r.name })),
    stackTags: new Map(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new Error(`not applicable: ${reason}`);
    },
  } as unknown as StackValidationArgs;
  await policy.validateStack(args, (message) => found.push(message));
  return found;
}

/** Every policy of the pack over the recorded resources, one line per violation ("stack: ..." or "<resource>: ..."). */
export async function packFindings(resources: ReadonlyArray<{ type: string; name: string; inputs: Record<string, unknown> }>): Promise<string[]> {
  const found: string[] = [];
  for (const policy of policies) {
    if ("validateStack" in policy) {
      for (const message of await stackViolations(policy, resources)) found.push(`stack: ${message}`);
      continue;
    }
    for (const resource of resources) {
      for (const message of await violations(policy, resource.type, resource.inputs)) found.push(`${resource.name}: ${message}`);
    }
  }
  return found;
}
