/**
 * Shadow traffic for the weighted router: copies a share of the live requests to one upstream that takes no
 * traffic weight (the new deployment), after the live answer has been received in full, and records each pair
 * (live vs mirrored: status, latency, body up to a cap) for the driver to compare through the admin API. The
 * caller's response, status and latency come only from the live upstream:
 *
 *   - a copy is sent only once the live response has ended, on an agent of its own (never the live pool);
 *   - at most `maxInFlight` copies in flight: above that a copy is dropped (counted), never queued;
 *   - each copy has a timeout; its answer is read, recorded and dropped.
 *
 * The share is exact and deterministic: with `percent` p, p of every 100 live requests are copied (a running
 * sum, as the smooth weighted picker does). Requests whose live upstream is the mirror target are never copied.
 * The recorder keeps the last `capacity` pairs in memory (responses only, never a request body); the driver reads
 * the pairs after a sequence number and learns how many it missed.
 */
import http from "node:http";
import { copyHeaders, NOT_FORWARDED_REQUEST } from "./proxyHeaders.js";
import type { ShadowPair } from "./routerTypes.js";

export interface ShadowMirrorConfig {
  /** the upstream that receives the copies (it must have traffic weight 0) */
  to: string;
  /** whole percentage of live requests copied, 1 to 100 */
  percent: number;
  /** per copy, ms */
  timeoutMs: number;
  /** copies in flight at most; more are dropped */
  maxInFlight: number;
}

export interface ShadowMirrorState {
  /** null: not mirroring */
  config: ShadowMirrorConfig | null;
  /** sequence number of the last recorded pair (read pairs after it from now on) */
  lastSeq: number;
  /** copies sent, answered (any status), failed (no answer), dropped (too many in flight): monotonic */
  sent: number;
  answered: number;
  failed: number;
  dropped: number;
  inFlight: number;
  /** pairs after the requested sequence number that were evicted before this read */
  missed: number;
  pairs: ShadowPair[];
}

/** What the router tells the mirror about one live request chosen for copying. */
export interface LiveTap {
  /** the live upstream answered: its response (being piped to the caller) is read alongside */
  answered(status: number, upRes: http.IncomingMessage): void;
}

export interface ShadowMirrorOptions {
  upstreams: Readonly<Record<string, string>>;
  /** current traffic weights, to refuse mirroring to an upstream that takes live traffic */
  weights: () => Readonly<Record<string, number>>;
  /** pairs kept in memory (default 2000) */
  capacity?: number;
  /** response bodies recorded up to this size, bytes (default 8 KiB); a larger one is recorded without body */
  maxBodyBytes?: number;
}

const DEFAULTS = { timeoutMs: 5_000, maxInFlight: 4 };

const intIn = (v: unknown, lo: number, hi: number, what: string): number => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi)
    throw new RangeError(`${what} must be an integer from ${lo} to ${hi}, not ${JSON.stringify(v)}`);
  return v;
};

/** Validates a PUT /-/router/shadow body: {"to": "green", "percent": 50} (optional timeoutMs, maxInFlight), or {"percent": 0} to stop. */
export function validateShadowConfig(body: unknown, o: Pick<ShadowMirrorOptions, "upstreams" | "weights">): ShadowMirrorConfig | null {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new RangeError('shadow must be an object such as {"to": "green", "percent": 50}, or {"percent": 0} to stop');
  const b = body as Record<string, unknown>;
  const known = new Set(["to", "percent", "timeoutMs", "maxInFlight"]);
  const extra = Object.keys(b).filter((k) => !known.has(k));
  if (extra.length) throw new RangeError(`unknown shadow key(s) ${extra.join(", ")}; known: ${[...known].join(", ")}`);
  const percent = intIn(b.percent, 0, 100, "shadow percent");
  if (percent === 0) return null;
  const to = b.to;
  if (typeof to !== "string" || !(to in o.upstreams))
    throw new RangeError(`shadow 'to' must name an upstream (${Object.keys(o.upstreams).join(", ")}), not ${JSON.stringify(to)}`);
  const w = o.weights()[to] ?? 0;
  if (w > 0) throw new RangeError(`${to} takes ${w}% of the live traffic; mirror only to an upstream with weight 0`);
  return {
    to,
    percent,
    timeoutMs: b.timeoutMs === undefined ? DEFAULTS.timeoutMs : intIn(b.timeoutMs, 1, 60_000, "shadow timeoutMs"),
    maxInFlight: b.maxInFlight === undefined ? DEFAULTS.maxInFlight : intIn(b.maxInFlight, 1, 64, "shadow maxInFlight"),
  };
}

