/**
 * The tags every taggable resource carries: validated in the stack config and enforced again by the policy
 * pack (policy/policies.ts). Dependency-free, so the pack can import it from the checkout.
 */
export const REQUIRED_TAGS = ["environment", "project", "owner"] as const;
