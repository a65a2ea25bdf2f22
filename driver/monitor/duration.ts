/** Durations as mlops.yaml and `--since` write them: a whole number and a unit, s, m, h or d ("90m", "24h", "7d"). */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
export const DURATION = /^(\d{1,6})([smhd])$/;

/** Seconds of a duration such as "24h"; undefined when `text` is not one. */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
  return seconds > 0 ? seconds : undefined;
}
