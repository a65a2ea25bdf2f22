/**
 * Runs a policy the way the analyzer would, with hand-built validation args
 * (the pattern of pulumi-policy-aws src/tests/util.ts), collecting reported violations.
 */
import type { ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";

export function argsFor(type: string, props: Record<string, unknown>): ResourceValidationArgs {
  return {
    type,
    props,
    urn: `urn:pulumi:test::mlops::${type}::test`,
    name: "test",
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
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
