/**
 * The smoke test against an Azure ML endpoint: the payload of ml/smoke.json POSTed to the scoring URI with the
 * endpoint's credential (never logged), the answer checked by the same rules as the local target
 * (`checkPredictions`: one finite prediction per row, inside prediction_range). Network errors, HTTP errors and
 * wrong answers are all a failed validation, reported as one line.
 */
import { checkPredictions, type SmokeRequest } from "../../host/smokeRequest.js";

export interface SmokeOutcome {
  ok: boolean;
  predictions: number;
  latencyMs: number;
  detail: string;
}

/** The body as JSON; Azure ML's server may send the scoring script's JSON as a JSON-encoded string. */
export function parseScoreBody(text: string): unknown {
  try {
    const body = JSON.parse(text) as unknown;
    return typeof body === "string" ? (JSON.parse(body) as unknown) : body;
  } catch {
    return text;
  }
}

export async function runSmoke(scoringUri: string, headers: Record<string, string>, req: SmokeRequest, timeoutMs = 30_000): Promise<SmokeOutcome> {
  const t0 = Date.now();
  const origin = new URL(scoringUri).origin;
  let res: Response;
  try {
    res = await fetch(scoringUri, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(req.payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const why =
      (e as Error)?.name === "TimeoutError" ? `no answer in ${timeoutMs / 1000}s` : ((e as { cause?: { code?: string } })?.cause?.code ?? "connection failed");
    return { ok: false, predictions: 0, latencyMs: Date.now() - t0, detail: `scoring request to ${origin} failed: ${why}` };
  }
  const text = await res.text();
  const latencyMs = Date.now() - t0;
  if (!res.ok)
    return {
      ok: false,
      predictions: 0,
      latencyMs,
      detail: `scoring request to ${origin} answered HTTP ${res.status}: ${text.replace(/\s+/g, " ").slice(0, 160)}`,
    };
  const body = parseScoreBody(text);
  const problem = checkPredictions(body, req);
  const n = Array.isArray((body as { predictions?: unknown })?.predictions) ? (body as { predictions: unknown[] }).predictions.length : 0;
  if (problem) return { ok: false, predictions: n, latencyMs, detail: `smoke test failed: ${problem}` };
  const [lo, hi] = req.prediction_range;
  return { ok: true, predictions: n, latencyMs, detail: `${n} predictions within [${lo}, ${hi}] in ${latencyMs} ms` };
}
