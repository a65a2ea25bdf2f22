/**
 * Formatting of Kubernetes resource quantities (the inverse of config/quantities.ts), rounded up to steps a
 * person would write: CPU in 50m steps (`250m`, `1`, `1500m`), memory in 64Mi steps (`384Mi`, `1Gi`).
 */

export const CPU_STEP_MILLI = 50;
export const MEMORY_STEP_MI = 64;
const MI = 1024 ** 2;

/** Cores -> a CPU quantity rounded up to `stepMilli` (at least one step). */
export function formatCpu(cores: number, stepMilli = CPU_STEP_MILLI): string {
  const milli = Math.max(stepMilli, Math.ceil((cores * 1000 - 1e-9) / stepMilli) * stepMilli);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes -> a memory quantity rounded up to `stepMi` mebibytes (at least one step); whole GiB as `Gi`. */
export function formatMemory(bytes: number, stepMi = MEMORY_STEP_MI): string {
  const mi = Math.max(stepMi, Math.ceil((bytes / MI - 1e-9) / stepMi) * stepMi);
  return mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  return `${(bytes / MI).toFixed(0)} MiB`;
}
