/**
 * A small weighted reverse proxy on loopback, in front of PROD's two inference servers (blue, green). Every
 * request on the scoring listener is forwarded to one upstream chosen by smooth weighted round-robin; the
 * response carries `x-mlops-upstream: <name>`. Counters per upstream (requests, 2xx/3xx, 4xx, 5xx, no
 * response) let a rollout read the new deployment's error rate.
 *
 * A body over `maxRequestBytes` is answered 413 by the router itself: from its Content-Length before it is
 * read, or, for a chunked body, as soon as the running count passes the limit. Nothing is forwarded until the
 * whole body is in, so a slow or abandoned request never holds an upstream and no refusal counts against one.
 *
 * The admin API (weights, state; see routerAdminApi.ts) is only served when `admin` is given, on a listener
 * of its own on loopback; the scoring listener has no admin paths at all.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_MAX_REQUEST_BYTES } from "../config/scoringConfig.js";
import { adminHandler, refuseNoTraffic } from "./routerAdminApi.js";
import { SmoothWeightedPicker, type Weights } from "./smoothWeightedPicker.js";
import { emptyCounters, type RouterState, type RouterStats, type UpstreamCounters } from "./routerTypes.js";
import { ShadowMirror } from "./shadowMirror.js";
import { copyHeaders, NOT_FORWARDED_REQUEST, NOT_FORWARDED_RESPONSE } from "./proxyHeaders.js";

export interface RouterOptions {
  host?: string;
  /** 0 picks a free port */
  port: number;
  state: RouterState;
  /** Upstream response timeout, ms (the caller gets 504). */
  upstreamTimeoutMs?: number;
  /** Largest request body forwarded, bytes (default 1 MiB); larger ones are answered 413. */
  maxRequestBytes?: number;
  /** The admin API on its own loopback listener (port 0 = a free port), guarded by `token`. */
  admin?: { token: string; port?: number; log?: (line: string) => void };
  /** Called after the weights change through the admin API (e.g. to persist them). */
  onChange?: (state: RouterState) => void | Promise<void>;
}

export interface RunningRouter {
  /** the scoring listener */
  url: string;
  port: number;
  /** the admin listener, when `admin` was given */
  adminUrl?: string;
  setWeights(weights: Weights): void;
  stats(): RouterStats;
  close(): Promise<void>;
}

export function validateWeights(weights: unknown, upstreams: Record<string, string>): Record<string, number> {
  if (weights === null || typeof weights !== "object" || Array.isArray(weights))
    throw new RangeError('weights must be an object such as {"blue": 90, "green": 10}');
  const out: Record<string, number> = {};
  for (const [name, w] of Object.entries(weights as Record<string, unknown>)) {
    if (!(name in upstreams)) throw new RangeError(`unknown upstream '${name}'; known: ${Object.keys(upstreams).join(", ")}`);
    if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > 100)
      throw new RangeError(`weight of '${name}' must be an integer from 0 to 100, not ${JSON.stringify(w)}`);
    out[name] = w;
  }
  for (const name of Object.keys(upstreams)) out[name] ??= 0;
  return out;
}

/** An upstream as the hot path needs it, resolved once: where to connect, the Host header, its counters. */
interface Target {
  name: string;
  hostname: string;
  port: number;
  host: string;
  counters: UpstreamCounters;
}

const listen = async (server: http.Server, port: number, host: string): Promise<number> => {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
};

const shut = async (server: http.Server): Promise<void> => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
};

