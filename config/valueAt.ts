/** The value at `path` inside nested plain objects, or undefined where the path leaves them (dependency-free: the policy pack reads resource properties with it too). */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}
