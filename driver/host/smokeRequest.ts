/**
 * The smoke test of a deployed stack, over HTTP: health; a scoring request with the payload of
 * ml/smoke.json whose predictions must be as many as the rows, finite and inside prediction_range; then a
 * malformed request that must get a 4xx while the server keeps answering health.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ConfigError } from "../core/errors.js";

const smokeSchema = z.object({
  payload: z.object({ data: z.array(z.array(z.number())).min(1) }).passthrough(),
  prediction_range: z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo <= hi, "lo must be <= hi"),
});

export type SmokeRequest = z.infer<typeof smokeSchema>;

export async function readSmokeRequest(repoRoot: string, rel: string): Promise<SmokeRequest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path.join(repoRoot, rel), "utf8"));
  } catch (e) {
    throw new ConfigError(`${rel} (smoke.request in mlops.yaml) is missing or not JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  const r = smokeSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ConfigError(`${rel}: ${i.path.join(".") || "(top level)"}: ${i.message}; expected {"payload": {"data": [[...]]}, "prediction_range": [lo, hi]}`);
  }
  return r.data;
}

/** A request the scoring script must refuse: rows of the wrong width. */
export const MALFORMED_PAYLOAD = { data: [[1, 2, 3]] };

export interface ScoreResponse {
  status: number;
  body: unknown;
  latencyMs: number;
  /** which PROD slot answered, when the answer came through the weighted router (x-mlops-upstream) */
  upstream?: string;
}

export async function postScore(url: string, payload: unknown, timeoutMs = 15_000): Promise<ScoreResponse> {
  const started = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  const latencyMs = performance.now() - started;
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep text */
  }
  const upstream = res.headers.get("x-mlops-upstream");
  return { status: res.status, body, latencyMs, ...(upstream ? { upstream } : {}) };
}

/** The predictions array of a /score answer ({"predictions": [...]} or a bare array). */
export function predictionsOf(body: unknown): unknown[] | undefined {
  if (Array.isArray(body)) return body;
  const p = (body as { predictions?: unknown } | null)?.predictions;
  return Array.isArray(p) ? p : undefined;
}

/** undefined when the predictions are fine, else one line on what is wrong. */
export function checkPredictions(body: unknown, smoke: SmokeRequest): string | undefined {
  const preds = predictionsOf(body);
  const rows = smoke.payload.data.length;
  if (!preds) return `the answer has no predictions array: ${JSON.stringify(body).slice(0, 120)}`;
  if (preds.length !== rows) return `${preds.length} predictions for ${rows} rows`;
  const [lo, hi] = smoke.prediction_range;
  for (const [i, p] of preds.entries()) {
    if (typeof p !== "number" || !Number.isFinite(p)) return `prediction ${i} is ${JSON.stringify(p)}, not a finite number`;
    if (p < lo || p > hi) return `prediction ${i} is ${p.toPrecision(4)}, outside [${lo}, ${hi}]`;
  }
  return undefined;
}
