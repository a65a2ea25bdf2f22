/** Built-in Azure role definitions this program assigns (ids are the same in every tenant). */
export const BUILT_IN_ROLES = {
  /** Pull images from a container registry. */
  AcrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  /** Read blobs (code and model assets) from a storage account. */
  StorageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
  /** Manage networks: the AKS cluster identity places its internal load balancer in our subnet. */
  NetworkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
} as const;

export type BuiltInRole = keyof typeof BUILT_IN_ROLES;

export function roleDefinitionId(subscriptionId: string, role: BuiltInRole): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLES[role]}`;
}