/** Reads a response's body up to `cap` bytes (undefined above it), calling `done` once at its end or failure. */
function readCapped(res: http.IncomingMessage, cap: number, done: (body: string | undefined, error?: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  let finished = false;
  const finish = (body: string | undefined, error?: string): void => {
    if (finished) return;
    finished = true;
    done(body, error);
  };
  res.on("data", (c: Buffer) => {
    size += c.length;
    if (size > cap) {
      over = true;
      chunks.length = 0;
    } else if (!over) chunks.push(c);
  });
  res.on("end", () => finish(over ? undefined : Buffer.concat(chunks, size).toString("utf8")));
  res.on("error", (e) => finish(undefined, e.message));
  res.on("aborted", () => finish(undefined, "aborted"));
}

export class ShadowMirror {
  private config: ShadowMirrorConfig | null = null;
  /** bumped on every change, so a copy decided under an old config is not sent under a new one */
  private generation = 0;
  private acc = 0;
  private seq = 0;
  private readonly ring: ShadowPair[] = [];
  private readonly counts = { sent: 0, answered: 0, failed: 0, dropped: 0 };
  private inFlight = 0;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly capacity: number;
  private readonly maxBodyBytes: number;

  constructor(private readonly o: ShadowMirrorOptions) {
    this.capacity = o.capacity ?? 2000;
    this.maxBodyBytes = o.maxBodyBytes ?? 8 * 1024;
  }

  /** Validates and applies a PUT body (RangeError when invalid); returns the state without pairs. */
  configure(body: unknown): ShadowMirrorState {
    this.config = validateShadowConfig(body, this.o);
    this.generation += 1;
    this.acc = 0;
    return this.read(this.seq);
  }

  describe(): string {
    return this.config ? `${this.config.percent}% to ${this.config.to}` : "off";
  }

  /** Called for each live request about to be forwarded to `live`; a tap when this one is copied. */
  tap(live: string, req: http.IncomingMessage, body: Buffer): LiveTap | undefined {
    const c = this.config;
    if (!c || live === c.to) return undefined;
    this.acc += c.percent;
    if (this.acc < 100) return undefined;
    this.acc -= 100;
    const gen = this.generation;
    const t0 = performance.now();
    const { method, url, rawHeaders } = req;
    return {
      answered: (status, upRes) =>
        readCapped(upRes, this.maxBodyBytes, (liveBody, error) => {
          if (error) return; // the live answer broke off: nothing to compare with
          const liveAnswer = { upstream: live, status, ms: performance.now() - t0, ...(liveBody !== undefined ? { body: liveBody } : {}) };
          if (gen === this.generation && this.config) this.send(this.config, method ?? "POST", url ?? "/", rawHeaders, body, liveAnswer);
        }),
    };
  }

  private send(c: ShadowMirrorConfig, method: string, path: string, rawHeaders: readonly string[], body: Buffer, live: ShadowPair["live"]): void {
    if (this.inFlight >= c.maxInFlight) {
      this.counts.dropped += 1;
      return;
    }
    this.inFlight += 1;
    this.counts.sent += 1;
    const base = new URL(this.o.upstreams[c.to]!);
    const headers = copyHeaders(rawHeaders, NOT_FORWARDED_REQUEST, "host", base.host, "content-length", String(body.length), "x-mlops-shadow", "1");
    const t0 = performance.now();
    let done = false;
    const record = (status: number, shadowBody: string | undefined, error?: string): void => {
      if (done) return;
      done = true;
      this.inFlight -= 1;
      if (status === 0) this.counts.failed += 1;
      else this.counts.answered += 1;
      const shadow = {
        upstream: c.to,
        status,
        ms: performance.now() - t0,
        ...(shadowBody !== undefined ? { body: shadowBody } : {}),
        ...(error ? { error } : {}),
      };
      this.ring.push({ seq: ++this.seq, live, shadow });
      if (this.ring.length > this.capacity) this.ring.shift();
    };
    const up = http.request({ host: base.hostname, port: base.port, method, path, headers, agent: this.agent, timeout: c.timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      readCapped(res, this.maxBodyBytes, (b, error) => record(error ? 0 : status, b, error));
    });
    up.on("timeout", () => {
      record(0, undefined, `timed out after ${c.timeoutMs} ms`);
      up.destroy();
    });
    up.on("error", (e) => record(0, undefined, e.message));
    up.end(body);
  }

  /** The state and the pairs recorded after sequence number `after`. */
  read(after: number): ShadowMirrorState {
    const first = this.ring[0]?.seq ?? this.seq + 1;
    return {
      config: this.config ? { ...this.config } : null,
      lastSeq: this.seq,
      ...this.counts,
      inFlight: this.inFlight,
      missed: Math.max(0, first - after - 1),
      pairs: this.ring.filter((p) => p.seq > after),
    };
  }

  close(): void {
    this.config = null;
    this.agent.destroy();
  }
}
