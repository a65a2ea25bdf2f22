/**
 * The tag every resource of a stack with `mlops:network.private: true` carries (config/networkConfig.ts adds
 * it; policy/policies.ts keys on it). Dependency-free: the policy pack imports it.
 */
export const NETWORK_TAG = { name: "network", private: "private" } as const;
