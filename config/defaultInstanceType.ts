/**
 * The Azure ML extension's `defaultinstancetype`: created by Azure ML when a Kubernetes cluster is
 * attached to a workspace, used by every deployment that names no instance type, and the type a
 * deployment's own `resources` (requests/limits) are validated against: "the resource limits must
 * be less than the instance type limits. Otherwise, deployment fails." (MS Learn, "Create and manage
 * instance types for efficient utilization of compute resources", section "Create a default
 * instance type" and "Resource section validation"). Its limits there: cpu "2", memory "2Gi".
 */
export const DEFAULT_INSTANCE_TYPE = {
  name: "defaultinstancetype",
  requests: { cpu: "100m", memory: "2Gi" },
  limits: { cpu: "2", memory: "2Gi" },
} as const;

/** azureml-fe runs three replicas with inferenceRouterHA, which needs at least three nodes (MS Learn, extension settings). */
export const INFERENCE_ROUTER_HA_MIN_NODES = 3;