export async function startWeightedRouter(opts: RouterOptions): Promise<RunningRouter> {
  const host = opts.host ?? "127.0.0.1";
  const upstreams = { ...opts.state.upstreams };
  const picker = new SmoothWeightedPicker(validateWeights(opts.state.weights, upstreams));
  const counters: Record<string, UpstreamCounters> = Object.fromEntries(Object.keys(upstreams).map((n) => [n, emptyCounters()]));
  const targets = new Map<string, Target>(
    Object.entries(upstreams).map(([name, url]) => {
      const u = new URL(url);
      return [name, { name, hostname: u.hostname, port: Number(u.port || 80), host: u.host, counters: counters[name]! }];
    }),
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const timeoutMs = opts.upstreamTimeoutMs ?? 30_000;
  const maxBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const mirror = new ShadowMirror({ upstreams, weights: () => picker.get() });

  const stats = (): RouterStats => ({
    upstreams: { ...upstreams },
    weights: { ...picker.get() },
    counters: Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, { ...v }])),
  });

  const sendJson = (res: http.ServerResponse, status: number, body: unknown, close = false): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...(close ? { connection: "close" } : {}) });
    res.end(text);
  };
  const tooLarge = (res: http.ServerResponse): void =>
    sendJson(res, 413, { error: `request body is larger than ${maxBytes} bytes (scoring.maxRequestBytes in mlops.yaml); send fewer rows per request` }, true);

  /** Sends one complete, size-checked body to the next upstream; its answer streams back as it comes. */
  const send = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void => {
    const name = picker.pick();
    if (name === undefined) return sendJson(res, 503, { error: "no upstream has traffic weight" });
    const t = targets.get(name)!;
    const c = t.counters;
    c.requests += 1;
    const tap = mirror.tap(name, req, body);
    const length = body.length > 0 || req.headers["content-length"] !== undefined || (req.method !== "GET" && req.method !== "HEAD");
    const headers = length
      ? copyHeaders(req.rawHeaders, NOT_FORWARDED_REQUEST, "host", t.host, "content-length", String(body.length))
      : copyHeaders(req.rawHeaders, NOT_FORWARDED_REQUEST, "host", t.host);
    let done = false;
    const fail = (status: number, why: string): void => {
      if (done) return;
      done = true;
      c.failed += 1;
      if (!res.headersSent) sendJson(res, status, { error: `upstream ${name} ${why}` });
      else res.destroy();
    };
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers, agent, timeout: timeoutMs }, (upRes) => {
      const status = upRes.statusCode ?? 502;
      done = true;
      if (status >= 500) c.serverErrors += 1;
      else if (status >= 400) c.clientErrors += 1;
      else c.ok += 1;
      res.writeHead(status, copyHeaders(upRes.rawHeaders, NOT_FORWARDED_RESPONSE, "x-mlops-upstream", name));
      tap?.answered(status, upRes);
      // the upstream dies or times out in the middle of its answer: the client's connection is cut at once (its
      // client sees an incomplete answer), never left waiting for a body that will not come
      upRes.on("error", () => {
        if (res.writableFinished) return;
        c.failed += 1;
        res.destroy();
      });
      upRes.pipe(res);
    });
    up.on("timeout", () => {
      fail(504, "timed out");
      up.destroy();
    });
    up.on("error", (e) => fail(502, `unreachable: ${e.message}`));
    up.end(body);
  };

  /**
   * The body is read whole (it is at most maxRequestBytes) before an upstream is chosen: a slow, aborted or
   * oversized request costs the router a bounded buffer and never holds an inference server's worker, nor
   * counts against an upstream.
   */
  const forward = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > maxBytes) return tooLarge(res);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      over = true;
      chunks.length = 0;
      res.on("finish", () => req.socket.destroy());
      tooLarge(res);
    });
    req.on("end", () => {
      if (!over) send(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
  };

  const server = http.createServer(forward);
  server.keepAliveTimeout = 5_000;
  // a client that trickles its request in is cut off (408) instead of holding a buffer for Node's default 300 s
  server.requestTimeout = 30_000;
  const port = await listen(server, opts.port, host);

  let admin: http.Server | undefined;
  let adminUrl: string | undefined;
  if (opts.admin) {
    const log = opts.admin.log ?? ((line: string) => process.stdout.write(`${line}\n`));
    admin = http.createServer(
      adminHandler({
        token: opts.admin.token,
        upstreams,
        stats,
        current: () => ({ ...picker.get() }),
        apply: (w) => {
          const next = validateWeights(w, upstreams);
          refuseNoTraffic(next);
          picker.set(next);
          return next;
        },
        ...(opts.onChange ? { onChange: opts.onChange } : {}),
        shadow: mirror,
        log,
      }),
    );
    try {
      adminUrl = `http://${host}:${await listen(admin, opts.admin.port ?? 0, host)}`;
    } catch (e) {
      await shut(server);
      throw e;
    }
  }

  return {
    url: `http://${host}:${port}`,
    port,
    ...(adminUrl ? { adminUrl } : {}),
    setWeights: (w) => picker.set(validateWeights(w, upstreams)),
    stats,
    close: async () => {
      agent.destroy();
      mirror.close();
      await Promise.all([shut(server), ...(admin ? [shut(admin)] : [])]);
    },
  };
}
