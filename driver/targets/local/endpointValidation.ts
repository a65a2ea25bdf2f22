/**
 * The scoring half of a stack's validation, over HTTP: five POST /score with the smoke payload (200, one
 * finite prediction per row, each inside prediction_range), then a malformed request that must get a 4xx
 * while health keeps answering. Through PROD's router, every answer must also name the expected slot
 * (x-mlops-upstream), which proves the version under validation is the one answering.
 */
import type { DeploymentRecord, StackName, ValidationResult } from "../../core/release.js";
import { httpOk } from "../../host/httpProbe.js";
import { MALFORMED_PAYLOAD, checkPredictions, postScore, type ScoreResponse, type SmokeRequest } from "../../host/smokeRequest.js";

export interface EndpointCheck {
  ok: boolean;
  predictions: number;
  /** median of the five scoring requests */
  latencyMs: number;
  detail: string;
}

export interface EndpointCheckOptions {
  scoringUri: string;
  healthUri: string;
  smoke: SmokeRequest;
  /** through the router: the slot every answer must come from */
  expectUpstream?: string;
}

const noAnswer = (e: Error): ScoreResponse => ({ status: 0, body: e.message, latencyMs: 0 });

export async function checkEndpoint(o: EndpointCheckOptions): Promise<EndpointCheck> {
  const rows = o.smoke.payload.data.length;
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await postScore(o.scoringUri, o.smoke.payload).catch(noAnswer);
    if (r.status !== 200)
      return { ok: false, predictions: 0, latencyMs: 0, detail: `POST /score answered ${r.status || "nothing"}: ${JSON.stringify(r.body).slice(0, 160)}` };
    if (o.expectUpstream && r.upstream !== o.expectUpstream) {
      return {
        ok: false,
        predictions: 0,
        latencyMs: r.latencyMs,
        detail: `POST /score was answered by ${r.upstream ?? "no slot (no x-mlops-upstream)"}, not ${o.expectUpstream}, which serves this version`,
      };
    }
    const wrong = checkPredictions(r.body, o.smoke);
    if (wrong) return { ok: false, predictions: 0, latencyMs: r.latencyMs, detail: wrong };
    latencies.push(r.latencyMs);
  }
  const median = [...latencies].sort((a, b) => a - b)[2]!;
  const bad = await postScore(o.scoringUri, MALFORMED_PAYLOAD).catch(noAnswer);
  if (bad.status < 400 || bad.status >= 500)
    return { ok: false, predictions: rows, latencyMs: median, detail: `a malformed request got ${bad.status || "no answer"}, expected 4xx` };
  if (!(await httpOk(o.healthUri)))
    return { ok: false, predictions: rows, latencyMs: median, detail: "the stack stopped answering health after a malformed request" };
  const [lo, hi] = o.smoke.prediction_range;
  return {
    ok: true,
    predictions: rows,
    latencyMs: median,
    detail: `${rows} predictions in [${lo}, ${hi}], median ${median.toFixed(1)} ms over 5 requests${o.expectUpstream ? `, all answered by ${o.expectUpstream}` : ""}; malformed request -> ${bad.status}, still healthy`,
  };
}

/** A validation result for `deployment` on `stack`, stamped now. */
export function validationResult(
  stack: StackName,
  deployment: DeploymentRecord,
): (healthy: boolean, predictions: number, latencyMs: number, detail: string) => ValidationResult {
  return (healthy, predictions, latencyMs, detail) => ({
    stack,
    modelVersion: deployment.modelVersion,
    digest: deployment.digest,
    healthy,
    predictions,
    latencyMs: Math.round(latencyMs * 10) / 10,
    validatedAt: new Date().toISOString(),
    detail,
  });
}
