/**
 * One load level: `concurrency` connections, each with one request in flight, for `durationS` seconds, with
 * autocannon. Every response time is kept (autocannon's histogram has no p95 and whole-millisecond
 * resolution) and ranked exactly. Bounded: autocannon stops itself after the duration, a watchdog stops it if
 * it does not, and at most `maxSamples` response times are kept.
 *
 * Response time = the time since the same connection's previous response (its first: autocannon's own
 * figure). With one request in flight per connection the next request is written the moment the previous
 * response is read, so on a keep-alive server this is autocannon's figure; on a server that closes the
 * connection after every response (azmlinfsrv's gunicorn does) autocannon 8 queues a second pending request
 * on reconnect and times later responses from stale start times (p50 ~500 ms for a 2 ms endpoint), while
 * the cycle time stays right and includes the reconnect every client of such a server pays.
 */
import autocannon from "autocannon";
import { percentile, sortedCopy } from "./percentiles.js";

export interface LoadRequest {
  url: string;
  /** JSON body sent with every request (POST). */
  body: string;
  /** Extra headers, e.g. an endpoint key; never logged. */
  headers?: Record<string, string>;
  /** Per-request timeout, seconds. */
  timeoutS?: number;
}

export interface LevelMeasurement {
  concurrency: number;
  durationS: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

const MAX_SAMPLES = 2_000_000;

export async function runLoadLevel(req: LoadRequest, concurrency: number, durationS: number, maxSamples = MAX_SAMPLES): Promise<LevelMeasurement> {
  const timeoutS = req.timeoutS ?? 10;
  let times = new Float64Array(4096);
  let n = 0;
  let ok = 0;
  let non2xx = 0;
  const lastResponseAt = new Map<object, number>();
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: req.url,
        method: "POST",
        body: req.body,
        headers: { "content-type": "application/json", ...(req.headers ?? {}) },
        connections: concurrency,
        pipelining: 1,
        duration: durationS,
        timeout: timeoutS,
        // autocannon checks for the end of the run once per sample interval (1 s by default): sample every
        // 100 ms so a level lasts its duration, not the next whole second
        sampleInt: 100,
        // request loops are bounded in time (duration) and, as a second guard, in count
        maxOverallRequests: maxSamples,
      },
      (err: unknown, res: autocannon.Result) => {
        clearTimeout(watchdog);
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve(res);
      },
    );
    const watchdog = setTimeout(() => instance.stop(), (durationS + timeoutS + 5) * 1000);
    instance.on("response", (client, statusCode, _bytes, autocannonTime) => {
      const at = performance.now();
      const last = lastResponseAt.get(client);
      lastResponseAt.set(client, at);
      const responseTime = last === undefined ? autocannonTime : at - last;
      if (statusCode >= 200 && statusCode < 300) ok += 1;
      else non2xx += 1;
      if (n >= maxSamples) return;
      if (n === times.length) {
        const grown = new Float64Array(Math.min(maxSamples, times.length * 2));
        grown.set(times);
        times = grown;
      }
      times[n++] = responseTime;
    });
  });
  const elapsedS = Math.max(result.duration || 0, (performance.now() - started) / 1000 - 0.05);
  const sorted = sortedCopy(times.subarray(0, n));
  return {
    concurrency,
    durationS: Number(elapsedS.toFixed(2)),
    requests: ok + non2xx,
    ok,
    non2xx,
    errors: result.errors,
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    p99Ms: percentile(sorted, 99),
    maxMs: n ? sorted[n - 1]! : 0,
  };
}
