/**
 * Synthetic scoring traffic while a rollout step is observed, so a PROD endpoint with no users (the local
 * target) still sends the new deployment enough requests to judge. Paced at `rps` for `seconds`, at most
 * ceil(rps × seconds) requests, each with a timeout: bounded in count and time.
 */
export interface ProbeOptions {
  url: string;
  body: string;
  headers?: Record<string, string>;
  rps: number;
  seconds: number;
  timeoutMs?: number;
}

export interface ProbeSummary {
  sent: number;
  /** status code (or "error") -> count */
  outcomes: Record<string, number>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function sendProbeTraffic(opts: ProbeOptions): Promise<ProbeSummary> {
  const outcomes: Record<string, number> = {};
  if (opts.rps <= 0 || opts.seconds <= 0) {
    await sleep(Math.max(0, opts.seconds) * 1000);
    return { sent: 0, outcomes };
  }
  const total = Math.ceil(opts.rps * opts.seconds);
  const gapMs = 1000 / opts.rps;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * gapMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inflight.push(
      fetch(opts.url, {
        method: "POST",
        body: opts.body,
        headers: { "content-type": "application/json", ...(opts.headers ?? {}) },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
      }).then(
        async (res) => {
          await res.arrayBuffer();
          outcomes[res.status] = (outcomes[res.status] ?? 0) + 1;
        },
        () => {
          outcomes.error = (outcomes.error ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(inflight);
  const left = start + opts.seconds * 1000 - performance.now();
  if (left > 0) await sleep(left);
  return { sent: total, outcomes };
}
