/**
 * VM sizes this project allows for the AKS inference node pool, with the capacity the
 * Azure ML extension's minimum is checked against (at least 4 vCPU and 14 GB across the cluster).
 *
 * Azure VM size names are case-insensitive; look-ups here are too. Values are from the
 * Azure VM size documentation (vCPU, memory in GiB). Add a row to allow another size.
 */
export interface VmCapacity {
  /** Canonical Azure spelling, e.g. `Standard_D4s_v3`. */
  readonly name: string;
  readonly vcpu: number;
  readonly memoryGiB: number;
}

export const AKS_VM_SIZES: readonly VmCapacity[] = [
  { name: "Standard_B2s", vcpu: 2, memoryGiB: 4 },
  { name: "Standard_B2ms", vcpu: 2, memoryGiB: 8 },
  { name: "Standard_B4ms", vcpu: 4, memoryGiB: 16 },
  { name: "Standard_D2s_v3", vcpu: 2, memoryGiB: 8 },
  { name: "Standard_D4s_v3", vcpu: 4, memoryGiB: 16 },
  { name: "Standard_D8s_v3", vcpu: 8, memoryGiB: 32 },
  { name: "Standard_D2s_v5", vcpu: 2, memoryGiB: 8 },
  { name: "Standard_D4s_v5", vcpu: 4, memoryGiB: 16 },
  { name: "Standard_D8s_v5", vcpu: 8, memoryGiB: 32 },
  { name: "Standard_D2as_v5", vcpu: 2, memoryGiB: 8 },
  { name: "Standard_D4as_v5", vcpu: 4, memoryGiB: 16 },
  { name: "Standard_DS2_v2", vcpu: 2, memoryGiB: 7 },
  { name: "Standard_DS3_v2", vcpu: 4, memoryGiB: 14 },
  { name: "Standard_D3_v2", vcpu: 4, memoryGiB: 14 },
  { name: "Standard_E2s_v3", vcpu: 2, memoryGiB: 16 },
  { name: "Standard_E4s_v3", vcpu: 4, memoryGiB: 32 },
  { name: "Standard_F4s_v2", vcpu: 4, memoryGiB: 8 },
];

/** The Azure ML Kubernetes extension's documented minimum for the whole cluster. */
export const AZUREML_EXTENSION_MIN = { vcpu: 4, memoryGB: 14 } as const;

export function findAksVmSize(name: string): VmCapacity | undefined {
  const wanted = name.toLowerCase();
  return AKS_VM_SIZES.find((size) => size.name.toLowerCase() === wanted);
}
