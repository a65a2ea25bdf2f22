/**
 * Parsing of the small value languages used in stack config: Kubernetes resource quantities
 * (`500m`, `1`, `512Mi`, `2Gi`) and ISO-8601 durations (`PT2M`, `PT120S`).
 */

const CPU_PATTERN = /^(\d+(?:\.\d+)?)(m?)$/;
const MEMORY_PATTERN = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/;
const DURATION_PATTERN = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/;

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** CPU quantity in cores (`500m` -> 0.5), or undefined when it is not a Kubernetes CPU quantity. */
export function parseCpu(quantity: string): number | undefined {
  const match = CPU_PATTERN.exec(quantity);
  if (!match) return undefined;
  const value = Number(match[1]);
  const cores = match[2] === "m" ? value / 1000 : value;
  return cores > 0 ? cores : undefined;
}

/** Memory quantity in bytes (`1Gi` -> 1073741824), or undefined when it is not a memory quantity. */
export function parseMemory(quantity: string): number | undefined {
  const match = MEMORY_PATTERN.exec(quantity);
  if (!match) return undefined;
  const bytes = Number(match[1]) * (MEMORY_UNITS[match[2] ?? ""] ?? NaN);
  return bytes > 0 ? bytes : undefined;
}

/** ISO-8601 time duration (hours/minutes/seconds only) in seconds, or undefined when malformed or zero. */
export function parseIsoDurationSeconds(duration: string): number | undefined {
  const match = DURATION_PATTERN.exec(duration);
  if (!match || duration === "PT") return undefined;
  const [, h, m, s] = match;
  const seconds = Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
  return seconds > 0 ? seconds : undefined;
}

/** Seconds (possibly fractional) as an ISO-8601 duration: 5 -> `PT5S`, 0.5 -> `PT0.5S`. */
export function secondsToIsoDuration(seconds: number): string {
  return `PT${Number(seconds.toFixed(3))}S`;
}
