/**
 * The router's admin API, on its own loopback listener (the scoring port only forwards):
 *   GET /-/router/state    -> RouterStats
 *   PUT /-/router/weights  {"blue": 90, "green": 10} -> RouterStats
 *   GET /-/router/shadow?after=<seq>                  -> ShadowMirrorState (pairs recorded after seq)
 *   PUT /-/router/shadow   {"to": "green", "percent": 50} | {"percent": 0} -> ShadowMirrorState (shadowMirror.ts)
 * Every request needs `Authorization: Bearer <token>` (401 otherwise). Weights that would send traffic nowhere
 * (all zero, an unknown upstream, negative, fractional, not a number) are refused with 400 and the old split
 * stays. Every change, and every refused attempt, is one log line: when, who (the x-mlops-actor header of a
 * caller holding the token), from which address, what changed and why; never the token.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type http from "node:http";
import { ACTOR_HEADER, ADMIN_PREFIX, REASON_HEADER, type RouterState, type RouterStats } from "./routerTypes.js";
import type { ShadowMirror } from "./shadowMirror.js";

/** Admin request bodies are a few dozen bytes; anything above this is refused (413) unread. */
const MAX_ADMIN_BODY = 16 * 1024;

export interface AdminApiOptions {
  token: string;
  upstreams: Readonly<Record<string, string>>;
  stats(): RouterStats;
  current(): Record<string, number>;
  /** validates (throws RangeError) and applies */
  apply(weights: unknown): Record<string, number>;
  onChange?: (state: RouterState) => void | Promise<void>;
  /** shadow traffic (mirroring to an idle upstream); its admin paths exist only when given */
  shadow?: Pick<ShadowMirror, "configure" | "describe" | "read">;
  log: (line: string) => void;
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

/** A header value fit for one log line: printable ASCII, at most 120 characters. */
const printable = (v: string | string[] | undefined, fallback: string): string =>
  (Array.isArray(v) ? v.join(",") : (v ?? "")).replace(/[^\x20-\x7e]/g, "?").slice(0, 120) || fallback;

/** Throws RangeError when `weights` would send no traffic anywhere. */
export function refuseNoTraffic(weights: Record<string, number>): void {
  if (Object.values(weights).every((w) => w === 0))
    throw new RangeError(
      `weights ${JSON.stringify(weights)} send no traffic anywhere; give at least one upstream a weight from 1 to 100 (to stop prod, run 'mlops down')`,
    );
}

export function adminHandler(o: AdminApiOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const want = digest(o.token);
  const authorized = (req: http.IncomingMessage): boolean => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
    return !!m && timingSafeEqual(digest(m[1]!), want);
  };
  const send = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };

  return (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    const who = `${printable(req.headers[ACTOR_HEADER], "an unnamed caller")} from ${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const refuse = (status: number, error: string): void => {
      o.log(`${new Date().toISOString()} router admin: refused ${req.method} ${path} by ${who}: ${status} ${error}`);
      req.resume();
      send(res, status, { error });
    };
    if (!authorized(req)) return refuse(401, "missing or wrong admin token (Authorization: Bearer <token from the router's admin file>)");
    if (req.method === "GET" && path === `${ADMIN_PREFIX}/state`) return send(res, 200, o.stats());
    const shadow = o.shadow && path === `${ADMIN_PREFIX}/shadow` ? o.shadow : undefined;
    if (shadow && req.method === "GET") {
      const after = Number(new URL(req.url ?? "", "http://admin").searchParams.get("after") ?? 0);
      return send(res, 200, shadow.read(Number.isFinite(after) ? after : 0));
    }
    if (req.method !== "PUT" || (path !== `${ADMIN_PREFIX}/weights` && !shadow))
      return refuse(
        404,
        `unknown admin path ${req.method} ${path}; use GET ${ADMIN_PREFIX}/state or PUT ${ADMIN_PREFIX}/weights${o.shadow ? ` or GET|PUT ${ADMIN_PREFIX}/shadow` : ""}`,
      );
    if (Number(req.headers["content-length"] ?? 0) > MAX_ADMIN_BODY) return refuse(413, `admin request body over ${MAX_ADMIN_BODY} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_ADMIN_BODY) chunks.push(c);
    });
    req.on("end", () => {
      if (size > MAX_ADMIN_BODY) return refuse(413, `admin request body over ${MAX_ADMIN_BODY} bytes`);
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
      } catch {
        return refuse(
          400,
          `${shadow ? "shadow" : "weights"} are not valid JSON; send an object such as ${shadow ? '{"to": "green", "percent": 50}' : '{"blue": 90, "green": 10}'}`,
        );
      }
      const reason = printable(req.headers[REASON_HEADER], "none given");
      if (shadow) {
        const was = shadow.describe();
        let state: ReturnType<typeof shadow.configure>;
        try {
          state = shadow.configure(body);
        } catch (e) {
          return refuse(400, (e as Error).message);
        }
        o.log(`${new Date().toISOString()} router admin: shadow ${was} -> ${shadow.describe()} by ${who}; reason: ${reason}`);
        return send(res, 200, state);
      }
      const before = o.current();
      let after: Record<string, number>;
      try {
        after = o.apply(body);
      } catch (e) {
        return refuse(400, (e as Error).message);
      }
      const what = Object.keys(o.upstreams)
        .map((n) => `${n} ${before[n] ?? 0} -> ${after[n] ?? 0}`)
        .join(", ");
      o.log(`${new Date().toISOString()} router admin: weights ${what} by ${who}; reason: ${reason}`);
      Promise.resolve(o.onChange?.({ upstreams: { ...o.upstreams }, weights: { ...after } })).then(
        () => send(res, 200, o.stats()),
        (e: unknown) => send(res, 500, { error: `weights set but not persisted: ${(e as Error).message}` }),
      );
    });
  };
}
