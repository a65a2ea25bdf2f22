/**
 * What the router copies across a hop, for live requests and shadow copies alike: headers as raw name/value arrays
 * (no per-request header object), without the hop-by-hop ones.
 */

/** Hop-by-hop headers (RFC 9110 section 7.6.1): about one connection, never copied across the router. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"];
/** Not copied from a request: the hop's own, and Host and Content-Length, which the router sets. */
export const NOT_FORWARDED_REQUEST = new Set([...HOP_BY_HOP, "host", "content-length"]);
/** Not copied from an upstream's answer: the hop's own (gunicorn's `Connection: close` must not close the client's connection). */
export const NOT_FORWARDED_RESPONSE = new Set(HOP_BY_HOP);

/** `raw` (name, value, name, value, ... as received) without the names in `drop`, then `extra` name/value pairs. */
export function copyHeaders(raw: readonly string[], drop: ReadonlySet<string>, ...extra: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!drop.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  for (const x of extra) out.push(x);
  return out;
}
