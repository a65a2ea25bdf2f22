/**
 * A small weighted reverse proxy on loopback, in front of PROD's two inference servers (blue, green). Every
 * request except the admin API is forwarded to one upstream chosen by smooth weighted round-robin; the
 * response carries `x-mlops-upstream: <name>`. Counters per upstream (requests, 2xx/3xx, 4xx, 5xx, no
 * response) let a rollout read the new deployment's error rate. Admin API (loopback only, like the listener):
 *   GET  /-/router/state     -> RouterStats
 *   PUT  /-/router/weights   {"blue": 90, "green": 10} -> RouterStats (the weights are persisted by onChange)
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { SmoothWeightedPicker, type Weights } from "./smoothWeightedPicker.js";
import { ADMIN_PREFIX, emptyCounters, type RouterState, type RouterStats, type UpstreamCounters } from "./routerTypes.js";

export interface RouterOptions {
  host?: string;
  /** 0 picks a free port */
  port: number;
  state: RouterState;
  /** Upstream response timeout, ms (the caller gets 504). */
  upstreamTimeoutMs?: number;
  /** Called after the weights change through the admin API (e.g. to persist them). */
  onChange?: (state: RouterState) => void | Promise<void>;
}

export interface RunningRouter {
  url: string;
  port: number;
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
    if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > 100) throw new RangeError(`weight of '${name}' must be an integer from 0 to 100`);
    out[name] = w;
  }
  for (const name of Object.keys(upstreams)) out[name] ??= 0;
  return out;
}

export async function startWeightedRouter(opts: RouterOptions): Promise<RunningRouter> {
  const host = opts.host ?? "127.0.0.1";
  const upstreams = { ...opts.state.upstreams };
  const picker = new SmoothWeightedPicker(validateWeights(opts.state.weights, upstreams));
  const counters: Record<string, UpstreamCounters> = Object.fromEntries(Object.keys(upstreams).map((n) => [n, emptyCounters()]));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const timeoutMs = opts.upstreamTimeoutMs ?? 30_000;

  const stats = (): RouterStats => ({
    upstreams: { ...upstreams },
    weights: { ...picker.get() },
    counters: Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, { ...v }])),
  });

  const sendJson = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };

  const admin = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method === "GET" && path === `${ADMIN_PREFIX}/state`) return sendJson(res, 200, stats());
    if (req.method === "PUT" && path === `${ADMIN_PREFIX}/weights`) {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        try {
          picker.set(validateWeights(JSON.parse(Buffer.concat(chunks).toString("utf8") || "null"), upstreams));
        } catch (e) {
          return sendJson(res, 400, { error: (e as Error).message });
        }
        Promise.resolve(opts.onChange?.({ upstreams: { ...upstreams }, weights: { ...picker.get() } })).then(
          () => sendJson(res, 200, stats()),
          (e: unknown) => sendJson(res, 500, { error: `weights set but not persisted: ${(e as Error).message}` }),
        );
      });
      return;
    }
    sendJson(res, 404, { error: `unknown admin path ${path}; use GET ${ADMIN_PREFIX}/state or PUT ${ADMIN_PREFIX}/weights` });
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const name = picker.pick();
    if (name === undefined) return sendJson(res, 503, { error: "no upstream has traffic weight" });
    const c = counters[name]!;
    c.requests += 1;
    const base = new URL(upstreams[name]!);
    const headers = { ...req.headers, host: base.host };
    delete headers.connection;
    let done = false;
    const fail = (status: number, why: string): void => {
      if (done) return;
      done = true;
      c.failed += 1;
      if (!res.headersSent) sendJson(res, status, { error: `upstream ${name} ${why}` });
      else res.destroy();
    };
    const up = http.request({ host: base.hostname, port: base.port, method: req.method, path: req.url, headers, agent, timeout: timeoutMs }, (upRes) => {
      const status = upRes.statusCode ?? 502;
      done = true;
      if (status >= 500) c.serverErrors += 1;
      else if (status >= 400) c.clientErrors += 1;
      else c.ok += 1;
      res.writeHead(status, { ...upRes.headers, "x-mlops-upstream": name });
      upRes.pipe(res);
    });
    up.on("timeout", () => {
      fail(504, "timed out");
      up.destroy();
    });
    up.on("error", (e) => fail(502, `unreachable: ${e.message}`));
    req.pipe(up);
  };

  const server = http.createServer((req, res) => {
    if ((req.url ?? "").startsWith(ADMIN_PREFIX)) admin(req, res);
    else forward(req, res);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    setWeights: (w) => picker.set(validateWeights(w, upstreams)),
    stats,
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
