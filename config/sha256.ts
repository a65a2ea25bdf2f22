/** The one sha256 helper of the project: the lowercase hex digest of the parts, hashed in order as one stream. */
import { createHash } from "node:crypto";

export function sha256Hex(...parts: (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}
